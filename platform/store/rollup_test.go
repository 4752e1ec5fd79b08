package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// freshMonths returns the months store.RollupMonthsSQL says are fresh.
func freshMonths(t *testing.T, s *store.Store) []int64 {
	t.Helper()
	fresh, _ := rollupMonths(t, s)
	return fresh
}

// rollupMonths returns the months store.RollupMonthsSQL says are fresh, and every month it lists.
func rollupMonths(t *testing.T, s *store.Store) (fresh, stored []int64) {
	t.Helper()
	res, err := s.Query(context.Background(), store.RollupMonthsSQL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return store.RollupMonths(res)
}

// Compaction rebuilds the rollups of the months that changed; a month is current until a write
// in it, not before its rebuild and not after a later insert, and a merge alone keeps it
// current. Every write counts in the store's generation, also through a ReadThrough store.
func TestRollupsFollowCompaction(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	at := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	c := events.Contribution{ID: "pr:a/b#1", Kind: events.KindPullRequest, OccurredAt: at, EmployeeID: "e1", Team: "core",
		Repo: "a/b", RepoOwner: "a", Destination: "upstream", IsUpstream: true, State: "open", Version: 1}
	gen := s.Generation()
	if err := s.InsertContributions(ctx, []events.Contribution{c}); err != nil {
		t.Fatal(err)
	}
	if s.Generation() == gen {
		t.Fatal("an insert did not change the generation")
	}
	if fresh, stored := rollupMonths(t, s); len(fresh) != 0 || !slices.Equal(stored, []int64{202501}) {
		t.Fatalf("months %v, current %v before any rebuild, want 202501 and none current", stored, fresh)
	}
	if _, err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := freshMonths(t, s); len(got) != 1 || got[0] != 202501 {
		t.Fatalf("current months %v after compaction, want 202501", got)
	}
	closed := at.Add(48 * time.Hour)
	c.Version, c.State, c.ClosedAt = 2, "closed", &closed
	read := s.ReadThrough(func(ctx context.Context, q string, st store.Settings, next func(context.Context) (*store.Result, error)) (*store.Result, error) {
		return next(ctx)
	})
	gen = s.Generation()
	if err := read.InsertContributions(ctx, []events.Contribution{c}); err != nil {
		t.Fatal(err)
	}
	if s.Generation() == gen || read.Generation() != s.Generation() {
		t.Fatalf("generation %d before, %d after, %d through ReadThrough; want a change seen by both", gen, s.Generation(), read.Generation())
	}
	if got := freshMonths(t, s); len(got) != 0 {
		t.Fatalf("current months %v after an insert, want none", got)
	}
	if err := s.Conn().Exec(ctx, "OPTIMIZE TABLE contributions FINAL"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RefreshRollups(ctx); err != nil || n != 1 {
		t.Fatalf("refresh rebuilt %d months (%v), want 1", n, err)
	}
	res, err := s.Query(ctx, "SELECT sum(closed) FROM decisions_rollup WHERE all_teams = 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if store.AsInt(res.Rows[0][0]) != 1 {
		t.Fatalf("decisions rolled up: %v, want the closed pull request", res.Rows)
	}
	if n, err := s.Compact(ctx); err != nil || n != 0 {
		t.Fatalf("compaction merged %d (%v), want nothing left to merge", n, err)
	}
	if got := freshMonths(t, s); len(got) != 1 {
		t.Fatalf("current months %v after a compaction with nothing to do, want 202501", got)
	}
}
