package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
	"giveback.dev/services/report/metrics"
)

// generate returns n contributions over 2024–2025 by 600 employees in 24 teams to 6,000
// repositories of 900 owners, deterministic for a seed. About a third are pull requests; the
// decided ones are returned again, as a newer version, in updates (the open state first, the
// decision later, as enrich writes them).
func generate(n int, seed uint64) (all, updates []events.Contribution) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(2 * 365 * 24 * time.Hour)
	kinds := []string{events.KindPullRequest, events.KindPullRequest, events.KindReview, events.KindReview,
		events.KindIssue, events.KindComment, events.KindComment, events.KindCommit, events.KindRelease}
	all = make([]events.Contribution, 0, n)
	for i := range n {
		kind := kinds[r.IntN(len(kinds))]
		emp := r.IntN(600)
		owner := r.IntN(900)
		repo := fmt.Sprintf("org%d/repo%d", owner, r.IntN(6000))
		c := events.Contribution{
			ID: kind + ":" + strconv.Itoa(i), Kind: kind, OccurredAt: start.Add(time.Duration(r.Int64N(span))),
			ActorLogin: "user" + strconv.Itoa(emp), EmployeeID: "e" + strconv.Itoa(emp), Team: "team" + strconv.Itoa(emp%24),
			Repo: repo, RepoOwner: fmt.Sprintf("org%d", owner), IsUpstream: owner%10 != 0, Source: events.SourceGHArchive,
			Version: 1,
		}
		if kind == events.KindPullRequest || kind == events.KindIssue {
			c.State = "open"
		}
		all = append(all, c)
		if kind == events.KindPullRequest && r.IntN(10) < 7 {
			u := c
			when := c.OccurredAt.Add(time.Duration(r.Int64N(int64(40 * 24 * time.Hour))))
			u.State, u.ClosedAt, u.Version = "closed", &when, 2
			if r.IntN(4) > 0 {
				u.Merged, u.MergedAt = true, &when
			}
			updates = append(updates, u)
		}
	}
	return all, updates
}

// BenchmarkHeadlineQueries fills a database with GIVEBACK_BENCH_ROWS generated contributions
// (default 1,000,000) plus a newer version of every decided pull request, each batch its own
// INSERT, and measures each headline metric over twelve months, reporting p50 and p95:
//
//	CHDB_LIB_PATH=… GIVEBACK_BENCH_ROWS=1000000 go test -tags chdb -run '^$' \
//	    -bench BenchmarkHeadlineQueries -benchtime 20x ./
func BenchmarkHeadlineQueries(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("GIVEBACK_BENCH_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("GIVEBACK_BENCH_ROWS=%q is not a positive number", v)
		}
	}
	st := testkit.Store(b)
	ctx := context.Background()
	all, updates := generate(n, 1)
	began := time.Now()
	const batch = 50_000
	for _, set := range [][]events.Contribution{all, updates} {
		for i := 0; i < len(set); i += batch {
			if err := st.InsertContributions(ctx, set[i:min(i+batch, len(set))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	res, err := st.Query(ctx, "SELECT count(), uniqExact(id), (SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'contributions' AND active) FROM contributions", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("inserted %d rows (%d ids, %d active parts) in %s", store.AsInt(res.Rows[0][0]), store.AsInt(res.Rows[0][1]),
		store.AsInt(res.Rows[0][2]), time.Since(began).Round(time.Millisecond))

	year := metrics.Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), Upstream: metrics.UpstreamAll}
	team := year
	team.Team, team.Upstream = "team7", metrics.UpstreamOnly
	srv := newServer(b, report.Options{Store: st, Company: "Bench"}).Handler()
	queries := []struct {
		name string
		run  func() error
	}{
		{"summary", func() error { _, err := metrics.GetSummary(ctx, st, year); return err }},
		{"summary_team_upstream", func() error { _, err := metrics.GetSummary(ctx, st, team); return err }},
		{"contributions", func() error { _, err := metrics.GetContributions(ctx, st, year); return err }},
		{"contributors", func() error { _, err := metrics.GetContributors(ctx, st, year); return err }},
		{"repos", func() error { _, err := metrics.GetRepos(ctx, st, year, 10); return err }},
		{"acceptance", func() error { _, err := metrics.GetAcceptance(ctx, st, year); return err }},
		{"responsiveness", func() error { _, err := metrics.GetResponsiveness(ctx, st, year); return err }},
		{"teams", func() error { _, err := metrics.GetTeams(ctx, st); return err }},
		{"dashboard_page", func() error {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?from=2025-01-01&to=2025-12-31", nil))
			if rec.Code != http.StatusOK {
				return fmt.Errorf("dashboard: status %d", rec.Code)
			}
			return nil
		}},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			if err := q.run(); err != nil { // warm up
				b.Fatal(err)
			}
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
		})
	}
}
