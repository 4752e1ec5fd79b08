//go:build !linux

package testkit

import "syscall"

// killWithParent is nil where the kernel cannot kill a child with its parent: a node's process
// outlives a test binary that dies without cleaning up.
func killWithParent() *syscall.SysProcAttr { return nil }
