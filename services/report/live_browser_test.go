package report_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
)

// TestLiveInBrowser opens the live page in headless Chromium as a viewer, publishes a
// contribution through a real embedded NATS, and waits for the page's script to show it, with
// no console error, no CSP violation and no request leaving the host.
func TestLiveInBrowser(t *testing.T) {
	_, _, js := testkit.NATS(t)
	srv := newServer(t, report.Options{Company: "Acme", Live: js})
	ts := httptest.NewServer(as(auth.Viewer, srv.Handler()))
	// The stream is ended before the server closes, which would otherwise wait on it.
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	first := publish(t, js, liveContribution("pr:nats-io/nats.go#7", events.KindPullRequest, "nats-io/nats.go", "upstream", "octocat", "e1"))

	b := newBrowser(t, ts.URL)
	b.open(t, ts.URL+"/live", 1280, 900)
	wait := func(what, expr string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr))
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if ok {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: not within 15 s; status %q, problems %v", what, b.text(t, "#live-status"), b.problems())
	}
	wait("the page's first row", `document.querySelector('#live tbody tr') !== null && document.querySelector('#live tbody tr').dataset.seq === "`+strconv.FormatUint(first, 10)+`"`)
	wait("the event stream open", `document.getElementById('live-status').dataset.state === 'live'`)

	next := publish(t, js, liveContribution("review:acme/tool#3/r1", events.KindReview, "acme/tool", "company_oss", "outsider", ""))
	wait("the published contribution on the page", `document.querySelector('#live tbody tr').dataset.seq === "`+strconv.FormatUint(next, 10)+`"`)
	if got := b.text(t, "#live tbody tr:first-child td:nth-child(3)"); got != "acme/tool#7" {
		t.Errorf("the new row's repository is %q", got)
	}
	if got := b.text(t, "#live-status"); got != "live · 1 new" {
		t.Errorf("status %q", got)
	}
	if got := b.text(t, "#live"); got == "" || strings.Contains(got, "octocat") || strings.Contains(got, "outsider") {
		t.Errorf("the viewer's table names people, or is empty: %q", got)
	}
	if p := b.problems(); len(p) > 0 {
		t.Errorf("the page had problems: %v", p)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts(t), "live.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
