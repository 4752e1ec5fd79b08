package reports

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestMetricAnchorsExist checks that every METRICS.md anchor a report links to is a heading of
// the file, as GitHub and common Markdown renderers make anchors of headings.
func TestMetricAnchorsExist(t *testing.T) {
	doc, err := os.ReadFile("../METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	drop := regexp.MustCompile(`[^a-z0-9 \-]`)
	for _, line := range strings.Split(string(doc), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			anchors[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")] = true
		}
	}
	for key, a := range metricAnchors {
		if !anchors[a] {
			t.Errorf("%s links to METRICS.md#%s, which is no heading there", key, a)
		}
	}
}
