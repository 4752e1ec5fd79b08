package report_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/deps"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
	"giveback.dev/services/report/metrics"
)

// The cycle sets the latest dependency import against the company's contributions: per
// dependency what it received in the period, and give-back coverage from the pull requests
// merged in the twelve months before the period's end, plain and weighted by criticality.
// Outside contributors, other repositories and an older import do not count.
func TestCycle(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	// An older import, replaced by the current one.
	if err := st.ReplaceDependencies(ctx, "old", 1, []deps.Dependency{{Repo: "old/gone", Criticality: 9}}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the imports are ordered by time
	current := []deps.Dependency{
		{Repo: "nats-io/nats.go", Criticality: 5},
		{Repo: "golang/go", Criticality: 3},
		{Repo: "clickhouse/clickhouse-go", Criticality: 1},
		{Repo: "spf13/cobra", Criticality: 1},
	}
	if err := st.ReplaceDependencies(ctx, "new", 1, current, nil); err != nil {
		t.Fatal(err)
	}
	mergedPR := func(id, repo, opened, merged, emp string) events.Contribution {
		c := contribution(id, events.KindPullRequest, opened, emp, "core", repo, true)
		at := day(merged)
		c.Merged, c.MergedAt, c.State, c.ClosedAt = true, &at, "closed", &at
		return c
	}
	outsider := contribution("comment:x", events.KindComment, "2025-02-01 10:00", "", "", "golang/go", true)
	outsider.ActorLogin = "stranger"
	rows := []events.Contribution{
		// nats.go: a PR opened and merged in the period, a review by another employee.
		mergedPR("pr:n1", "Nats-io/Nats.go", "2025-02-01 10:00", "2025-02-03 10:00", "e1"),
		contribution("review:n2", events.KindReview, "2025-03-01 10:00", "e2", "core", "nats-io/nats.go", true),
		// golang/go: a PR opened before the period, merged in it (covered, no contribution in the
		// period), and an outsider's comment.
		mergedPR("pr:g1", "golang/go", "2024-06-01 10:00", "2025-01-15 10:00", "e1"),
		outsider,
		// clickhouse-go: a comment in the period, nothing merged.
		contribution("comment:c1", events.KindComment, "2025-02-10 10:00", "e3", "web", "clickhouse/clickhouse-go", true),
		// cobra: a PR merged 13 months before the period's end: out of the coverage window.
		mergedPR("pr:s1", "spf13/cobra", "2024-02-01 10:00", "2024-02-20 10:00", "e1"),
		// not a dependency
		mergedPR("pr:k1", "kubernetes/kubernetes", "2025-02-01 10:00", "2025-02-02 10:00", "e1"),
	}
	if err := st.InsertContributions(ctx, rows); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(newServer(t, report.Options{Store: st, Company: "Acme", Log: slog.New(slog.DiscardHandler)}).Handler())
	t.Cleanup(ts.Close)

	var got metrics.Cycle
	if status := get(t, ts, "/api/v1/metrics/cycle", url.Values{"from": {"2025-01-01"}, "to": {"2025-03-31"}, "limit": {"3"}}, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	want := []metrics.CycleRepo{
		{Repo: "nats-io/nats.go", Criticality: 5, Contributions: 2, MergedPRs: 1, Contributors: 2, MergedLastYear: 1},
		{Repo: "golang/go", Criticality: 3, Contributions: 0, MergedPRs: 0, Contributors: 0, MergedLastYear: 1},
		{Repo: "clickhouse/clickhouse-go", Criticality: 1, Contributions: 1, MergedPRs: 0, Contributors: 1, MergedLastYear: 0},
	}
	if len(got.Repos) != len(want) {
		t.Fatalf("repos %+v, want %+v", got.Repos, want)
	}
	for i := range want {
		if got.Repos[i] != want[i] {
			t.Errorf("repo %d: %+v, want %+v", i, got.Repos[i], want[i])
		}
	}
	// Four dependencies (all counted, three listed), two contributed to in the period, two
	// covered (nats.go, golang/go): 2/4, and by criticality (5+3)/(5+3+1+1).
	if got.Dependencies != 4 || got.Contributed != 2 || got.Covered != 2 || got.Coverage == nil || *got.Coverage != 0.5 ||
		got.WeightedCoverage == nil || *got.WeightedCoverage != 0.8 {
		t.Fatalf("totals %+v (coverage %v, weighted %v)", got, deref(got.Coverage), deref(got.WeightedCoverage))
	}
	// One team: its contributions only.
	if status := get(t, ts, "/api/v1/metrics/cycle", url.Values{"from": {"2025-01-01"}, "to": {"2025-03-31"}, "team": {"web"}}, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if got.Contributed != 1 || got.Covered != 0 || *got.Coverage != 0 || len(got.Repos) != 4 {
		t.Fatalf("team web: %+v", got)
	}
}

// Without a dependency list the cycle is empty and its coverages null.
func TestCycleWithoutDependencies(t *testing.T) {
	ts, _ := server(t, config.Query{})
	var got metrics.Cycle
	if status := get(t, ts, "/api/v1/metrics/cycle", quarter, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if got.Dependencies != 0 || got.Coverage != nil || got.WeightedCoverage != nil || got.Repos == nil || len(got.Repos) != 0 {
		t.Fatalf("cycle %+v", got)
	}
}
