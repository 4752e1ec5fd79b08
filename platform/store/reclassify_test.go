package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/repoclass"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// classified returns contributions to repo, flagged against list as enrich flags them.
func classified(list map[string]int, repo string, ids []string, version uint64, at time.Time) []events.Contribution {
	cls, err := repoclass.New(nil, nil, list)
	if err != nil {
		panic(err)
	}
	k := cls.Classify(repoclass.Repo{Name: repo, Public: true}, "ann")
	out := make([]events.Contribution, len(ids))
	for i, id := range ids {
		out[i] = events.Contribution{ID: id, Kind: events.KindPullRequest, OccurredAt: at, ActorLogin: "ann", Repo: repo,
			IsUpstream: true, Title: "t", State: "open", Source: events.SourceGHArchive, Version: version,
			Destination: k.Destination, Foundation: k.Foundation, IsDependency: k.IsDependency, DependencyCriticality: k.Criticality}
	}
	return out
}

func rows(t testing.TB, s *store.Store, q string) [][]any {
	t.Helper()
	res, err := s.Query(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows
}

// mutations counts the mutations of contributions so far.
func mutations(t testing.TB, s *store.Store) int64 {
	t.Helper()
	return store.AsInt(rows(t, s, "SELECT uniqExact(mutation_id) FROM system.mutations WHERE database = currentDatabase() AND table = 'contributions'")[0][0])
}

func TestReclassifyDependencies(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	jan := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	feb := jan.AddDate(0, 1, 0)
	old := map[string]int{"org/a": 1, "Org/B": 2}
	// Two versions of each, inserted apart (separate parts, not merged yet), over two partitions;
	// names in another case, or with stray spaces, match as Classify matches them.
	var batches [][]events.Contribution
	for _, v := range []uint64{1, 2} {
		var b []events.Contribution
		b = append(b, classified(old, "Org/A", []string{"pr:a1", "pr:a2"}, v, jan)...)
		b = append(b, classified(old, "org/a ", []string{"pr:a3"}, v, feb)...)
		b = append(b, classified(old, "org/b", []string{"pr:b1"}, v, feb)...)
		b = append(b, classified(old, "org/c", []string{"pr:c1", "pr:c2"}, v, jan)...)
		b = append(b, classified(old, "other/x", []string{"pr:x1"}, v, jan)...)
		b = append(b, classified(map[string]int{"other/y": 7}, "other/y", []string{"pr:y1"}, v, feb)...)
		batches = append(batches, b)
	}
	for _, b := range batches {
		if err := s.InsertContributions(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if got := rows(t, s, "SELECT count() FROM contributions WHERE is_dependency = 1 AND repo = 'Org/A' AND dependency_criticality = 1"); store.AsInt(got[0][0]) != 4 {
		t.Fatalf("before: %v rows of Org/A flagged by the old list, want 4", got)
	}
	const everyRow = "SELECT id, version, toString(stored_at), repo, is_dependency, dependency_criticality, destination, title FROM contributions ORDER BY id, version"
	const others = "SELECT * FROM contributions WHERE repo LIKE 'other/%' ORDER BY id, version"
	before, othersBefore := rows(t, s, everyRow), rows(t, s, others)
	if len(before) != 16 || len(othersBefore) != 4 {
		t.Fatalf("before: %d rows, %d of other repos", len(before), len(othersBefore))
	}

	// b is gone, c comes in at 3, a's criticality changes; other/y keeps the flags it was stored
	// with (a list of its own), which the new list does not hold either: it is reset too.
	list := map[string]int{"ORG/A": 5, "org/c": 3, "unused/repo": 9}
	if err := s.ReclassifyDependencies(ctx, list); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int64{"pr:a1": {1, 5}, "pr:a2": {1, 5}, "pr:a3": {1, 5}, "pr:b1": {0, 0}, "pr:c1": {1, 3}, "pr:c2": {1, 3}, "pr:x1": {0, 0}, "pr:y1": {0, 0}}
	check := func(when string) {
		t.Helper()
		got := rows(t, s, "SELECT id, is_dependency, dependency_criticality FROM contributions FINAL ORDER BY id")
		if len(got) != len(want) {
			t.Fatalf("%s: %d contributions, want %d: %v", when, len(got), len(want), got)
		}
		for _, r := range got {
			id := store.AsString(r[0])
			if w := want[id]; store.AsInt(r[1]) != w[0] || store.AsInt(r[2]) != w[1] {
				t.Errorf("%s: %s flagged (%v, %v), want %v", when, id, r[1], r[2], w)
			}
		}
		// Every stored version carries the new flags, not only the newest.
		for _, r := range rows(t, s, "SELECT id, version, is_dependency, dependency_criticality FROM contributions ORDER BY id, version") {
			if w := want[store.AsString(r[0])]; store.AsInt(r[2]) != w[0] || store.AsInt(r[3]) != w[1] {
				t.Errorf("%s: %s version %v flagged (%v, %v), want %v", when, r[0], r[1], r[2], r[3], w)
			}
		}
	}
	check("after")
	after := rows(t, s, everyRow)
	if len(after) != len(before) {
		t.Fatalf("%d rows after, %d before", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		// Only the flags may change: id, version, stored_at, repo and the rest stay.
		if !reflect.DeepEqual(b[:4], a[:4]) || !reflect.DeepEqual(b[6:], a[6:]) {
			t.Errorf("row %d changed beyond its flags: %v → %v", i, b, a)
		}
	}
	othersAfter := rows(t, s, others)
	for i := range othersBefore {
		if store.AsString(othersBefore[i][0]) == "pr:y1" {
			continue
		}
		if !reflect.DeepEqual(othersBefore[i], othersAfter[i]) {
			t.Errorf("a contribution to a repository outside both lists changed: %v → %v", othersBefore[i], othersAfter[i])
		}
	}

	// Nothing differs any more: a second run writes nothing.
	n := mutations(t, s)
	if err := s.ReclassifyDependencies(ctx, list); err != nil {
		t.Fatal(err)
	}
	if m := mutations(t, s); m != n {
		t.Errorf("a run with nothing to change made %d mutations", m-n)
	}
	check("again")

	// An empty list clears every flag.
	if err := s.ReclassifyDependencies(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for id := range want {
		want[id] = [2]int64{}
	}
	check("empty list")
}

// bigList returns n repositories with long names (so the statements need more than one ALTER)
// and their criticality.
func bigList(n, shift int) map[string]int {
	m := make(map[string]int, n)
	for i := range n {
		m[bigRepo(i)] = (i+shift)%7 + 1
	}
	return m
}

func bigRepo(i int) string {
	return fmt.Sprintf("Big-Organisation-With-A-Long-Name/repository-%06d", i)
}

func TestReclassifyDependenciesBigList(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var cs []events.Contribution
	for i := range 6000 { // 5,000 listed, 1,000 not
		cs = append(cs, classified(nil, bigRepo(i), []string{fmt.Sprintf("pr:%d", i)}, 1, at)...)
	}
	if err := s.InsertContributions(ctx, cs); err != nil {
		t.Fatal(err)
	}
	for shift := range 2 {
		list := bigList(5000, shift)
		n := mutations(t, s)
		if err := s.ReclassifyDependencies(ctx, list); err != nil {
			t.Fatal(err)
		}
		// 5,000 names of 50 characters do not fit in one statement of max_query_size (256 KiB).
		if m := mutations(t, s) - n; m < 2 {
			t.Errorf("shift %d: %d mutations, want the list split over at least 2", shift, m)
		}
		got := rows(t, s, "SELECT repo, is_dependency, dependency_criticality FROM contributions FINAL")
		if len(got) != 6000 {
			t.Fatalf("%d rows, want 6000", len(got))
		}
		bad := 0
		for _, r := range got {
			c, ok := list[store.AsString(r[0])]
			if store.AsInt(r[1]) != map[bool]int64{true: 1}[ok] || store.AsInt(r[2]) != int64(c) {
				bad++
			}
		}
		if bad > 0 {
			t.Fatalf("shift %d: %d rows flagged wrong", shift, bad)
		}
	}
}

// BenchmarkReclassifyDependencies re-flags 100,000 contributions (20,000 repositories, inserted
// in 10 batches over 12 monthly partitions) against a 5,000-repository list whose
// criticalities all change; then the same once the table is compacted to one part a partition;
// then a run with nothing left to change. It reports the active parts and the slowest read that
// ran beside the re-flagging.
func BenchmarkReclassifyDependencies(b *testing.B) {
	s := testkit.Store(b)
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for part := range 10 {
		cs := make([]events.Contribution, 0, 10000)
		for i := range 10000 {
			n := part*10000 + i
			cs = append(cs, events.Contribution{ID: fmt.Sprintf("pr:%d", n), Kind: events.KindPullRequest,
				OccurredAt: start.Add(time.Duration(n%365) * 24 * time.Hour), ActorLogin: "ann", Repo: bigRepo(n % 20000),
				Title: "t", State: "open", Source: events.SourceGHArchive, Version: 1})
		}
		if err := s.InsertContributions(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
	parts := func() float64 {
		return float64(store.AsInt(rows(b, s, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'contributions' AND active")[0][0]))
	}
	changed := func(b *testing.B) {
		n := parts()
		var slowest time.Duration
		for i := 0; b.Loop(); i++ {
			done := make(chan struct{})
			reads := make(chan time.Duration)
			go func() {
				var worst time.Duration
				for {
					select {
					case <-done:
						reads <- worst
						return
					case <-time.After(50 * time.Millisecond):
					}
					t0 := time.Now()
					if _, err := s.Query(ctx, "SELECT count() FROM contributions", nil); err != nil {
						b.Error(err)
					}
					worst = max(worst, time.Since(t0))
				}
			}()
			err := s.ReclassifyDependencies(ctx, bigList(5000, i%2))
			close(done)
			slowest = max(slowest, <-reads)
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(n, "parts")
		b.ReportMetric(float64(slowest.Milliseconds()), "max-read-ms")
	}
	b.Run("changed", changed)
	b.Run("changed_compacted", func(b *testing.B) {
		if _, err := s.Compact(ctx); err != nil {
			b.Fatal(err)
		}
		changed(b)
	})
	b.Run("unchanged", func(b *testing.B) {
		list := bigList(5000, 0)
		if err := s.ReclassifyDependencies(ctx, list); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := s.ReclassifyDependencies(ctx, list); err != nil {
				b.Fatal(err)
			}
		}
	})
}
