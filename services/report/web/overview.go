package web

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"giveback.dev/services/report/chart"
	"giveback.dev/services/report/metrics"
)

//go:embed assets/overview.html
var overviewHTML string

var overviewPage = NewPage("overview", overviewHTML, nil)

// Overview is what the overview page shows: the period's headline numbers against the previous
// period of the same length, the trends of the twelve months to the period's end, and the
// company's dependencies set against what it gives them.
type Overview struct {
	Chrome
	Summary, Previous    metrics.Summary        // the period, and the one of equal length before it
	Response, PrevResp   metrics.Responsiveness // the same two periods
	Newcomers, PrevNew   metrics.Newcomers      // the same two periods
	Contributions        metrics.Contributions  // the trend months
	Contributors         metrics.Contributors   // the trend months
	Acceptance           metrics.Acceptance     // the trend months
	Cycle                metrics.Cycle          // the period; Repos holds every dependency drawn
	Repos                metrics.Repos          // the period's most active repositories
	ReposUpstream        metrics.Upstream       // the selection Repos was computed with
	PreviousFrom, PrevTo string                 // the previous period, YYYY-MM-DD
	TrendFrom            string                 // the first day of the trend months, YYYY-MM-DD
	TeamPage             bool                   // one team's page: no dependencies (they are the company's)
}

// KPI is one headline number with its change against the previous period.
type KPI struct {
	Key, Name, Value, Note string
	Delta                  string // "+12%", "−3 pts"; empty when there is nothing to compare
	Direction              string // up, down or flat
}

// RepoRow is one row of a ranking table with an inline bar.
type RepoRow struct {
	Repo  string
	Value int64
	Max   int64
	Note  string
}

type overviewView struct {
	Overview
	KPIs      []KPI
	Legend    []chart.LegendItem // the kinds chart's, when it does not draw its own
	Charts    struct{ Contributions, ContributionsNarrow, Contributors, Decided, Acceptance, Cycle template.HTML }
	Top       []RepoRow
	ReposHelp string
	CycleHelp string
	Neglected []metrics.CycleRepo
	Quadrant  Quadrant
}

// RenderOverview writes the overview page.
func RenderOverview(w io.Writer, o Overview) error {
	v := overviewView{Overview: o}
	if o.Error == "" && !o.Empty {
		v.build()
	}
	return execute(w, overviewPage, v)
}

func execute(w io.Writer, t *template.Template, data any) error {
	if err := t.Execute(w, data); err != nil {
		return fmt.Errorf("web: render %s: %w", t.Name(), err)
	}
	return nil
}

// change compares a number with the previous period's: a relative change for counts.
func change(cur, prev int64) (string, string) {
	switch {
	case prev == 0 && cur == 0:
		return "no change", "flat"
	case prev == 0:
		return "new", "up"
	}
	pct := (float64(cur) - float64(prev)) / float64(prev) * 100
	return signed(pct, "%"), direction(pct)
}

// changePts compares two ratios (0 to 1) in percentage points.
func changePts(cur, prev *float64) (string, string) {
	if cur == nil || prev == nil {
		return "", ""
	}
	d := (*cur - *prev) * 100
	return signed(d, " pts"), direction(d)
}

// changeHours compares two durations: shorter is better, but the arrow follows the number.
func changeHours(cur, prev *float64) (string, string) {
	if cur == nil || prev == nil || *prev == 0 {
		return "", ""
	}
	pct := (*cur - *prev) / *prev * 100
	return signed(pct, "%"), direction(pct)
}

func signed(v float64, unit string) string {
	r := math.Round(v)
	if r == 0 {
		return "±0" + unit
	}
	s := strconv.FormatFloat(math.Abs(r), 'f', 0, 64) + unit
	if r > 0 {
		return "+" + s
	}
	return "−" + s
}

func direction(v float64) string {
	switch r := math.Round(v); {
	case r > 0:
		return "up"
	case r < 0:
		return "down"
	}
	return "flat"
}

func (v *overviewView) build() {
	s, p := v.Summary, v.Previous
	k := func(key, name, value, note string, delta, dir string) {
		v.KPIs = append(v.KPIs, KPI{Key: key, Name: name, Value: value, Note: note, Delta: delta, Direction: dir})
	}
	d, dir := change(s.UpstreamContributions, p.UpstreamContributions)
	k("upstream_contributions", "Upstream contributions", count(s.UpstreamContributions),
		fmt.Sprintf("to third-party projects; %s more to own repositories and forks", count(s.PersonalContributions+s.ForkContributions)), d, dir)
	d, dir = change(s.ActiveContributors, p.ActiveContributors)
	k("active_contributors", "Active contributors", count(s.ActiveContributors), "employees with ≥1 contribution", d, dir)
	d, dir = change(s.UpstreamRepos, p.UpstreamRepos)
	k("upstream_repos", "Upstream projects", count(s.UpstreamRepos), count(s.UpstreamOrgs)+" organizations reached", d, dir)
	d, dir = changePts(s.AcceptanceRatio, p.AcceptanceRatio)
	k("acceptance_ratio", "PR acceptance", percent(s.AcceptanceRatio), fmt.Sprintf("%s merged of %s decided", count(s.PRsMerged), count(s.PRsClosed)), d, dir)
	d, dir = change(v.Newcomers.New, v.PrevNew.New)
	k("new_contributors", "New upstream contributors", count(v.Newcomers.New),
		fmt.Sprintf("first upstream contribution ever; %s returning", count(v.Newcomers.Returning)), d, dir)
	if !v.TeamPage {
		k("coverage", "Give-back coverage", percent(v.Cycle.Coverage),
			fmt.Sprintf("%s of %s dependencies got a merged PR in 12 months", count(v.Cycle.Covered), count(v.Cycle.Dependencies)), "", "")
	}
	d, dir = changeHours(v.Response.MedianHours, v.PrevResp.MedianHours)
	k("first_response", "Time to first response", hours(v.Response.MedianHours),
		fmt.Sprintf("median; %s of %s pull requests answered", count(v.Response.Answered), count(v.Response.Opened)), d, dir)
	d, dir = changeHours(v.Response.MedianMerge, v.PrevResp.MedianMerge)
	k("time_to_merge", "Time to merge", hours(v.Response.MedianMerge),
		fmt.Sprintf("median; %s pull requests merged", count(v.Response.Merged)), d, dir)

	kinds := chart.ByKind(v.Contributions, KindNames)
	v.Charts.Contributions = modelChart(kinds, wideW, wideH)
	v.Charts.ContributionsNarrow = modelChart(kinds, narrowW, narrowH)
	if !kinds.OwnLegend() {
		v.Legend = chart.Legend(&kinds)
	}
	v.Charts.Contributors = modelChart(chart.Contributors(v.Contributors), halfW, halfH)
	v.Charts.Decided = modelChart(chart.Decided(v.Acceptance), halfW, halfH)
	v.Charts.Acceptance = modelChart(chart.AcceptanceRatio(v.Acceptance), halfW, halfH)

	r := v.Repos
	what := "upstream"
	if v.ReposUpstream == metrics.UpstreamInternal {
		what = "internal, own or fork"
	}
	v.ReposHelp = fmt.Sprintf("%s %s repositories in %s organizations received contributions in the period; the most active are shown.", count(r.Repos), what, count(r.Orgs))
	for _, t := range r.Top {
		note := fmt.Sprintf("%d contributor", t.Contributors)
		if t.Contributors != 1 {
			note += "s"
		}
		v.Top = append(v.Top, RepoRow{Repo: t.Repo, Value: t.Contributions, Max: r.Top[0].Contributions, Note: note})
	}
	if !v.TeamPage {
		v.cycle()
	}
}

// cycle places each dependency by criticality (x) and contributions (y). Critical means used
// by at least half as many services as the most used dependency; little given means fewer than
// a tenth of the contributions the most helped dependency received in the period, and at
// least none.
func (v *overviewView) cycle() {
	cy := v.Cycle
	if cy.Dependencies == 0 {
		v.CycleHelp = "No dependency list imported: giveback deps import reads the SBOMs (CycloneDX, SPDX) or manifests (go.mod, package-lock.json) of the company's services."
		v.Charts.Cycle = Scatter(720, "cycle", "Dependencies by criticality and contributions", nil, Quadrant{}, "", "", "No dependencies imported")
		return
	}
	var maxC, maxG int64
	for _, r := range cy.Repos {
		maxC, maxG = max(maxC, r.Criticality), max(maxG, r.Contributions)
	}
	q := Quadrant{X: math.Max(1, float64(maxC)/2), Y: math.Max(1, float64(maxG)/10), Label: "Neglected: critical, little given"}
	v.Quadrant = q
	points := make([]Point, 0, len(cy.Repos))
	for _, r := range cy.Repos {
		p := Point{Label: r.Repo, X: float64(r.Criticality), Y: float64(r.Contributions),
			Note: fmt.Sprintf("used by %d services · %d contributions in the period · %d PRs merged in 12 months", r.Criticality, r.Contributions, r.MergedLastYear)}
		p.Flag = p.X >= q.X && p.Y < q.Y
		if p.Flag {
			v.Neglected = append(v.Neglected, r)
		}
		points = append(points, p)
	}
	slices.SortStableFunc(v.Neglected, func(a, b metrics.CycleRepo) int { return int(b.Criticality - a.Criticality) })
	if len(v.Neglected) > 8 {
		v.Neglected = v.Neglected[:8]
	}
	v.Charts.Cycle = Scatter(720, "cycle", "Dependencies by criticality and contributions", points, q,
		"criticality: services that use it", "our contributions (log scale)", "")
	v.CycleHelp = fmt.Sprintf("%s dependencies of the company's services; %s of them (%s weighted by criticality) got a merged pull request in the 12 months to %s.",
		count(cy.Dependencies), percent(cy.Coverage), percent(cy.WeightedCoverage), v.Filter.Period.To)
}

// PreviousPeriod returns the period of the same number of days that ends the day before f
// starts.
func PreviousPeriod(f metrics.Filter) metrics.Filter {
	days := int(f.To.Sub(f.From).Hours()/24) + 1
	p := f
	p.To = f.From.AddDate(0, 0, -1)
	p.From = p.To.AddDate(0, 0, -(days - 1))
	return p
}

// TrendPeriod returns the twelve calendar months that end with the month of f's last day.
func TrendPeriod(f metrics.Filter) metrics.Filter {
	t := f
	t.From = time.Date(f.To.Year(), f.To.Month()-11, 1, 0, 0, 0, 0, time.UTC)
	return t
}
