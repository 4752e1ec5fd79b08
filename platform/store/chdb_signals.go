//go:build chdb && linux

package store

import (
	"syscall"
	"unsafe"
)

// chDB's engine installs its own handlers for the synchronous signals (SIGSEGV, SIGBUS, SIGFPE,
// SIGILL, SIGTRAP, SIGABRT, SIGSYS) and for SIGTSTP when a session opens, replacing the Go
// runtime's. The Go runtime turns a nil pointer dereference into a panic through its SIGSEGV
// handler; with ClickHouse's in its place, the engine instead declares a fatal error, shuts itself
// down under the running statements and the process dies of SIGSEGV, without a Go trace, even for
// a panic the Go code would have recovered from. keepGoSignals takes the handlers the process had
// before the session opened and puts them back after.
var engineSignals = []syscall.Signal{syscall.SIGILL, syscall.SIGTRAP, syscall.SIGABRT, syscall.SIGBUS,
	syscall.SIGFPE, syscall.SIGSEGV, syscall.SIGSYS, syscall.SIGTSTP}

// sigaction is the kernel's struct sigaction, read and written back unchanged: its layout does
// not matter here, only its size (handler, flags, restorer and an 8-byte mask on amd64 and arm64).
type sigaction [4]uint64

// keepGoSignals saves the current handlers and returns the function that restores them.
func keepGoSignals() (restore func()) {
	saved := make(map[syscall.Signal]*sigaction, len(engineSignals))
	for _, sig := range engineSignals {
		var old sigaction
		if rtSigaction(sig, nil, &old) == nil {
			saved[sig] = &old
		}
	}
	return func() {
		for sig, act := range saved {
			_ = rtSigaction(sig, act, nil) // a signal that cannot be set keeps the engine's handler
		}
	}
}

func rtSigaction(sig syscall.Signal, act, old *sigaction) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
