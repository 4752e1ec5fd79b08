package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/deps"
	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report/reports"
)

// The fixture: four people of two teams, October 2026 as the report's period and September as
// the previous one. Every expected number below is worked out by hand from these rows.
//
//	October (upstream): pr1 ann nats-io/nats.go merged (120 lines, answered after 4 h, merged
//	after 72 h), pr2 bob golang/go merged (600 lines, 10 h, 168 h), pr3 cid kubernetes declined
//	(20 h), a review by ann on nats.go, dee's first upstream comment ever on new/project.
//	→ 5 contributions, 2 merged of 3 decided (66.7%), 4 people, 4 projects, first response
//	median 10.0 h, merge median 120.0 h.
//	September: pr4 ann nats.go merged (8 h, 48 h), bob's comment on golang/go.
//	→ 2 contributions, 1 merged of 1 (100.0%), 2 people, 2 projects, 8.0 h, 48.0 h.
//	Dependencies: nats.go (5 services), golang/go (3), left/pad (4), small/lib (1), old/parser
//	(2): coverage 2 of 5 = 40.0% in October (20.0% in September), weighted 8/15 = 53.3%.
var (
	october   = period("2026-10-01", "2026-11-01")
	generated = time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC)
)

func period(from, to string) reports.Period {
	l, _ := time.LoadLocation("Europe/Berlin")
	f, _ := time.ParseInLocation(time.DateOnly, from, l)
	t, _ := time.ParseInLocation(time.DateOnly, to, l)
	return reports.Period{From: f, To: t, Label: from[:7], TZ: l}
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

func fixture(t testing.TB) *store.Store {
	t.Helper()
	st := testkit.Store(t)
	ctx := context.Background()
	err := st.ReplaceDependencies(ctx, "imp", 1, []deps.Dependency{
		{Repo: "nats-io/nats.go", Criticality: 5}, {Repo: "golang/go", Criticality: 3},
		{Repo: "left/pad", Criticality: 4}, {Repo: "small/lib", Criticality: 1}, {Repo: "old/parser", Criticality: 2},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	people := map[string][2]string{"e1": {"ann", "core"}, "e2": {"bob", "core"}, "e3": {"cid", "web"}, "e4": {"dee", "web"}}
	crit := map[string]int{"nats-io/nats.go": 5, "golang/go": 3}
	row := func(id, kind, when, emp, repo, dest string) events.Contribution {
		owner, _, _ := strings.Cut(repo, "/")
		c := events.Contribution{Schema: events.SchemaContribution, ID: id, Kind: kind, OccurredAt: at(when),
			ActorLogin: people[emp][0], EmployeeID: emp, Team: people[emp][1], Repo: repo, RepoOwner: owner,
			IsUpstream: dest == "upstream", Destination: dest, Source: events.SourceGHArchive, Version: 2,
			Title: "title of " + id, URL: "https://github.com/" + repo + "/pull/1"}
		if n, ok := crit[repo]; ok {
			c.IsDependency, c.DependencyCriticality = true, n
		}
		return c
	}
	pr := func(id, opened, emp, repo string, number int, lines int, answered, decided string, merged bool) events.Contribution {
		c := row(id, events.KindPullRequest, opened, emp, repo, "upstream")
		c.Number, c.Additions, c.Deletions, c.State = number, lines*5/6, lines-lines*5/6, "closed"
		c.FirstResponseAt, c.ClosedAt = ptr(at(answered)), ptr(at(decided))
		if merged {
			c.Merged, c.MergedAt = true, ptr(at(decided))
		}
		return c
	}
	pr1 := pr("pr:1", "2026-10-02 09:00", "e1", "nats-io/nats.go", 10, 120, "2026-10-02 13:00", "2026-10-05 09:00", true)
	pr1.Title = "Fix reconnect"
	pr2 := pr("pr:2", "2026-10-03 09:00", "e2", "golang/go", 20, 600, "2026-10-03 19:00", "2026-10-10 09:00", true)
	pr2.Title = "Speed up maps"
	pr3 := pr("pr:3", "2026-10-04 09:00", "e3", "kubernetes/kubernetes", 30, 40, "2026-10-05 05:00", "2026-10-20 09:00", false)
	pr4 := pr("pr:4", "2026-09-01 09:00", "e1", "nats-io/nats.go", 5, 10, "2026-09-01 17:00", "2026-09-03 09:00", true)
	// An older version of pr1, still open: FINAL keeps the newer one.
	old := pr1
	old.Version, old.State, old.Merged, old.MergedAt, old.ClosedAt = 1, "open", false, nil, nil
	outsider := row("comment:out", events.KindComment, "2026-10-12 10:00", "", "acme/sdk", "company_oss")
	outsider.ActorLogin = "stranger"
	rows := []events.Contribution{old, pr1, pr2, pr3, pr4,
		row("review:1", events.KindReview, "2026-10-06 10:00", "e1", "nats-io/nats.go", "upstream"),
		row("comment:1", events.KindComment, "2026-10-15 10:00", "e4", "new/project", "upstream"),
		row("commit:1", events.KindCommit, "2026-10-07 10:00", "e1", "acme/internal", "internal"),
		// bob's earlier upstream work is in another repository: "Speed up maps" is his first
		// contribution to golang/go, "Fix reconnect" not ann's first to nats-io/nats.go (pr4).
		row("comment:2", events.KindComment, "2026-09-10 10:00", "e2", "golang/tools", "upstream"),
		row("commit:2", events.KindCommit, "2026-03-01 10:00", "e3", "kubernetes/kubernetes", "upstream"),
		outsider,
	}
	if err := st.InsertContributions(ctx, rows); err != nil {
		t.Fatal(err)
	}
	// Project totals: left/pad's activity is one person's (Elephant Factor 1); small/lib's is
	// shared by three (Elephant Factor 2).
	err = st.InsertProjectActivity(ctx, []events.HourTotals{{Hour: "2026-10-05-10", Rows: []events.ActivityRow{
		{Day: "2026-10-05", Repo: "left/pad", Actor: "solo", Type: "PushEvent", Events: 30},
		{Day: "2026-10-05", Repo: "left/pad", Actor: "helper", Type: "IssueCommentEvent", Events: 5},
		{Day: "2026-10-05", Repo: "small/lib", Actor: "x", Type: "PushEvent", Events: 10},
		{Day: "2026-10-05", Repo: "small/lib", Actor: "y", Type: "PushEvent", Events: 10},
		{Day: "2026-10-05", Repo: "small/lib", Actor: "z", Type: "PushEvent", Events: 10},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func definition() reports.Definition {
	return reports.Definition{Name: "monthly", Title: "Open source give-back", Period: reports.PeriodPreviousMonth,
		Targets:   map[string]float64{reports.TargetUpstreamPRsMerged: 3, reports.TargetGiveBackCoverage: 0.35},
		LaborCost: &reports.LaborCost{Currency: "EUR", PerKind: map[string]float64{events.KindPullRequest: 400, events.KindReview: 100}},
	}
}

func artifacts(t *testing.T) string {
	if d := os.Getenv("GIVEBACK_ARTIFACTS"); d != "" {
		dir := filepath.Join(d, "reports")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// testReportFixture builds the October report of the fixture and checks every headline number,
// the sections and every format against the values worked out by hand.
func testReportFixture(t *testing.T, st *store.Store) {
	ctx := context.Background()
	rep, err := reports.BuildWith(ctx, st, definition(), october, generated, reports.Options{BaseURL: "https://giveback.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	n := rep.Numbers
	if rep.Empty || n.Period.From != "2026-10-01" || n.Period.To != "2026-10-31" || n.Previous.From != "2026-09-01" || n.Previous.To != "2026-09-30" {
		t.Fatalf("period %+v previous %+v empty %v", n.Period, n.Previous, rep.Empty)
	}
	// The headline as every format shows it: label, value, previous, change, target status.
	want := map[string][5]string{
		reports.TargetUpstreamContributions: {"Upstream contributions", "5", "2", "+3 (+150.0%)", ""},
		reports.TargetUpstreamPRsMerged:     {"Pull requests merged upstream", "2", "1", "+1 (+100.0%)", "not met (-1)"},
		reports.TargetActiveContributors:    {"Active contributors", "4", "2", "+2 (+100.0%)", ""},
		reports.TargetUpstreamProjects:      {"Upstream projects reached", "4", "2", "+2 (+100.0%)", ""},
		reports.TargetAcceptanceRatio:       {"Acceptance ratio", "66.7%", "100.0%", "-33.3 pp", ""},
		reports.TargetFirstResponseHours:    {"Time to first response (median)", "10.0 h", "8.0 h", "+2.0 h", ""},
		reports.TargetMergeHours:            {"Time to merge (median)", "120.0 h", "48.0 h", "+72.0 h", ""},
		reports.TargetGiveBackCoverage:      {"Give-back coverage of dependencies", "40.0%", "20.0%", "+20.0 pp", "met (+5.0 pp)"},
	}
	if len(n.Headline) != len(want) {
		t.Fatalf("%d headline figures, want %d", len(n.Headline), len(want))
	}
	text, md, web := string(rep.Text), string(rep.Markdown), string(rep.HTML)
	for _, f := range n.Headline {
		w := want[f.Key]
		got := [5]string{f.Label, reports.FormatValue(f.Value, f.Unit), reports.FormatValue(f.Previous, f.Unit), reports.FormatChange(f), reports.FormatStatus(f)}
		if got != w {
			t.Errorf("headline %s = %q, want %q", f.Key, got, w)
		}
		for name, body := range map[string]string{"text": text, "markdown": md, "html": web} {
			for _, s := range w {
				if s != "" && !strings.Contains(body, s) {
					t.Errorf("%s lacks %q of %s", name, s, f.Key)
				}
			}
		}
	}
	if n.PRsDecided != 3 {
		t.Errorf("prs decided %d, want 3", n.PRsDecided)
	}
	// Sections.
	if c := n.Cycle; c == nil || c.Dependencies != 5 || c.Covered != 2 || reports.FormatValue(c.Weighted, reports.UnitRatio) != "53.3%" ||
		len(c.Neglected) != 3 || c.Neglected[0].Repo != "left/pad" || c.CameBack == nil || c.CameBack.Contributors != 1 || c.CameBack.New != 1 {
		t.Errorf("cycle %+v", n.Cycle)
	}
	if r := n.Risks; r == nil || len(r.Rows) != 1 || r.Rows[0].Repo != "left/pad" || r.Rows[0].ElephantFactor == nil || *r.Rows[0].ElephantFactor != 1 {
		t.Errorf("risks %+v, want left/pad alone, with an Elephant Factor of 1", n.Risks)
	}
	if got := teamsText(n.Teams); got != "core 3/2/2/0 web 2/0/2/1" {
		t.Errorf("teams %s, want core 3/2/2/0 web 2/0/2/1 (contributions/merged/active/new)", got)
	}
	h := n.Highlights
	if h == nil || len(h.MergedPRs) != 2 || h.MergedPRs[0].Title != "Fix reconnect" || h.MergedPRs[1].Title != "Speed up maps" ||
		h.MergedPRs[1].Lines != 600 || strings.Join(h.NewProjects, " ") != "golang/go new/project" || h.NewProjectsCount != 2 ||
		h.FirstTimers != 1 || h.FirstTimerNames != nil {
		t.Errorf("highlights %+v", h)
	}
	if h != nil && len(h.MergedPRs) == 2 && (h.MergedPRs[0].First || !h.MergedPRs[1].First) {
		t.Errorf("first contributions: %s %v, %s %v; want only Speed up maps, bob's first to golang/go",
			h.MergedPRs[0].Title, h.MergedPRs[0].First, h.MergedPRs[1].Title, h.MergedPRs[1].First)
	}
	for _, p := range h.MergedPRs {
		if p.Author != "" {
			t.Errorf("highlight %s names %s although the definition does not allow names", p.Title, p.Author)
		}
	}
	if l := n.Labor; l == nil || l.Total != 3*400+100 {
		t.Errorf("labor %+v, want 3 pull requests × 400 + 1 review × 100 = 1300", n.Labor)
	}
	rules := map[string]bool{}
	for _, r := range n.Recommendations {
		rules[r.Rule] = true
	}
	// Acceptance fell by 33.3 points, but on 3 decided pull requests, under the rule's 5.
	if !rules[reports.RuleElephantFactorOne] || !rules[reports.RuleNeglectedCritical] || !rules[reports.RuleTargetMissed] || len(rules) != 3 {
		t.Errorf("recommendations %+v, want Elephant Factor 1, neglected dependencies and a missed target", n.Recommendations)
	}
	for _, s := range []string{"1 dependency the company uses is carried by one organization and no contributor of ours: consider funding or staffing left/pad.", "Between 1 Oct 2026 and 31 Oct 2026, 4 people of the company made 5 upstream contributions and had 2 pull requests merged."} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), s) {
			t.Errorf("the text lacks %q", s)
		}
	}
	// Every chart is a PNG part the mail refers to by Content-ID.
	if len(rep.Images) != 6 {
		t.Errorf("%d images, want 6 charts", len(rep.Images))
	}
	for cid, png := range rep.Images {
		if !bytes.HasPrefix(png, []byte("\x89PNG")) || !strings.Contains(web, `src="cid:`+cid+`"`) {
			t.Errorf("image %s is not a PNG referenced by the mail", cid)
		}
	}
	if !strings.Contains(string(rep.WebHTML), "<svg") || strings.Contains(string(rep.WebHTML), "cid:") {
		t.Errorf("the web copy does not draw its charts inline")
	}
	// Links: the dashboard view of the period and filter, and the definitions.
	if !strings.Contains(web, `href="https://giveback.example.com/?from=2026-10-01&amp;to=2026-10-31&amp;upstream=1"`) ||
		!strings.Contains(web, "METRICS.md#change-request-acceptance-ratio") {
		t.Errorf("the mail lacks the dashboard and definition links")
	}
	checkCSV(t, rep)
	checkPDF(t, rep)
}

// TestReport builds the fixture's reports once stored: the numbers and every format, an empty
// period, names and dependencies only, the equality with the JSON API, and the mail in a browser.
func TestReport(t *testing.T) {
	st := fixture(t)
	t.Run("fixture", func(t *testing.T) { testReportFixture(t, st) })
	t.Run("empty period", func(t *testing.T) { testReportEmptyPeriod(t, st) })
	t.Run("people and dependencies only", func(t *testing.T) { testReportPeopleAndDependenciesOnly(t, st) })
	t.Run("equals the API", func(t *testing.T) { testReportEqualsAPI(t, st) })
	t.Run("headline without trends", func(t *testing.T) { testHeadlineWithoutTrends(t, st) })
	t.Run("in a browser", func(t *testing.T) { testReportInBrowser(t, st) })
}

func teamsText(rows []reports.TeamRow) string {
	var out []string
	for _, r := range rows {
		newc := "nil"
		if r.New != nil {
			newc = itoa(*r.New)
		}
		out = append(out, r.Team+" "+strings.Join([]string{itoa(r.UpstreamContributions), itoa(r.PRsMerged), itoa(r.Active), newc}, "/"))
	}
	return strings.Join(out, " ")
}

func itoa(v int64) string {
	return strings.TrimSpace(reports.FormatValue(ptrF(float64(v)), reports.UnitCount))
}

func ptrF(v float64) *float64 { return &v }

// checkCSV checks that the appendix lists the numbers with their values.
func checkCSV(t *testing.T, rep *reports.Report) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(rep.CSV)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(reports.CSVHeader, ",") {
		t.Fatalf("csv header %v", rows[0])
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[0]+"/"+r[1]+"/"+r[2]] = r[3] + "|" + r[5]
	}
	for k, v := range map[string]string{
		"headline/upstream_contributions/value":            "5|5",
		"headline/upstream_contributions/previous":         "2|2",
		"headline/acceptance_ratio/value":                  "0.666666667|66.7%",
		"headline/first_response_hours/value":              "10|10.0 h",
		"headline/upstream_prs_merged/target":              "3|3",
		"headline/give_back_coverage/gap to target":        "0.05|met (+5.0 pp)",
		"cycle/dependencies/count":                         "5|5",
		"cycle/left/pad/criticality":                       "4|4",
		"teams/core/contributions":                         "3|3",
		"labor/total/amount":                               "1300|1,300 EUR",
		"highlights/first-time contributors/count":         "1|1",
		"trends/trend-contributions 2026-10/contributions": "5|5",
		"trends/trend-contributions 2026-09/contributions": "2|2",
		"trends/trend-contributions 2026-03/contributions": "1|1",
	} {
		if got[k] != v {
			t.Errorf("csv %s = %q, want %q", k, got[k], v)
		}
	}
}

// checkPDF extracts the text of both PDFs with pdftotext and renders the first page of the A4
// one with pdftoppm, kept as an artifact.
func checkPDF(t *testing.T, rep *reports.Report) {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		testkit.Missing(t, "pdftotext is not installed (apt-get install poppler-utils): the PDF's text cannot be checked")
	}
	dir := artifacts(t)
	for name, pdf := range map[string][]byte{"a4": rep.PDF, "letter": rep.PDFLetter} {
		file := filepath.Join(dir, "report-"+name+".pdf")
		if err := os.WriteFile(file, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftotext", "-layout", file, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext %s: %v\n%s", name, err, out)
		}
		text := string(out)
		for _, s := range []string{"Open source give-back", "Upstream contributions", "+3 (+150.0%)", "66.7%", "10.0 h", "120.0 h",
			"not met (-1)", "met (+5.0 pp)", "left/pad", "Fix reconnect", "1,300 EUR", "1 Oct 2026 – 31 Oct 2026"} {
			if !strings.Contains(text, s) {
				t.Errorf("the %s PDF's text lacks %q", name, s)
			}
		}
		if t.Failed() {
			t.Logf("%s PDF text:\n%s", name, text)
		}
	}
	info, err := exec.Command("pdfinfo", filepath.Join(dir, "report-letter.pdf")).CombinedOutput()
	if err == nil && !strings.Contains(string(info), "612 x 792 pts") {
		t.Errorf("the Letter PDF is not Letter:\n%s", info)
	}
	if out, err := exec.Command("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", filepath.Join(dir, "report-a4.pdf"), filepath.Join(dir, "report-a4-page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "report-a4-page*.png"))
	if len(pages) != 1 {
		t.Fatalf("pdftoppm made %v", pages)
	}
}

// testReportEmptyPeriod: a period without data says so plainly and draws no chart.
func testReportEmptyPeriod(t *testing.T, st *store.Store) {
	rep, err := reports.Build(context.Background(), st, definition(), period("2027-03-01", "2027-04-01"), generated)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Empty || len(rep.Images) != 0 || len(rep.Numbers.Trends) != 0 {
		t.Fatalf("empty %v, %d images, %d trends: want an empty report without charts", rep.Empty, len(rep.Images), len(rep.Numbers.Trends))
	}
	for name, body := range map[string][]byte{"html": rep.HTML, "text": rep.Text, "markdown": rep.Markdown} {
		if !bytes.Contains(body, []byte("No data for this period")) || !bytes.Contains(body, []byte("No contribution by the company was recorded from 1 Mar 2027 – 31 Mar 2027")) {
			t.Errorf("the %s does not say plainly that the period has no data:\n%s", name, body)
		}
	}
	out := pdfText(t, rep.PDF)
	if !strings.Contains(out, "No data for this period") {
		t.Errorf("the PDF does not say the period has no data:\n%s", out)
	}
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		testkit.Missing(t, "pdftotext is not installed (apt-get install poppler-utils)")
	}
	file := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// testReportPeopleAndDependenciesOnly: with people allowed, highlights name the authors and the
// first-timers; with dependencies only, the project lists keep the dependencies while the
// totals stay those of the dashboard.
func testReportPeopleAndDependenciesOnly(t *testing.T, st *store.Store) {
	def := definition()
	def.People, def.Filter.DependenciesOnly = true, true
	def.Sections = []string{reports.SectionHeadline, reports.SectionHighlights}
	rep, err := reports.Build(context.Background(), st, def, october, generated)
	if err != nil {
		t.Fatal(err)
	}
	n := rep.Numbers
	h := n.Highlights
	var authors []string
	for _, p := range h.MergedPRs {
		authors = append(authors, p.Author)
	}
	if strings.Join(authors, ",") != "ann,bob" || strings.Join(h.FirstTimerNames, ",") != "dee" || h.FirstTimers != 1 {
		t.Errorf("authors %v, first-timers %v (%d), want ann,bob and dee", authors, h.FirstTimerNames, h.FirstTimers)
	}
	if h.NewProjectsCount != 1 || strings.Join(h.NewProjects, " ") != "golang/go" {
		t.Errorf("new projects %v, want golang/go alone: new/project is not a dependency", h.NewProjects)
	}
	if v := n.Headline[0].Value; v == nil || *v != 5 {
		t.Errorf("upstream contributions %v, want 5 whatever the project lists show", v)
	}
	if n.Teams != nil || n.Cycle != nil || len(n.Trends) != 0 || n.Narrative != "" {
		t.Errorf("sections not asked for were computed: %+v", n)
	}
	if !strings.Contains(string(rep.Text), "ann") || !strings.Contains(string(rep.Markdown), "dee") {
		t.Errorf("the names are not shown:\n%s", rep.Text)
	}
}

// testHeadlineWithoutTrends checks that a monthly report without the trends section, which reads
// its month's and the previous month's response times alone rather than from the trend's rows,
// has the same headline as the report with every section.
func testHeadlineWithoutTrends(t *testing.T, st *store.Store) {
	def := definition()
	all, err := reports.Build(context.Background(), st, def, october, generated)
	if err != nil {
		t.Fatal(err)
	}
	def.Sections = []string{reports.SectionHeadline}
	alone, err := reports.Build(context.Background(), st, def, october, generated)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(all.Numbers.Headline, alone.Numbers.Headline) {
		t.Fatalf("the headline differs without trends:\nwith    %+v\nwithout %+v", all.Numbers.Headline, alone.Numbers.Headline)
	}
	answered := false
	for _, f := range all.Numbers.Headline {
		if f.Key == reports.TargetFirstResponseHours && f.Value != nil && f.Previous != nil {
			answered = true
		}
	}
	if !answered {
		t.Fatal("the fixture's October and September have no time to first response: the comparison shows nothing")
	}
}
