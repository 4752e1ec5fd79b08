//go:build chdb

package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// An ad hoc statement is never starved: with other statements always waiting for the engine
// (two loops that each take it as soon as it is free, as a loaded dashboard and enrich do), it
// gets the engine soon after adhocPatience, behind the statements that were waiting.
func TestAdHocIsNotStarved(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var others atomic.Int64
	for range 3 {
		wg.Go(func() {
			for ctx.Err() == nil {
				lock()
				time.Sleep(2 * time.Millisecond) // a short statement
				others.Add(1)
				unlock()
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()
	time.Sleep(50 * time.Millisecond)
	qctx, qcancel := context.WithTimeout(context.Background(), 4*adhocPatience)
	defer qcancel()
	began := time.Now()
	if err := lockAdHoc(qctx); err != nil {
		t.Fatalf("the ad hoc statement never got the engine while other statements kept it busy (%d ran): %v", others.Load(), err)
	}
	took := time.Since(began)
	unlock()
	if took < adhocPatience {
		t.Errorf("the ad hoc statement went first after %v, with other statements waiting; it should let them go for %v", took, adhocPatience)
	}
	t.Logf("ad hoc waited %v while %d other statements ran", took.Round(time.Millisecond), others.Load())
}
