package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"giveback.dev/platform/config"
	"giveback.dev/platform/testkit"
)

// TestDashboardInBrowser loads the dashboard in a real, headless Chromium, checks the DOM it
// built and takes a screenshot (kept when GIVEBACK_SCREENSHOT_DIR is set, for a person to look
// at).
func TestDashboardInBrowser(t *testing.T) {
	bin := testkit.Chromium(t)
	ts, _ := server(t, config.Query{})
	dir := t.TempDir()
	url := ts.URL + "/?from=2025-01-01&to=2025-03-31"

	dom := string(testkit.Headless(t, bin, url, "--window-size=1280,1600", "--virtual-time-budget=5000", "--dump-dom"))
	for _, want := range []string{
		`data-chart="contributions"`, `data-chart="contributors"`, `data-chart="acceptance"`, `data-chart="repos"`,
		`data-chart="cycle"`, "No dependency list imported",
		`data-label="Jan 25" data-series="Pull requests opened" data-value="2"`,
		`data-label="Mar 25" data-series="Comments" data-value="1"`,
		`data-label="Mar 25" data-series="active contributors" data-value="3"`,
		`data-label="Jan 25" data-series="merged" data-value="1"`,
		`data-label="Feb 25" data-series="ratio" data-value="100.0"`,
		`data-label="golang/go" data-value="4"`,
		`<option value="core">core</option>`, `<option value="web">web</option>`,
		"1 Jan 2025 – 31 Mar 2025", "Acme Corp",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %s", want)
		}
	}
	kpi := func(key string) string {
		m := regexp.MustCompile(`data-kpi="` + key + `"><div class="value">([^<]*)<`).FindStringSubmatch(dom)
		if m == nil {
			return ""
		}
		return m[1]
	}
	for key, want := range map[string]string{"contributions": "10", "active_contributors": "3", "upstream_repos": "4", "acceptance_ratio": "75%"} {
		if got := kpi(key); got != want {
			t.Errorf("KPI %s shows %q, want %q", key, got, want)
		}
	}
	if n := strings.Count(dom, `<rect class="bar"`); n < 15 {
		t.Errorf("only %d bars rendered", n)
	}
	for _, bad := range []string{"ZgotmplZ", "Uncaught", "TypeError", "Cannot show this view"} {
		if strings.Contains(dom, bad) {
			t.Errorf("the rendered page contains %q", bad)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	shot := filepath.Join(dir, "dash.png")
	testkit.Headless(t, bin, url, "--window-size=1280,1600", "--virtual-time-budget=5000", "--screenshot="+shot, "--hide-scrollbars")
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if len(png) < 20_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is %d bytes; expected a full page", len(png))
	}
	if keep := os.Getenv("GIVEBACK_SCREENSHOT_DIR"); keep != "" {
		if err := os.WriteFile(filepath.Join(keep, "dashboard.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDashboardBadFilter shows the reason on the page and answers 400.
func TestDashboardBadFilter(t *testing.T) {
	ts, _ := server(t, config.Query{})
	resp, err := ts.Client().Get(ts.URL + "/?from=2025-02-30")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || !strings.Contains(body.String(), "from: &#34;2025-02-30&#34; is not a date") {
		t.Fatalf("status %d:\n%s", resp.StatusCode, body.String())
	}
}
