package web

import (
	"bytes"
	"strings"
	"testing"

	"giveback.dev/services/report/metrics"
)

// TestRenderEscapes checks that names from the data cannot inject markup into the page or its
// charts, and that an empty period renders without errors.
func TestRenderEscapes(t *testing.T) {
	evil := `<script>alert(1)</script>"'&`
	d := Data{
		Company: evil,
		Filter:  metrics.Period{From: "2025-01-01", To: "2025-01-31", Team: evil, Upstream: "all"},
		Teams:   []metrics.Team{{Team: evil, Contributions: 1}},
		Contributions: metrics.Contributions{Kinds: []string{evil}, Months: []metrics.KindMonth{
			{Month: "2025-01", Total: 1, ByKind: map[string]int64{evil: 1}}}},
		Contributors: metrics.Contributors{Months: []metrics.ContributorMonth{{Month: "2025-01"}}},
		Acceptance:   metrics.Acceptance{Months: []metrics.AcceptanceMonth{{Month: "2025-01"}}},
		Repos:        metrics.Repos{Top: []metrics.Repo{{Repo: evil, Contributions: 1}}},
	}
	var b bytes.Buffer
	if err := Render(&b, d); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script") {
		t.Fatal("a name from the data reached the page unescaped")
	}
	for _, want := range []string{"No pull requests decided in this period", "No active contributors in this period", `data-chart="repos"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
