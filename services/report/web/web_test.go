package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"giveback.dev/services/report/metrics"
)

// TestRenderEscapes checks that names from the data cannot inject markup into the page or its
// charts, and that an empty period renders without errors.
func TestRenderEscapes(t *testing.T) {
	evil := `<script>alert(1)</script>"'&`
	o := Overview{
		Chrome: Chrome{Company: evil, Title: evil, Base: "./", Nav: NavFor([]string{"GET /{$}", "GET /teams"}),
			Filter: &FilterBar{Period: metrics.Period{From: "2025-01-01", To: "2025-01-31", Team: evil, Upstream: "all"}, Teams: []string{evil}, Team: true}},
		Contributions: metrics.Contributions{Kinds: []string{evil}, Months: []metrics.KindMonth{
			{Month: "2025-01", Total: 1, ByKind: map[string]int64{evil: 1}}}},
		Contributors: metrics.Contributors{Months: []metrics.ContributorMonth{{Month: "2025-01"}}},
		Acceptance:   metrics.Acceptance{Months: []metrics.AcceptanceMonth{{Month: "2025-01"}}},
		Repos:        metrics.Repos{Top: []metrics.Repo{{Repo: evil, Contributions: 1}}},
		Cycle:        metrics.Cycle{Dependencies: 1, Repos: []metrics.CycleRepo{{Repo: evil, Criticality: 3}}},
	}
	var b bytes.Buffer
	if err := RenderOverview(&b, o); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script") {
		t.Fatal("a name from the data reached the page unescaped")
	}
	for _, want := range []string{"No pull requests decided in this period", "No active contributors in this period",
		`data-chart="cycle"`, "Neglected: critical, little given", `data-nav="teams"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, `data-nav="people"`) {
		t.Error("the navigation links a page whose route is not served")
	}
}

// TestPeriods checks the previous period (same length, just before) and the trend months.
func TestPeriods(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	for _, c := range []struct{ from, to, pfrom, pto, tfrom string }{
		{"2025-01-01", "2025-03-31", "2024-10-03", "2024-12-31", "2024-04-01"},
		{"2025-03-01", "2025-03-01", "2025-02-28", "2025-02-28", "2024-04-01"},
		{"2024-03-01", "2025-02-28", "2023-03-02", "2024-02-29", "2024-03-01"},
	} {
		f := metrics.Filter{From: d(c.from), To: d(c.to)}
		p, tr := PreviousPeriod(f), TrendPeriod(f)
		if got := [3]string{p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), tr.From.Format(time.DateOnly)}; got != [3]string{c.pfrom, c.pto, c.tfrom} {
			t.Errorf("%s…%s: previous and trend %v, want %v", c.from, c.to, got, [3]string{c.pfrom, c.pto, c.tfrom})
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

// TestPagesRender renders every page with names that try to inject markup, and checks that each
// renders, escapes them and shows the layout.
func TestPagesRender(t *testing.T) {
	evil := `<script>alert(1)</script>"'&`
	one := 1
	ratio := 0.5
	c := Chrome{Company: evil, Title: evil, Base: "../", Nav: NavFor([]string{"GET /{$}", "GET /projects"}), Active: "projects",
		Filter: &FilterBar{Period: metrics.Period{From: "2025-01-01", To: "2025-03-31", Team: evil}, Teams: []string{evil}, Team: true}}
	trend := make([]int64, 12)
	renders := map[string]func(*bytes.Buffer) error{
		"teams": func(b *bytes.Buffer) error {
			return RenderTeams(b, Teams{Chrome: c, Rows: []TeamRow{{Team: evil, Top: metrics.Repos{Top: []metrics.Repo{{Repo: evil}}}}}})
		},
		"projects": func(b *bytes.Buffer) error {
			return RenderProjects(b, Projects{Chrome: c, Roster: true, Leaving: map[string]int64{strings.ToLower(evil): 2},
				Work:  metrics.Projects{Total: 3, Rows: []metrics.Project{{Repo: evil, Contributions: 4, Acceptance: &ratio, ElephantFactor: &one, Trend: trend}}},
				Risks: metrics.Risks{Total: 1, Rows: []metrics.Risk{{Repo: evil, Reasons: []string{metrics.RiskElephant, metrics.RiskStale, evil}}}}})
		},
		"project": func(b *bytes.Buffer) error {
			return RenderProject(b, Project{Chrome: c, Repo: evil, Events: 10, Orgs: []ProjectOrg{{Name: evil, Kind: "company", Share: .5}},
				Row: &metrics.Project{Repo: evil, Trend: trend}, Months: make([]ProjectMonth, 12),
				Seats: []SeatRow{{Seat: metrics.Seat{Login: evil}, Name: evil, Leaving: "2025-03-15", Left: true}}})
		},
		"community": func(b *bytes.Buffer) error {
			return RenderCommunity(b, Community{Chrome: c, Community: metrics.Community{Organizations: []metrics.CommunityOrg{{Name: evil, Contributors: 1}},
				Months: []metrics.CommunityMonth{{Month: "2025-01", Contributors: 2, New: 1}}}})
		},
		"people": func(b *bytes.Buffer) error {
			return RenderPeople(b, People{Chrome: c, Record: metrics.People{Total: 1, Rows: []metrics.Person{{Login: evil, Team: evil, Contributions: 2}}}})
		},
	}
	for name, render := range renders {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		page := b.String()
		if strings.Contains(page, "<script") || strings.Contains(page, "ZgotmplZ") {
			t.Errorf("%s: a name from the data reached the page unescaped", name)
		}
		for _, want := range []string{`<nav aria-label="Pages">`, `aria-current="page"`, `href="../?from=2025-01-01`, "</html>"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the page lacks %q", name, want)
			}
		}
	}
}
