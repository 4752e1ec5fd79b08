//go:build chdb && !linux

package store

// keepGoSignals is a no-op where the engine's signal handlers are not known to replace the Go
// runtime's (see chdb_signals.go).
func keepGoSignals() (restore func()) { return func() {} }
