package store_test

import (
	"context"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// splitIDs returns the ids of contributions whose rows lie in more than one partition, counted
// without FINAL: each such id is a duplicate that no merge removes.
func splitIDs(t *testing.T, s *store.Store) []string {
	t.Helper()
	res, err := s.Query(context.Background(), "SELECT id FROM contributions GROUP BY id HAVING uniqExact(_partition_id) > 1 ORDER BY id", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range res.Rows {
		ids = append(ids, store.AsString(r[0]))
	}
	return ids
}

// A later version of a commit dated in another month, and a pull request seen twice across a
// month's end in one batch, stay in the partition of their first version once placed; inserted
// without placing, the same versions split across partitions and are counted twice by a reader
// that deduplicates partition by partition.
func TestPlacedVersionsKeepTheFirstPartition(t *testing.T) {
	ctx := context.Background()
	feb := time.Date(2025, 2, 1, 0, 30, 0, 0, time.UTC)
	commit := events.Contribution{ID: "commit:a/b@1", Kind: events.KindCommit, OccurredAt: feb, Repo: "a/b", RepoOwner: "a", Version: 1}
	later := commit
	later.OccurredAt, later.Version = time.Date(2025, 1, 31, 22, 0, 0, 0, time.UTC), 2
	pr := events.Contribution{ID: "pr:a/b#7", Kind: events.KindPullRequest, OccurredAt: time.Date(2025, 3, 31, 23, 0, 0, 0, time.UTC), Repo: "a/b", RepoOwner: "a", Version: 1}
	prLater := pr
	prLater.OccurredAt, prLater.Version = time.Date(2025, 4, 1, 0, 10, 0, 0, time.UTC), 2
	// Every kind is placed: two deliveries of one issue may carry different creation times.
	issue := events.Contribution{ID: "issue:a/b#8", Kind: events.KindIssue, OccurredAt: feb, Repo: "a/b", RepoOwner: "a", Version: 1}
	issueLater := issue
	issueLater.OccurredAt, issueLater.Version = time.Date(2025, 5, 3, 9, 0, 0, 0, time.UTC), 2
	batches := [][]events.Contribution{{commit}, {later, pr, prLater, issue}, {issueLater}}

	final := func(t *testing.T, s *store.Store) int64 {
		t.Helper()
		res, err := s.Query(ctx, "SELECT count() FROM contributions FINAL", store.Settings{"do_not_merge_across_partitions_select_final": 1})
		if err != nil {
			t.Fatal(err)
		}
		return store.AsInt(res.Rows[0][0])
	}
	t.Run("placed", func(t *testing.T) {
		s := testkit.Store(t)
		for _, b := range batches {
			b = append([]events.Contribution(nil), b...)
			p, err := s.PlaceContributions(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if p.Len() != len(b) {
				t.Fatalf("placed %d of %d contributions", p.Len(), len(b))
			}
			if err := s.InsertPlaced(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if ids := splitIDs(t, s); len(ids) != 0 {
			t.Fatalf("ids in more than one partition: %v", ids)
		}
		if n := final(t, s); n != 3 {
			t.Fatalf("FINAL per partition counts %d contributions, want 3", n)
		}
		res, err := s.Query(ctx, "SELECT id, toString(occurred_at) FROM contributions FINAL ORDER BY id", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := [][2]string{{"commit:a/b@1", "2025-02-01 00:30:00.000"}, {"issue:a/b#8", "2025-02-01 00:30:00.000"}, {"pr:a/b#7", "2025-03-31 23:00:00.000"}}
		for i, r := range res.Rows {
			if i >= len(want) || store.AsString(r[0]) != want[i][0] || store.AsString(r[1]) != want[i][1] {
				t.Fatalf("stored %v, want %v", res.Rows, want)
			}
		}
	})
	t.Run("not placed", func(t *testing.T) {
		s := testkit.Store(t)
		for _, b := range batches {
			if err := s.InsertContributions(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if ids := splitIDs(t, s); len(ids) != 3 {
			t.Fatalf("ids in more than one partition: %v, want the commit, the issue and the pull request", ids)
		}
		if n := final(t, s); n != 6 {
			t.Fatalf("FINAL per partition counts %d contributions, want 6 (three counted twice)", n)
		}
	})
}
