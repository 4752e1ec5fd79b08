//go:build chdb && linux

package store_test

import (
	"context"
	"testing"

	"giveback.dev/platform/testkit"
)

// With a chDB session open, a nil pointer dereference in Go code is still a panic that can be
// recovered, and the engine goes on answering: the session does not keep the Go runtime's
// signal handlers replaced by its own (which would kill the process with SIGSEGV instead).
func TestNilDereferenceStaysAPanicWithChDB(t *testing.T) {
	st := testkit.Store(t)
	recovered := func() (r any) {
		defer func() { r = recover() }()
		var p *struct{ n int }
		return p.n
	}()
	if recovered == nil {
		t.Fatal("the nil dereference did not panic")
	}
	res, err := st.Query(context.Background(), "SELECT 1", nil)
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("chDB after a recovered panic: %v %v", res, err)
	}
}
