package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"giveback.dev/platform/config"
)

// `giveback up --demo` starts with the demo company's dependency list imported from its
// services' go.mod files, and once the generated history is in, the dashboard's cycle shows
// dependencies the company contributed to and ones it did not; a second start keeps the list.
func TestDemoCycle(t *testing.T) {
	requireChDB(t)
	dataDir := t.TempDir()
	start := func(ctx context.Context) *stack {
		cfg := config.Default()
		cfg.HTTP.Addr, cfg.NATS.ListenAddr = "127.0.0.1:0", "127.0.0.1:0"
		s, err := startStack(ctx, stackOptions{cfg: cfg, dataDir: dataDir, demo: true, log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cycle := func(s *stack) (deps, contributed, covered int64) {
		resp, err := http.Get("http://" + s.httpAddr.String() + "/api/v1/metrics/cycle?from=2024-01-01")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var c struct{ Dependencies, Contributed, Covered int64 }
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("cycle: status %d, %v", resp.StatusCode, err)
		}
		return c.Dependencies, c.Contributed, c.Covered
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := start(ctx)
	// 16 repositories: the modules of the six services' go.mod files, helm's vanity path unmapped.
	if n, _, _ := cycle(s); n != 16 {
		t.Fatalf("the demo starts with %d dependencies, want 16", n)
	}
	var contributed, covered int64
	waitFor(t, 150*time.Second, "the demo history to reach the dependencies", func() bool {
		_, contributed, covered = cycle(s)
		return contributed >= 5 && covered >= 5
	})
	if contributed == 16 {
		t.Fatal("the demo contributed to every dependency; the cycle shows no gap")
	}
	cancel()
	if err := s.wait(); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	s2 := start(ctx2)
	if n, _, _ := cycle(s2); n != 16 {
		t.Fatalf("after a restart %d dependencies, want the same 16", n)
	}
	cancel2()
	if err := s2.wait(); err != nil {
		t.Fatal(err)
	}
}
