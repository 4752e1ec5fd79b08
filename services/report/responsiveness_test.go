package report_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
	"giveback.dev/services/report/metrics"
)

// Time to first response and size: medians over answered pull requests (and those of known
// size) per month opened and for the period; an older version without an answer does not count,
// unanswered ones count as opened only, internal ones are out of the default (upstream) scope.
func TestResponsiveness(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	pr := func(id, opened string, answeredAfter time.Duration, add, del, files int, upstream bool, version uint64) events.Contribution {
		c := contribution(id, events.KindPullRequest, opened, "e1", "core", "kubernetes/kubernetes", upstream)
		if !upstream {
			c.Repo, c.RepoOwner = "acme/billing", "acme"
		}
		if answeredAfter > 0 {
			first := c.OccurredAt.Add(answeredAfter)
			c.FirstResponseAt = &first
		}
		c.Additions, c.Deletions, c.ChangedFiles, c.Version = add, del, files, version
		return c
	}
	batches := [][]events.Contribution{
		{pr("pr:b", "2025-01-20 10:00", 0, 0, 0, 0, true, 1)}, // B's first state: nobody had answered
		{
			pr("pr:a", "2025-01-10 10:00", 4*time.Hour, 10, 2, 1, true, 1),
			pr("pr:b", "2025-01-20 10:00", 24*time.Hour, 100, 0, 3, true, 2),
			pr("pr:c", "2025-01-25 10:00", 2*time.Hour, 20, 10, 2, true, 1),
			pr("pr:d", "2025-02-05 10:00", 0, 0, 0, 0, true, 1), // not answered, size unknown
			pr("pr:e", "2025-02-06 10:00", time.Hour, 5, 5, 1, true, 1),
			pr("pr:f", "2025-03-03 10:00", 48*time.Hour, 7, 0, 1, true, 1),
			pr("pr:internal", "2025-01-02 10:00", 2*time.Hour, 1, 1, 1, false, 1),
		},
	}
	for _, b := range batches {
		if err := st.InsertContributions(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	srv := report.New(st, report.Options{Company: "Acme"}, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	var got metrics.Responsiveness
	if status := get(t, ts, "/api/v1/metrics/responsiveness", url.Values{"from": {"2025-01-01"}, "to": {"2025-03-31"}}, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	f := func(v float64) *float64 { return &v }
	want := []metrics.ResponsivenessMonth{
		{Month: "2025-01", Opened: 3, Answered: 3, MedianHours: f(4), MedianLines: f(30)},
		{Month: "2025-02", Opened: 2, Answered: 1, MedianHours: f(1), MedianLines: f(10)},
		{Month: "2025-03", Opened: 1, Answered: 1, MedianHours: f(48), MedianLines: f(7)},
	}
	check := func(what string, g, w metrics.ResponsivenessMonth) {
		eq := func(a, b *float64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
		if g.Month != w.Month || g.Opened != w.Opened || g.Answered != w.Answered || !eq(g.MedianHours, w.MedianHours) || !eq(g.MedianLines, w.MedianLines) {
			t.Errorf("%s: got %+v (hours %v, lines %v), want %+v (hours %v, lines %v)", what, g, deref(g.MedianHours), deref(g.MedianLines), w, deref(w.MedianHours), deref(w.MedianLines))
		}
	}
	if len(got.Months) != 3 {
		t.Fatalf("months %+v", got.Months)
	}
	for i := range want {
		check(want[i].Month, got.Months[i], want[i])
	}
	// The period: hours 1, 2, 4, 24, 48 and lines 7, 10, 12, 30, 100.
	check("period", got.ResponsivenessMonth, metrics.ResponsivenessMonth{Opened: 6, Answered: 5, MedianHours: f(4), MedianLines: f(12)})

	// A month with nothing answered has null medians, not NaN.
	if status := get(t, ts, "/api/v1/metrics/responsiveness", url.Values{"from": {"2025-04-01"}, "to": {"2025-04-30"}}, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	check("empty period", got.ResponsivenessMonth, metrics.ResponsivenessMonth{})
}

