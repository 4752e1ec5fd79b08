package report_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"giveback.dev/services/report"
)

// TestConsoleFormsInBrowser saves the editor's statement from the console in headless Chromium,
// behind the authorization guard (mode none on loopback: the caller is an admin), so the
// browser's own form posts pass its cross-site checks: the saved query's page opens, runs with
// its defaults, and its Delete button removes it. No request leaves the host, no console error.
func TestConsoleFormsInBrowser(t *testing.T) {
	st := fixture(t)
	srv := newServer(t, report.Options{Store: st, Company: "Acme Corp", Now: func() time.Time { return day("2025-03-31 12:00") }})
	ts := guarded(t, srv.Handler())
	b := newBrowser(t, ts.URL)
	dir := artifacts(t)
	shot := func(name string) { b.shot(t, dir, name) }
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()

	b.open(t, ts.URL+"/query?"+url.Values{"sql": {teamRepos}}.Encode(), 1280, 900)
	if got := b.text(t, `#params-hint`); !strings.Contains(got, "parameters (team, since)") {
		t.Errorf("the editor with a statement with parameters says %q", got)
	}
	// The form is open: the statement has parameters, so it runs once saved.
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`details.save[open] #save-form button`)),
		chromedp.SetValue(chromedp.CSS(`#save-form input[name="name"]`), "browser-saved"),
		chromedp.SetValue(chromedp.CSS(`#save-form input[name="description"]`), "Saved in a browser"),
		chromedp.SetValue(chromedp.CSS(`#save-form input[name="default_team"]`), "web"),
		chromedp.SetValue(chromedp.CSS(`#save-form input[name="default_since"]`), "2025-01-01"),
	); err != nil {
		t.Fatal(err)
	}
	shot("console-save-form")
	sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
	defer scancel()
	if err := chromedp.Do(sctx, chromedp.Click(chromedp.CSS(`#save-form button`)), chromedp.WaitVisible(chromedp.CSS(`#saved-name`))); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		t.Fatalf("save: %v; the browser is at %s showing %q", err, loc, b.text(t, `body`))
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/query?saved=browser-saved") || b.text(t, `#saved-name`) != "browser-saved" {
		t.Fatalf("after saving the browser is at %q (%v), showing %q", loc, err, b.text(t, `#saved-name`))
	}
	if got := b.text(t, `#saved-queries`); !strings.Contains(got, "browser-saved") || !strings.Contains(got, "Saved in a browser") {
		t.Errorf("the saved queries list %q", got)
	}

	// Run with its defaults: the team web's four contributions, one row per repository.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form.params button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`#result`))); err != nil {
		t.Fatal(err)
	}
	if got := b.text(t, `#rows-count`); got == "" || got == "0" {
		t.Errorf("the saved query ran to %q rows", got)
	}
	shot("console-saved-run")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#delete-saved`)), chromedp.WaitVisible(chromedp.CSS(`#sql`))); err != nil {
		t.Fatal(err)
	}
	loc, err = chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/query") || strings.Contains(b.text(t, `aside .saved`), "browser-saved") {
		t.Errorf("after deleting the browser is at %q (%v); saved queries %q", loc, err, b.text(t, `aside .saved`))
	}
	if p := b.problems(); len(p) > 0 {
		t.Errorf("%s", strings.Join(p, "\n"))
	}
}
