package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// The store suite runs on chDB always and on a ClickHouse server when
// GIVEBACK_TEST_CLICKHOUSE_DSN is set (testkit.Store picks).

func TestMigrateIsIdempotent(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	res, err := s.Query(ctx, "SELECT count() FROM schema_migrations FINAL", nil)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if got := store.AsInt(res.Rows[0][0]); got != int64(len(ms)) {
		t.Fatalf("schema_migrations has %d versions, want %d", got, len(ms))
	}
}

// The rollup tables a page reads a few rows of have small granules (migrations 0018, 0020),
// swapped in with the columns and keys they had; the ones pages scan at length keep the
// default.
func TestRollupGranules(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	res, err := s.Query(ctx, `SELECT name, engine_full, (SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = t.name)
FROM system.tables AS t WHERE database = currentDatabase() AND name LIKE '%_rollup' ORDER BY name`, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		small   bool
		columns int64
	}{"contributions_rollup": {true, 12}, "decisions_rollup": {true, 8}, "people_rollup": {true, 11},
		"repos_rollup": {false, 15}, "prs_rollup": {false, 20}, "answers_rollup": {false, 5}, "newcomers_rollup": {false, 8}, "merges_rollup": {false, 7}, "logins_rollup": {false, 2}, "community_rollup": {false, 6}, "merge_days_rollup": {false, 4}, "team_repos_rollup": {true, 9}}
	for _, r := range res.Rows {
		name, engine := store.AsString(r[0]), store.AsString(r[1])
		w, ok := want[name]
		if !ok {
			t.Errorf("rollup table %s is not known to this test", name)
			continue
		}
		delete(want, name)
		if small := strings.Contains(engine, "index_granularity = 256"); small != w.small || !strings.Contains(engine, "PARTITION BY src") {
			t.Errorf("%s: %s; want small granules %v, partitioned by src", name, engine, w.small)
		}
		if n := store.AsInt(r[2]); n != w.columns {
			t.Errorf("%s has %d columns, want %d", name, n, w.columns)
		}
	}
	if len(want) > 0 {
		t.Errorf("rollup tables missing: %v", want)
	}
}

func TestContributionsNewestVersionWins(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	merged := created.Add(48 * time.Hour)
	pr := events.Contribution{ID: "pr:acme/x#1", Kind: events.KindPullRequest, OccurredAt: created, ActorLogin: "ann",
		EmployeeID: "e1", Team: "core", Repo: "acme/x", RepoOwner: "acme", IsUpstream: true, Number: 1,
		Title: `it's "quoted" \ and <b>`, State: "open", Source: events.SourceGHArchive, Version: 1}
	later := pr
	later.State, later.Merged, later.MergedAt, later.Version = "closed", true, &merged, 2
	// The newer state arrives first, then the old one again, then a repeat of the new one.
	for _, batch := range [][]events.Contribution{{later}, {pr}, {later, pr}} {
		if err := s.InsertContributions(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Query(ctx, "SELECT count(), any(state), any(merged), any(title), toString(any(merged_at)) FROM contributions FINAL", nil)
	if err != nil {
		t.Fatal(err)
	}
	row := res.Rows[0]
	if store.AsInt(row[0]) != 1 || row[1] != "closed" || store.AsInt(row[2]) != 1 || row[3] != pr.Title || row[4] != "2025-01-04 03:04:05.000" {
		t.Fatalf("got %v, want one merged row with the title intact", row)
	}
}

func TestQuerySettingsApply(t *testing.T) {
	s := testkit.Store(t)
	_, err := s.Query(context.Background(), "SELECT number FROM system.numbers LIMIT 100", store.Settings{"max_result_rows": 10, "result_overflow_mode": "throw"})
	if err == nil {
		t.Fatal("a query over max_result_rows succeeded")
	}
	_, err = s.Query(context.Background(), "INSERT INTO contributions (id) SELECT 'x'", store.Settings{"readonly": 1})
	if err == nil {
		t.Fatal("a write under readonly=1 succeeded")
	}
}

// Every byte a payload or a title can hold survives the insert.
func TestInsertKeepsBytesIntact(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	nasty := "tab\there\nnewline\r\\back\\slash 'q' \"dq\" é 🚀 \\N \\t"
	payload := `{"body":"line1\nline2 \"quoted\" \\ tab\t","x":null}`
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.InsertRaw(ctx, []events.Raw{{Source: "webhook", Kind: "issues", ID: "d1", FetchedAt: at, Origin: nasty, Payload: []byte(payload)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertContributions(ctx, []events.Contribution{{ID: "issue:a/b#1", Kind: events.KindIssue, OccurredAt: at, Repo: "a/b", RepoOwner: "a", Title: nasty, Version: 1}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "SELECT origin, payload, (SELECT title FROM contributions) FROM raw_events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Rows[0]; r[0] != nasty || r[1] != payload || r[2] != nasty {
		t.Fatalf("got %q", r)
	}
}

// Compact leaves one part per partition, and the newest version of each contribution.
func TestCompactMergesPartitions(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	at := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	for v := uint64(1); v <= 3; v++ {
		c := events.Contribution{ID: "pr:a/b#1", Kind: events.KindPullRequest, OccurredAt: at, Repo: "a/b", RepoOwner: "a", State: "open", Version: v}
		other := c
		other.ID, other.OccurredAt = "pr:a/b#2", at.AddDate(0, 1, 0)
		if err := s.InsertContributions(ctx, []events.Contribution{c, other}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("compacted %d partitions, want 2", n)
	}
	res, err := s.Query(ctx, "SELECT count(), uniqExact(partition_id) FROM system.parts WHERE database = currentDatabase() AND table = 'contributions' AND active", nil)
	if err != nil {
		t.Fatal(err)
	}
	if store.AsInt(res.Rows[0][0]) != 2 || store.AsInt(res.Rows[0][1]) != 2 {
		t.Fatalf("active parts and partitions: %v, want 2 and 2", res.Rows[0])
	}
	res, err = s.Query(ctx, "SELECT count(), max(version) FROM contributions", nil)
	if err != nil {
		t.Fatal(err)
	}
	if store.AsInt(res.Rows[0][0]) != 2 || store.AsInt(res.Rows[0][1]) != 3 {
		t.Fatalf("rows after compaction: %v, want 2 rows at version 3", res.Rows[0])
	}
	if n, err := s.Compact(ctx); err != nil || n != 0 {
		t.Fatalf("second compaction merged %d partitions (%v), want 0", n, err)
	}
}
