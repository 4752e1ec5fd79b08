package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/config"
	"giveback.dev/platform/deps"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
)

// browser is a headless Chromium driven over the DevTools protocol, recording what a page
// must not do: log an error to the console, throw, break the Content-Security-Policy, or
// request anything from another host than the server's.
type browser struct {
	ctx  context.Context
	host string
	mu   sync.Mutex
	bad  []string
	// life holds the time of each lifecycle event of the page's latest navigation (init,
	// firstPaint, firstContentfulPaint, load, …), in seconds of the browser's monotonic clock.
	life map[string]float64
}

func newBrowser(tb testing.TB, serverURL string) *browser {
	tb.Helper()
	bin := testkit.Chromium(tb)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.UserDataDir(filepath.Join(tb.TempDir(), "profile")), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-gpu", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	tb.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(actx)
	tb.Cleanup(cancelTab)
	u, err := url.Parse(serverURL)
	if err != nil {
		tb.Fatal(err)
	}
	b := &browser{ctx: ctx, host: u.Host, life: map[string]float64{}}
	err = chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				msg = fmt.Sprintf("console.%s", e.Type)
				for _, a := range e.Args {
					msg += " " + string(a.Value)
				}
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				msg = fmt.Sprintf("log %s (%s): %s", e.Entry.Level, e.Entry.Source, e.Entry.Text)
			}
		case *page.EventLifecycleEvent:
			b.mu.Lock()
			if e.Name == "init" {
				clear(b.life)
			}
			b.life[e.Name] = e.Timestamp.Float64()
			b.mu.Unlock()
		case *network.EventRequestWillBeSent:
			r, err := url.Parse(e.Request.URL)
			if err != nil || (r.Scheme != "data" && r.Host != b.host) {
				msg = "request leaves the host: " + e.Request.URL
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.bad = append(b.bad, msg)
			b.mu.Unlock()
		}
	})
	if err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return b
}

// problems returns what went wrong since the last call, and forgets it.
func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.bad
	b.bad = nil
	return out
}

// open sets the viewport and loads the page, waiting for its load event.
func (b *browser) open(tb testing.TB, u string, width, height int64) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	var vp chromedp.Action[chromedp.Void] = chromedp.EmulateViewport(width, height)
	if width < 600 {
		vp = chromedp.EmulateViewport(width, height, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, vp, chromedp.Navigate(u)); err != nil {
		tb.Fatalf("open %s: %v", u, err)
	}
}

// text returns the trimmed text of the first element matching the CSS selector; "" when none
// does.
func (b *browser) text(tb testing.TB, sel string) string {
	tb.Helper()
	js, _ := json.Marshal(sel)
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector(`+string(js)+`) || {textContent: ""}).textContent.trim()`))
	if err != nil {
		tb.Fatalf("read %s: %v", sel, err)
	}
	return v
}

// firstPaint waits for the first contentful paint of the latest navigation and returns it in
// milliseconds from the navigation's start.
func (b *browser) firstPaint() (float64, error) {
	for range 100 {
		b.mu.Lock()
		start, ok1 := b.life["init"]
		paint, ok2 := b.life["firstContentfulPaint"]
		b.mu.Unlock()
		if ok1 && ok2 {
			return (paint - start) * 1000, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, errors.New("the browser reported no first contentful paint within 2 s")
}

// guarded serves h behind the authorization guard in mode none on loopback (the caller is an
// admin), so the pages' form posts meet its cross-site checks as a browser sends them.
func guarded(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	ts := httptest.NewUnstartedServer(nil)
	g, err := auth.New(context.Background(), auth.Options{Auth: config.Default().Auth, Addr: ts.Listener.Addr().String()}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ts.Config.Handler = g.Wrap(h)
	ts.Start()
	tb.Cleanup(ts.Close)
	return ts
}

// shot saves a screenshot of the browser's page as name.png in dir.
func (b *browser) shot(tb testing.TB, dir, name string) {
	tb.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// artifacts is where the screenshots go: $GIVEBACK_ARTIFACTS when set, else a temporary
// directory of the test.
func artifacts(tb testing.TB) string {
	if d := os.Getenv("GIVEBACK_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
		return d
	}
	return tb.TempDir()
}

// richFixture adds to the report fixture what the pages show beyond it: a dependency list
// and outside contributors to the company's own open source.
func richFixture(tb testing.TB, st *store.Store) {
	tb.Helper()
	ctx := context.Background()
	ds := []deps.Dependency{
		{Repo: "golang/go", Criticality: 6}, {Repo: "kubernetes/kubernetes", Criticality: 2},
		{Repo: "nats-io/nats-server", Criticality: 5}, {Repo: "clickhouse/clickhouse-go", Criticality: 4},
		{Repo: "spf13/cobra", Criticality: 1},
	}
	if err := st.ReplaceDependencies(ctx, "browser", 1, ds, nil); err != nil {
		tb.Fatal(err)
	}
	var cs []events.Contribution
	for i, who := range []string{"alice", "bob", "carol", "alice"} {
		c := contribution(fmt.Sprintf("pr:acme/tool#%d", 100+i), events.KindPullRequest, fmt.Sprintf("2025-0%d-10 10:00", 1+i%3), "", "", "acme/tool", false)
		c.ActorLogin, c.Destination = who, "company_oss"
		cs = append(cs, c)
	}
	// Maintainer seats: e3 merged someone's pull request in golang/go, e2 approved one in
	// kubernetes/kubernetes.
	merge := contribution("merge:golang/go#77", events.KindMerge, "2025-03-05 10:00", "e3", "web", "golang/go", true)
	approval := contribution("review:kubernetes/kubernetes#78/r1", events.KindReview, "2025-02-20 10:00", "e2", "core", "kubernetes/kubernetes", true)
	approval.State = "approved"
	cs = append(cs, merge, approval)
	if err := st.InsertContributions(ctx, cs); err != nil {
		tb.Fatal(err)
	}
	// GH Archive's counts: golang/go busy with many actors, nats-server driven by one.
	var rows []events.ActivityRow
	for _, m := range []string{"2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03"} {
		rows = append(rows,
			events.ActivityRow{Day: m + "-10", Repo: "golang/go", Actor: "login-e1", Type: "PushEvent", Events: 2},
			events.ActivityRow{Day: m + "-11", Repo: "golang/go", Actor: "gopher-a", Type: "PushEvent", Events: 5},
			events.ActivityRow{Day: m + "-12", Repo: "golang/go", Actor: "gopher-b", Type: "IssuesEvent", Events: 4},
			events.ActivityRow{Day: m + "-13", Repo: "golang/go", Actor: "gopher-c", Type: "PullRequestEvent", Events: 3},
			events.ActivityRow{Day: m + "-10", Repo: "nats-io/nats-server", Actor: "derek", Type: "PushEvent", Events: 40},
			events.ActivityRow{Day: m + "-11", Repo: "nats-io/nats-server", Actor: "someone", Type: "IssuesEvent", Events: 2},
		)
	}
	if err := st.InsertProjectActivity(ctx, []events.HourTotals{{Hour: "fixture", Rows: rows}}); err != nil {
		tb.Fatal(err)
	}
}

// pageCase is one page of the browser test, with the figures it must show as the API gives
// them.
type pageCase struct {
	name, path string
	// figures maps a CSS selector of the page to the API endpoint (path?query) and the JSON
	// field (dotted) whose value the element must show.
	figures map[string][2]string
}

// TestPagesInBrowser loads every page in headless Chromium on the fixture (with dependencies
// and a community): no console error, no CSP violation, no request leaving the host; the
// numbers shown equal the API's; a screenshot at laptop and phone width of each.
func TestPagesInBrowser(t *testing.T) {
	ts, st := server(t, config.Query{})
	richFixture(t, st)
	b := newBrowser(t, ts.URL)
	dir := artifacts(t)
	q := "from=2025-01-01&to=2025-03-31"
	cases := []pageCase{
		{"overview", "/?" + q, map[string][2]string{
			`[data-kpi="upstream_contributions"] .value`: {"/api/v1/metrics/summary?" + q, "upstream_contributions"},
			`[data-kpi="active_contributors"] .value`:    {"/api/v1/metrics/summary?" + q, "active_contributors"},
			`[data-kpi="upstream_repos"] .value`:         {"/api/v1/metrics/summary?" + q, "upstream_repos"},
			`[data-kpi="new_contributors"] .value`:       {"/api/v1/metrics/newcomers?" + q, "new"},
			`[data-kpi="acceptance_ratio"] .value`:       {"/api/v1/metrics/summary?" + q, "acceptance_ratio%"},
			`[data-kpi="coverage"] .value`:               {"/api/v1/metrics/cycle?" + q, "coverage%"},
			`#repos tr:first-child td.num`:               {"/api/v1/metrics/repos?upstream=1&" + q, "top.0.contributions"},
		}},
		{"teams", "/teams?" + q, map[string][2]string{
			`[data-team="core"] [data-field="upstream_contributions"]`: {"/api/v1/metrics/summary?team=core&" + q, "upstream_contributions"},
			`[data-team="web"] [data-field="upstream_contributions"]`:  {"/api/v1/metrics/summary?team=web&" + q, "upstream_contributions"},
			`[data-team="core"] [data-field="acceptance_ratio"]`:       {"/api/v1/metrics/summary?team=core&" + q, "acceptance_ratio%"},
			`[data-team="web"] [data-field="active_contributors"]`:     {"/api/v1/metrics/summary?team=web&" + q, "active_contributors"},
			`[data-team="core"] [data-field="new"]`:                    {"/api/v1/metrics/newcomers?team=core&" + q, "new"},
			`[data-team="web"] [data-field="returning"]`:               {"/api/v1/metrics/newcomers?team=web&" + q, "returning"},
		}},
		{"team", "/teams/core?" + q, map[string][2]string{
			`[data-kpi="upstream_contributions"] .value`: {"/api/v1/metrics/summary?team=core&" + q, "upstream_contributions"},
			`[data-kpi="active_contributors"] .value`:    {"/api/v1/metrics/summary?team=core&" + q, "active_contributors"},
		}},
		{"projects", "/projects?" + q, map[string][2]string{
			`[data-kpi="projects"] .value`:                                     {"/api/v1/metrics/projects?" + q, "total"},
			`[data-kpi="coverage"] .value`:                                     {"/api/v1/metrics/cycle?" + q, "coverage%"},
			`[data-kpi="risks"] .value`:                                        {"/api/v1/metrics/risks?" + q, "total"},
			`[data-repo="golang/go"] [data-field="contributions"]`:             {"/api/v1/metrics/projects?repo=golang/go&" + q, "rows.0.contributions"},
			`[data-repo="golang/go"] [data-field="acceptance"]`:                {"/api/v1/metrics/projects?repo=golang/go&" + q, "rows.0.acceptance%"},
			`[data-repo="golang/go"] [data-field="seats"]`:                     {"/api/v1/metrics/projects?repo=golang/go&" + q, "rows.0.seats"},
			`[data-repo="kubernetes/kubernetes"] [data-field="contributions"]`: {"/api/v1/metrics/projects?repo=kubernetes/kubernetes&" + q, "rows.0.contributions"},
		}},
		{"project", "/projects/golang/go?" + q, map[string][2]string{
			`[data-kpi="criticality"] .value`:     {"/api/v1/metrics/cycle?" + q, "repos.0.criticality"},
			`[data-kpi="contributions"] .value`:   {"/api/v1/metrics/projects?repo=golang/go&" + q, "rows.0.contributions"},
			`[data-kpi="acceptance"] .value`:      {"/api/v1/metrics/projects?repo=golang/go&" + q, "rows.0.acceptance%"},
			`[data-kpi="share"] .value`:           {"/api/v1/metrics/influence?repo=golang/go&" + q, "company.share%"},
			`[data-kpi="elephant_factor"] .value`: {"/api/v1/metrics/influence?repo=golang/go&" + q, "elephant_factor"},
			`[data-kpi="seats"] .value`:           {"/api/v1/metrics/seats?repo=golang/go&" + q, "total"},
		}},
		{"people", "/people?" + q, map[string][2]string{
			`#people tbody tr:first-child [data-field="contributions"]`: {"/api/v1/people?" + q, "rows.0.contributions"},
			`#people tbody tr:first-child [data-field="repos"]`:         {"/api/v1/people?" + q, "rows.0.repos"},
			`#people tbody tr:first-child td.name`:                      {"/api/v1/people?" + q, "rows.0.login"},
		}},
		{"community", "/community?" + q, map[string][2]string{
			`[data-kpi="contributors"] .value`:  {"/api/v1/metrics/community?" + q, "contributors"},
			`[data-kpi="contributions"] .value`: {"/api/v1/metrics/community?" + q, "contributions"},
			`[data-kpi="new"] .value`:           {"/api/v1/metrics/community?" + q, "new"},
			`[data-kpi="returning"] .value`:     {"/api/v1/metrics/community?" + q, "returning"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b.open(t, ts.URL+c.path, 1280, 900)
			if p := b.problems(); len(p) > 0 {
				t.Errorf("%s: %s", c.path, strings.Join(p, "\n"))
			}
			if h1 := b.text(t, "h1"); h1 == "" || b.text(t, ".error") != "" {
				t.Errorf("%s: heading %q, error %q", c.path, h1, b.text(t, ".error"))
			}
			if got := b.text(t, `nav a[aria-current="page"]`); got == "" {
				t.Errorf("%s: the navigation marks no page as current", c.path)
			}
			for sel, src := range c.figures {
				want := apiFigure(t, ts, src[0], src[1])
				if got := b.text(t, sel); got != want {
					t.Errorf("%s: %s shows %q; the API (%s %s) says %q", c.path, sel, got, src[0], src[1], want)
				}
			}
			for i, vp := range []struct {
				name string
				w, h int64
			}{{"laptop", 1280, 900}, {"phone", 375, 812}} {
				if i > 0 { // the laptop width is loaded already
					b.open(t, ts.URL+c.path, vp.w, vp.h)
				}
				png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if len(png) < 10_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
					t.Fatalf("%s screenshot is %d bytes; expected a full page", vp.name, len(png))
				}
				if err := os.WriteFile(filepath.Join(dir, c.name+"-"+vp.name+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
				// On a phone nothing may be wider than the screen but what scrolls by design.
				if vp.w < 600 {
					w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
					if err != nil {
						t.Fatal(err)
					}
					if w > int(vp.w) {
						t.Errorf("%s: the page is %d px wide on a %d px phone", c.path, w, vp.w)
					}
				}
			}
			if p := b.problems(); len(p) > 0 {
				t.Errorf("%s: %s", c.path, strings.Join(p, "\n"))
			}
		})
	}
	t.Logf("screenshots in %s", dir)
}

// apiFigure fetches the API answer and formats its field as the pages do: thousands
// separators for counts, a whole percentage for a field named with a trailing %.
func apiFigure(t *testing.T, ts *httptest.Server, path, field string) string {
	t.Helper()
	var v any
	if st := get(t, ts, path, nil, &v); st != http.StatusOK {
		t.Fatalf("GET %s: %d", path, st)
	}
	pct := strings.HasSuffix(field, "%")
	for _, k := range strings.Split(strings.TrimSuffix(field, "%"), ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				t.Fatalf("GET %s: no %s", path, field)
			}
			v = x[i]
		}
	}
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	case float64:
		if pct {
			return strconv.FormatFloat(x*100, 'f', 0, 64) + "%"
		}
		s := strconv.FormatFloat(x, 'f', 0, 64)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	}
	t.Fatalf("GET %s: %s is %T", path, field, v)
	return ""
}

// TestPagesBadInput answers a malformed filter, an unknown team and an unknown project with a
// 400 page naming them.
func TestPagesBadInput(t *testing.T) {
	ts, _ := server(t, config.Query{})
	for path, want := range map[string]string{
		"/?from=2025-02-30":                       "from: &#34;2025-02-30&#34; is not a date",
		"/teams?tema=core":                        "tema: unknown parameter",
		"/?team=nope":                             "team: &#34;nope&#34; is not a team in the data; the teams are core, web",
		"/teams/nope":                             "team: &#34;nope&#34; is not a team in the data",
		"/projects/nobody/nothing":                "repo: &#34;nobody/nothing&#34; is not a project Giveback knows",
		"/community?team=core":                    "team: outside contributors have no team",
		"/community?team=nope":                    "team: &#34;nope&#34; is not a team in the data; the teams are core, web",
		"/projects?upstream=maybe":                "upstream:",
		"/teams/core?team=web":                    "team: the team is in the path",
		"/projects?from=2025-03-01&to=2025-01-01": "from",
	} {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		if _, err := body.ReadFrom(resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body.String(), want) || !strings.Contains(body.String(), "<nav") {
			t.Errorf("GET %s: status %d, want 400 with %q in the page", path, resp.StatusCode, want)
		}
	}
}

// TestPagesEmpty shows how to load data on every page, instead of empty charts, when nothing
// is stored; and the navigation lists only the pages served.
func TestPagesEmpty(t *testing.T) {
	srv := newServer(t, report.Options{Store: testkit.Store(t), Company: "Acme Corp"})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	for _, path := range []string{"/", "/teams", "/projects", "/people", "/community"} {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		if _, err := body.ReadFrom(resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		page := body.String()
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "giveback up --demo") || strings.Contains(page, "<svg") {
			t.Errorf("GET %s: status %d; want the empty state with no chart", path, resp.StatusCode)
		}
		for _, route := range []string{"GET /teams", "GET /projects", "GET /community", "GET /people", "GET /live", "GET /reports"} {
			key := strings.TrimPrefix(route, "GET /")
			served := slices.Contains(srv.Routes(), route)
			if linked := strings.Contains(page, `data-nav="`+key+`"`); linked != served {
				t.Errorf("GET %s: navigation links %s: %v; the route is served: %v", path, key, linked, served)
			}
		}
	}
}

// BenchmarkFirstPaint measures the first paint of each page in headless Chromium, from the
// navigation's start, as the browser's Paint Timing reports it (ms/first-paint), on the
// fixture at laptop width.
func BenchmarkFirstPaint(b *testing.B) {
	st := testkit.Store(b)
	ctx := context.Background()
	for _, batch := range fixtureBatches() {
		if err := st.InsertContributions(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	richFixture(b, st)
	srv := newServer(b, report.Options{Store: st, Company: "Acme Corp", Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return day("2025-03-31 12:00") }})
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	br := newBrowser(b, ts.URL)
	q := "?from=2025-01-01&to=2025-03-31"
	for _, path := range []string{"/", "/teams", "/teams/core", "/projects", "/projects/golang/go", "/people", "/community"} {
		name := strings.ReplaceAll(strings.Trim(path, "/"), "/", "_")
		if name == "" {
			name = "overview"
		}
		b.Run(name, func(b *testing.B) {
			var paints []float64
			for b.Loop() {
				br.open(b, ts.URL+path+q, 1280, 900)
				fp, err := br.firstPaint()
				if err != nil {
					b.Fatal(err)
				}
				paints = append(paints, fp)
			}
			slices.Sort(paints)
			b.ReportMetric(paints[len(paints)/2], "ms/first-paint")
		})
	}
}

// TestPeoplePageRoster keeps the people who opted out off the people page, even when their rows
// are still stored, and counts the seats of people leaving on the projects page.
func TestPeoplePageRoster(t *testing.T) {
	st := fixture(t)
	richFixture(t, st)
	ro := &roster.Roster{Periods: []roster.Period{
		{EmployeeID: "e1", Team: "core", OptOut: true},
		{EmployeeID: "e2", Team: "core", End: day("2025-03-15 00:00")},
		{EmployeeID: "e3", Team: "web"},
	}}
	srv := newServer(t, report.Options{Store: st, Company: "Acme Corp", Roster: func() *roster.Roster { return ro },
		Now: func() time.Time { return day("2025-03-31 12:00") }})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	page := func(path string) string {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		if _, err := body.ReadFrom(resp.Body); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body.String())
		}
		return body.String()
	}
	people := page("/people?from=2025-01-01&to=2025-03-31")
	if strings.Contains(people, `data-employee="e1"`) || strings.Contains(people, "login-e1") {
		t.Error("the people page lists e1, who opted out")
	}
	for _, e := range []string{"e2", "e3"} {
		if !strings.Contains(people, `data-employee="`+e+`"`) {
			t.Errorf("the people page lacks %s", e)
		}
	}
	// e2 left on 2025-03-15 and held a seat in kubernetes/kubernetes.
	projects := page("/projects?from=2025-01-01&to=2025-03-31")
	if !strings.Contains(projects, `<div class="kpi" data-kpi="leaving_seats"><div class="name">Seats at risk</div><div class="value">1</div>`) ||
		!strings.Contains(projects, `<tr data-repo="kubernetes/kubernetes"><td class="name"><a href="./projects/kubernetes/kubernetes?from=2025-01-01&amp;to=2025-03-31">kubernetes/kubernetes</a></td><td class="num">1</td>`) {
		t.Errorf("the projects page does not count e2's seat as leaving:\n%s", projects)
	}
	if p := page("/projects/kubernetes/kubernetes?from=2025-01-01&to=2025-03-31"); !strings.Contains(p, "left 2025-03-15") {
		t.Errorf("the project page does not say that e2 left:\n%s", p)
	}
}

// TestPageLinks follows every link of every page, with a team in the filter: each leads to an
// answer, never to a 4xx or 5xx (a 503 of a part the test server does not run, such as the live
// feed, aside).
func TestPageLinks(t *testing.T) {
	ts, st := server(t, config.Query{})
	richFixture(t, st)
	href := regexp.MustCompile(`href="([^"]*)"`)
	seen := map[string]bool{}
	for _, start := range []string{"/?from=2025-01-01&to=2025-03-31&team=core&upstream=1", "/teams?from=2025-01-01&to=2025-03-31",
		"/teams/web?from=2025-01-01&to=2025-03-31", "/projects?from=2025-01-01&to=2025-03-31&team=core",
		"/projects/kubernetes/kubernetes?from=2025-01-01&to=2025-03-31", "/people?team=web", "/community", "/identities"} {
		page, err := url.Parse(ts.URL + start)
		if err != nil {
			t.Fatal(err)
		}
		status, body := fetch(t, page.String())
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", start, status)
		}
		for _, m := range href.FindAllStringSubmatch(body, -1) {
			ref, err := url.Parse(html.UnescapeString(m[1]))
			if err != nil {
				t.Errorf("%s: bad link %q", start, m[1])
				continue
			}
			u := page.ResolveReference(ref).String()
			if ref.Scheme == "data" || seen[u] {
				continue
			}
			seen[u] = true
			if st, _ := fetch(t, u); st >= 400 && st != http.StatusServiceUnavailable {
				t.Errorf("%s links %s (%s), which answers %d", start, m[1], u, st)
			}
		}
	}
	if len(seen) < 30 {
		t.Errorf("only %d links followed", len(seen))
	}
}

func fetch(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body.String()
}
