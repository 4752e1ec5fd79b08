package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
	"giveback.dev/services/report/reports"
)

// TestReportsPagesInBrowser opens the reports list and a period's page, on the dashboard's
// layout, in headless Chromium over the fixture, with the real report builder, archive (chDB)
// and claims (NATS), behind the authorization guard: the archived report shows its charts from the chart model, no request
// leaves the host, no console error; "Send again" sends the delivery a second time, which the
// page's attempts table then shows. Screenshots are kept.
func TestReportsPagesInBrowser(t *testing.T) {
	st := fixture(t)
	richFixture(t, st)
	_, _, js := testkit.NATS(t)
	kv, err := reports.OpenClaims(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	def := reports.Definition{Name: "monthly", Title: "Monthly give-back", Schedule: "CRON_TZ=Europe/Berlin 0 8 1 * *",
		Period: reports.PeriodPreviousMonth, Grace: time.Hour, Deliveries: []reports.Delivery{{Kind: "directory", Name: "archive-dir", Path: out}}}
	now := day("2025-04-02 12:00")
	svc, err := reports.NewService(reports.ServiceOptions{Definitions: []reports.Definition{def}, Store: st, Claims: kv,
		Now: func() time.Time { return now }, Replica: "browser"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.RunNow(context.Background(), reports.RunRequest{Name: "monthly", Period: "2025-03"})
	if err != nil || len(res.Deliveries) != 1 || res.Deliveries[0].Outcome != reports.OutcomeSent {
		t.Fatalf("run: %+v %v", res, err)
	}
	srv := newServer(t, report.Options{Store: st, Company: "Acme Corp", Reports: svc, Now: func() time.Time { return now }})
	// Behind the authorization guard (mode none on loopback: an admin), so "Send again", a form
	// post of the page, passes its cross-site checks as a browser sends it.
	ts := guarded(t, srv.Handler())
	b := newBrowser(t, ts.URL)
	dir := artifacts(t)
	shot := func(name string) { b.shot(t, dir, name) }

	b.open(t, ts.URL+"/reports", 1280, 900)
	if got := b.text(t, `#archive tbody tr td a`); got != "2025-03" {
		t.Errorf("the archive lists %q, want the period 2025-03", got)
	}
	if b.text(t, `nav [data-nav="reports"].active`) != "Reports" {
		t.Error("the reports page is not on the layout with its navigation")
	}
	shot("reports-list")

	b.open(t, ts.URL+"/reports/monthly/2025-03", 1280, 900)
	for _, id := range []string{"trend-contributors", "trend-merged", "trend-acceptance"} {
		if b.text(t, `.report-copy svg[data-chart="`+id+`"]`) == "" {
			t.Errorf("the archived report lacks the chart %s", id)
		}
	}
	if got := b.text(t, `#attempt-list tbody`); strings.Count(got, "sent") != 1 {
		t.Errorf("attempts before sending again: %q", got)
	}
	shot("report-period")
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#send button`)), chromedp.WaitVisible(chromedp.CSS(`#attempt-list`))); err != nil {
		t.Fatal(err)
	}
	// The send answers once the delivery is done; the page that follows shows its attempt.
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(b.text(t, `#attempt-list tbody`), "sent") < 2 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/reports/monthly/2025-03#attempts") {
		t.Errorf("after sending again the browser is at %q (%v)", loc, err)
	}
	if got := b.text(t, `#attempt-list tbody`); strings.Count(got, "sent") != 2 {
		t.Errorf("attempts after sending again: %q; want two sent", got)
	}
	shot("report-period-sent-again")
	b.open(t, ts.URL+"/reports/monthly/2025-03", 375, 812)
	w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if w > 375 {
		t.Errorf("the period's page is %d px wide on a 375 px phone", w)
	}
	shot("report-period-phone")
	if p := b.problems(); len(p) > 0 {
		t.Errorf("%s", strings.Join(p, "\n"))
	}
}
