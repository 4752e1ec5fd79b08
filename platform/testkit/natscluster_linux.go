package testkit

import "syscall"

// killWithParent has the kernel kill a node's process when the test binary dies without
// cleaning up (a panic, a test timeout), so that no server outlives its test.
func killWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
