package reports

import (
	"bytes"
	"encoding/csv"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fuzzNumbers is a report whose names from the data (a pull request's title and address, a
// team, a repository) are the fuzzer's.
func fuzzNumbers(title, team, repo, link string) *Numbers {
	v, p := 5.0, 3.0
	d, pct := v-p, (v-p)/p*100
	return &Numbers{
		Report: "fuzz", Title: "Report " + title,
		Period:   PeriodInfo{From: "2026-10-01", To: "2026-10-31", Label: "2026-10", TZ: "UTC"},
		Previous: PeriodInfo{From: "2026-09-01", To: "2026-09-30", Label: "2026-09", TZ: "UTC"},
		Filter:   FilterInfo{Team: team, Upstream: "1"}, GeneratedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Sections:  Sections,
		Narrative: "Team " + team + " worked on " + repo + ".",
		Headline:  []Figure{{Key: TargetUpstreamContributions, Label: "Upstream contributions", Unit: UnitCount, Value: &v, Previous: &p, Delta: &d, DeltaPct: &pct, Link: link}},
		Highlights: &Highlights{MergedPRs: []HighlightPR{{Repo: repo, Number: 1, Title: title, URL: link, Lines: 10, Why: []string{"largest"}}},
			NewProjects: []string{repo}, NewProjectsCount: 1, FirstTimers: 1, FirstTimerNames: []string{team}},
		Risks:           &RiskSection{Total: 1, Rows: []RiskRow{{Repo: repo, Criticality: 2, Reasons: []string{title}}}, Link: link},
		Teams:           []TeamRow{{Team: team, UpstreamContributions: 5, Link: link}},
		Recommendations: []Recommendation{{Rule: RuleTargetMissed, Text: title, Numbers: []string{repo}}},
		Links:           Links{Dashboard: link, Archive: link, Metrics: link},
	}
}

// The elements the HTML formats write; anything else would come from the data unescaped.
var htmlTag = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)`)

var ownTags = map[string]bool{"html": true, "head": true, "meta": true, "title": true, "body": true, "table": true,
	"tr": true, "td": true, "th": true, "h1": true, "h2": true, "p": true, "a": true, "ul": true, "li": true, "span": true,
	"div": true, "img": true}

// FuzzRender renders a report whose names from the data are arbitrary and checks that no format
// lets them break out: the HTML has only its own elements and safe links, every Markdown table
// row has its columns, the CSV reads back without a formula. (The PDF encodes text in its own
// code page, tested apart: its fonts make each run too slow for fuzzing.)
func FuzzRender(f *testing.F) {
	f.Add("Fix reconnect", "core", "nats-io/nats.go", "https://github.com/nats-io/nats.go/pull/1")
	f.Add("<script>alert(1)</script>", "a|b", "x/y\nz", "javascript:alert(1)")
	f.Add(`"><img src=x onerror=1>`, "=cmd()", "[a](b)", "//evil.example/x")
	f.Add("é ü – … ≥ 漢字", "\x00\r\n", "", "/relative?x=1&y=<2>")
	f.Fuzz(func(t *testing.T, title, team, repo, link string) {
		n := fuzzNumbers(title, team, repo, link)
		d := buildDoc(n)
		for name, body := range map[string][]byte{"mail": renderHTML(d, n, htmlMail, nil), "web": renderHTML(d, n, htmlWeb, nil)} {
			for _, m := range htmlTag.FindAllSubmatch(body, -1) {
				if !ownTags[strings.ToLower(string(m[2]))] {
					t.Fatalf("%s HTML has an element <%s> from the data", name, m[2])
				}
			}
			if bytes.Contains(bytes.ToLower(body), []byte(`href="javascript:`)) || bytes.Contains(body, []byte(`href="//`)) {
				t.Fatalf("%s HTML links to an unsafe address", name)
			}
		}
		md := renderMarkdown(d, n)
		if tables := strings.Count(string(md), "\n| --- |"); tables == 0 {
			t.Fatalf("markdown lost its tables")
		}
		checkMarkdownTables(t, string(md))
		body, err := renderCSV(d, n)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("the CSV does not read back: %v", err)
		}
		for _, r := range rows[1:] {
			if strings.HasPrefix(r[1], "=") || strings.HasPrefix(r[1], "+") || strings.HasPrefix(r[1], "@") {
				t.Fatalf("the CSV item %q would be read as a formula", r[1])
			}
		}
		for _, line := range strings.Split(string(renderText(d, n)), "\n") {
			if strings.Count(line, "") > 4*textWidth+len(title)+len(team)+len(repo)+len(link) {
				t.Fatalf("a text line of %d characters", len(line))
			}
		}
	})
}

// checkMarkdownTables checks that every row of a Markdown table has as many cells as its header.
func checkMarkdownTables(t *testing.T, md string) {
	t.Helper()
	sep := regexp.MustCompile(`(^|[^\\])((\\\\)*)\|`)
	want := -1
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		n := len(sep.FindAllStringIndex(line, -1))
		if want < 0 {
			want = n
			continue
		}
		if n != want {
			t.Fatalf("markdown row %q has %d separators, its header %d", line, n, want)
		}
	}
}
