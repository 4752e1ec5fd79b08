package enrich_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine they started outlives them: every
// consumer, watcher and loop must be joined when its context ends.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
