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

// Time to first response, to merge, and size: medians over answered (merged, sized) pull requests
// per month opened and for the period. The first answer is the earlier of the one the REST sync
// looked up and the first stored review or comment by someone other than the author (any case),
// bots excluded; an older version without an answer does not count; internal pull requests are
// out of the default (upstream) scope.
func TestResponsiveness(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	number := 0
	pr := func(id, opened string, answeredAfter time.Duration, add, del, files int, upstream bool, version uint64, mergedAfter ...time.Duration) events.Contribution {
		c := contribution(id, events.KindPullRequest, opened, "e1", "core", "kubernetes/kubernetes", upstream)
		if !upstream {
			c.Repo, c.RepoOwner = "acme/billing", "acme"
		}
		number++
		c.Number = number
		if answeredAfter > 0 {
			first := c.OccurredAt.Add(answeredAfter)
			c.FirstResponseAt = &first
		}
		c.Additions, c.Deletions, c.ChangedFiles, c.Version = add, del, files, version
		if len(mergedAfter) > 0 {
			m := c.OccurredAt.Add(mergedAfter[0])
			c.Merged, c.MergedAt, c.State, c.ClosedAt = true, &m, "closed", &m
		}
		return c
	}
	// answer is a review or comment on a pull request, by anyone (not attributed).
	answer := func(id, kind string, on events.Contribution, after time.Duration, login string) events.Contribution {
		c := contribution(id, kind, "2025-01-01 00:00", "", "", "Kubernetes/Kubernetes", true)
		c.OccurredAt, c.ActorLogin, c.EmployeeID, c.Team, c.Number = on.OccurredAt.Add(after), login, "", "", on.Number
		return c
	}
	a := pr("pr:a", "2025-01-10 10:00", 4*time.Hour, 10, 2, 1, true, 1, 72*time.Hour)
	d := pr("pr:d", "2025-02-05 10:00", 0, 0, 0, 0, true, 1) // no answer looked up, size unknown
	g := pr("pr:g", "2025-02-07 10:00", 0, 0, 0, 0, true, 1)
	batches := [][]events.Contribution{
		{pr("pr:b", "2025-01-20 10:00", 0, 0, 0, 0, true, 1)}, // B's first state: nobody had answered
		{
			a,
			pr("pr:b", "2025-01-20 10:00", 24*time.Hour, 100, 0, 3, true, 2, 30*time.Hour),
			pr("pr:c", "2025-01-25 10:00", 2*time.Hour, 20, 10, 2, true, 1),
			d,
			pr("pr:e", "2025-02-06 10:00", time.Hour, 5, 5, 1, true, 1),
			g,
			pr("pr:f", "2025-03-03 10:00", 48*time.Hour, 7, 0, 1, true, 1, 50*time.Hour),
			pr("pr:internal", "2025-01-02 10:00", 2*time.Hour, 1, 1, 1, false, 1),
		},
		{
			// Stored answers: a maintainer's comment on A before the answer the REST sync found;
			// a review on D; on G the author's own comment and a bot's come first, then a review.
			answer("comment:a1", events.KindComment, a, 2*time.Hour, "maintainer"),
			answer("review:d1", events.KindReview, d, 3*time.Hour, "Maintainer"),
			answer("comment:g0", events.KindComment, g, time.Hour, "LOGIN-E1"),
			answer("comment:g1", events.KindComment, g, 2*time.Hour, "ci-helper[bot]"),
			answer("review:g2", events.KindReview, g, 5*time.Hour, "someone"),
		},
	}
	for _, b := range batches {
		if err := st.InsertContributions(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	srv := newServer(t, report.Options{Store: st, Company: "Acme", Log: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	var got metrics.Responsiveness
	if status := get(t, ts, "/api/v1/metrics/responsiveness", url.Values{"from": {"2025-01-01"}, "to": {"2025-03-31"}}, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	f := func(v float64) *float64 { return &v }
	want := []metrics.ResponsivenessMonth{
		{Month: "2025-01", Opened: 3, Answered: 3, MedianHours: f(2), MedianLines: f(30), Merged: 2, MedianMerge: f(51)},
		{Month: "2025-02", Opened: 3, Answered: 3, MedianHours: f(3), MedianLines: f(10)},
		{Month: "2025-03", Opened: 1, Answered: 1, MedianHours: f(48), MedianLines: f(7), Merged: 1, MedianMerge: f(50)},
	}
	check := func(what string, g, w metrics.ResponsivenessMonth) {
		eq := func(a, b *float64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
		if g.Month != w.Month || g.Opened != w.Opened || g.Answered != w.Answered || !eq(g.MedianHours, w.MedianHours) ||
			!eq(g.MedianLines, w.MedianLines) || g.Merged != w.Merged || !eq(g.MedianMerge, w.MedianMerge) {
			t.Errorf("%s: got %+v (hours %v, lines %v, to merge %v), want %+v (hours %v, lines %v, to merge %v)", what,
				g, deref(g.MedianHours), deref(g.MedianLines), deref(g.MedianMerge), w, deref(w.MedianHours), deref(w.MedianLines), deref(w.MedianMerge))
		}
	}
	if len(got.Months) != 3 {
		t.Fatalf("months %+v", got.Months)
	}
	for i := range want {
		check(want[i].Month, got.Months[i], want[i])
	}
	// The period: hours 1, 2, 2, 3, 5, 24, 48; lines 7, 10, 12, 30, 100; hours to merge 30, 50, 72.
	check("period", got.ResponsivenessMonth, metrics.ResponsivenessMonth{Opened: 7, Answered: 7, MedianHours: f(3), MedianLines: f(12), Merged: 3, MedianMerge: f(50)})

	// A month with nothing answered has null medians, not NaN.
	if status := get(t, ts, "/api/v1/metrics/responsiveness", url.Values{"from": {"2025-04-01"}, "to": {"2025-04-30"}}, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	check("empty period", got.ResponsivenessMonth, metrics.ResponsivenessMonth{})
}
