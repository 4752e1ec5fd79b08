package report

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDefinitionsPage checks that /docs/METRICS.md serves the metric definitions as a page, with
// an anchor for every heading as the scheduled reports link to them, the SQL of a statement
// verbatim, and no raw HTML from the file.
func TestDefinitionsPage(t *testing.T) {
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL + "/docs/METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs/METRICS.md: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc, err := os.ReadFile("METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := 0
	for _, line := range strings.Split(string(doc), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			headings++
			if !strings.Contains(page, `id="`+Anchor(h)+`"`) {
				t.Errorf("no anchor %q for the heading %q", Anchor(h), h)
			}
		}
	}
	if headings < 10 {
		t.Fatalf("only %d headings found in METRICS.md", headings)
	}
	if !strings.Contains(page, "<table>") || !strings.Contains(page, "do_not_merge_across_partitions_select_final") {
		t.Error("the page lacks the tables or the statements of METRICS.md")
	}
	if regexp.MustCompile(`(?i)<script`).MatchString(page) {
		t.Error("the page carries a script")
	}
}

func TestAnchor(t *testing.T) {
	for in, want := range map[string]string{
		"Common rules":                   "common-rules",
		"New and returning contributors": "new-and-returning-contributors",
		"Elephant Factor (per project)":  "elephant-factor-per-project",
		"Give-back coverage: `cycle`":    "give-back-coverage-cycle",
		"Time to first response & merge": "time-to-first-response--merge",
	} {
		if got := Anchor(in); got != want {
			t.Errorf("Anchor(%q) = %q, want %q", in, got, want)
		}
	}
}
