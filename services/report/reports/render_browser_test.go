package reports_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report/reports"
)

// testReportInBrowser opens the HTML mail (its cid: images resolved to the PNG parts, as a mail
// client does) and the web copy in headless Chromium. The pages are served under a
// Content-Security-Policy that allows nothing but inline styles and data: images and reports
// every other load it blocks to the test server, which also records every request: the pages
// must request nothing but themselves. It checks the DOM and keeps a screenshot of each.
func testReportInBrowser(t *testing.T, st *store.Store) {
	bin := testkit.Chromium(t)
	rep, err := reports.BuildWith(context.Background(), st, definition(), october, generated, reports.Options{BaseURL: "https://giveback.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string][]byte{"/mail.html": mailWithParts(rep), "/web.html": rep.WebHTML}
	if probe := os.Getenv("GIVEBACK_TEST_EXTERNAL_PROBE"); probe != "" {
		// A way to watch this test fail: a page that loads an image from elsewhere.
		pages["/web.html"] = bytes.Replace(pages["/web.html"], []byte("</body>"), []byte(`<img src="`+probe+`"></body>`), 1)
	}
	var mu sync.Mutex
	var seen, violations []string
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/csp" {
			body := new(bytes.Buffer)
			body.ReadFrom(r.Body)
			violations = append(violations, body.String())
			return
		}
		seen = append(seen, r.Method+" "+r.URL.Path)
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; report-uri /csp")
		w.Write(body)
	}))
	defer site.Close()
	flags := []string{"--window-size=700,2600", "--virtual-time-budget=1000"}
	dir := artifacts(t)
	// Chromium takes seconds to start here: the mail is read and photographed, the web copy
	// only photographed (its loads are checked all the same).
	dom := string(testkit.Headless(t, bin, site.URL+"/mail.html", append(flags, "--dump-dom")...))
	for _, want := range []string{"Open source give-back", "Pull requests merged upstream", "66.7%", "not met (-1)", "left/pad", `data-chart="trend-contributions"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered mail lacks %s", want)
		}
	}
	if n := strings.Count(dom, `src="data:image/png;base64,`); n != 6 {
		t.Errorf("the rendered mail shows %d PNG charts, want 6", n)
	}
	for _, path := range []string{"/mail.html", "/web.html"} {
		shot := filepath.Join(dir, "report"+strings.ReplaceAll(strings.TrimSuffix(path, ".html"), "/", "-")+".png")
		testkit.Headless(t, bin, site.URL+path, append(flags, "--screenshot="+shot, "--hide-scrollbars")...)
		png, err := os.ReadFile(shot)
		if err != nil || len(png) < 20_000 {
			t.Errorf("%s: no full screenshot (%d bytes, %v)", path, len(png), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, v := range violations {
		t.Errorf("the page tried to load something else: %s", v)
	}
	for _, s := range seen {
		if s != "GET /mail.html" && s != "GET /web.html" && s != "GET /favicon.ico" {
			t.Errorf("the browser requested %s: a report must request nothing but itself", s)
		}
	}
}

// mailWithParts returns the HTML mail with its cid: references replaced by the PNG parts, as a
// mail client shows it.
func mailWithParts(rep *reports.Report) []byte {
	mail := rep.HTML
	for cid, png := range rep.Images {
		mail = bytes.ReplaceAll(mail, []byte("cid:"+cid), []byte("data:image/png;base64,"+base64.StdEncoding.EncodeToString(png)))
	}
	return mail
}
