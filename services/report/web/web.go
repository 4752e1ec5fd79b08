// Package web renders the report dashboard: one HTML page with inline CSS and server-drawn SVG
// charts, embedded in the binary. It reaches nothing outside the page (no script, font or CDN),
// so it works on a closed network and as a saved file.
package web

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"

	"giveback.dev/services/report/metrics"
)

//go:embed assets/dashboard.html
var pageHTML string

//go:embed assets/style.css
var styleCSS string

var page = template.Must(template.New("dashboard").Parse(pageHTML))

// Colors are the kind colours, in events.Kinds order, then for any other kind.
var Colors = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// KindNames are the display names of the contribution kinds.
var KindNames = map[string]string{
	"pull_request": "Pull requests opened", "review": "Reviews", "issue": "Issues opened",
	"comment": "Comments", "commit": "Commits", "release": "Releases",
}

// Data is what the dashboard shows. Filter is echoed in the form; Error, when set, is shown
// instead of the figures (with the form still usable).
type Data struct {
	Company       string
	Filter        metrics.Period
	Query         string // the filter as a query string, for links
	Teams         []metrics.Team
	Error         string
	Summary       metrics.Summary
	Contributions metrics.Contributions
	Contributors  metrics.Contributors
	Acceptance    metrics.Acceptance
	Response      metrics.Responsiveness
	Cycle         metrics.Cycle
	Repos         metrics.Repos
	ReposUpstream metrics.Upstream // the upstream selection the repos panel was computed with
}

type kpi struct{ Key, Name, Value, Note string }

type legend struct{ Name, Color string }

type view struct {
	Data
	CSS          template.CSS
	Ready        bool
	PeriodText   string
	UpstreamText string
	KPIs         []kpi
	Legend       []legend
	ReposTitle   string
	ReposHelp    string
	CycleHelp    string
	Charts       struct{ Contributions, Contributors, Acceptance, Repos, Cycle template.HTML }
}

// Render writes the dashboard page.
func Render(w io.Writer, d Data) error {
	v := view{Data: d, CSS: template.CSS(styleCSS), Ready: d.Error == ""} // #nosec G203 -- our own stylesheet
	v.PeriodText = periodText(d.Filter)
	v.UpstreamText = map[string]string{"1": "upstream repositories only", "0": "internal repositories only"}[d.Filter.Upstream]
	if v.UpstreamText == "" {
		v.UpstreamText = "all repositories"
	}
	if v.Ready {
		build(&v)
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("web: render dashboard: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("web: write dashboard: %w", err)
	}
	return nil
}

// hours shows a median duration in hours, in days from two days on; "—" when there is none.
func hours(h *float64) string {
	switch {
	case h == nil:
		return "—"
	case *h >= 48:
		return strconv.FormatFloat(*h/24, 'f', 1, 64) + " d"
	default:
		return strconv.FormatFloat(*h, 'f', 1, 64) + " h"
	}
}

func build(v *view) {
	s := v.Summary
	v.KPIs = []kpi{
		{"contributions", "Contributions", count(s.Contributions), fmt.Sprintf("%s upstream (third-party); %s to own repositories, %s to forks",
			count(s.UpstreamContributions), count(s.PersonalContributions), count(s.ForkContributions))},
		{"active_contributors", "Active contributors", count(s.ActiveContributors), "employees with ≥1 contribution"},
		{"upstream_repos", "Upstream repositories", count(s.UpstreamRepos), count(s.UpstreamOrgs) + " organizations"},
		{"acceptance_ratio", "PR acceptance", percent(s.AcceptanceRatio), fmt.Sprintf("%s merged of %s closed", count(s.PRsMerged), count(s.PRsClosed))},
		{"prs_opened", "Pull requests opened", count(s.PRsOpened), ""},
		{"coverage", "Give-back coverage", percent(v.Cycle.Coverage),
			fmt.Sprintf("%s of %s dependencies got a merged PR in 12 months", count(v.Cycle.Covered), count(v.Cycle.Dependencies))},
		{"first_response", "Time to first response", hours(v.Response.MedianHours),
			fmt.Sprintf("median; %s of %s pull requests answered", count(v.Response.Answered), count(v.Response.Opened))},
		{"time_to_merge", "Time to merge", hours(v.Response.MedianMerge),
			fmt.Sprintf("median; %s pull requests merged", count(v.Response.Merged))},
	}

	c := v.Contributions
	labels := make([]string, len(c.Months))
	for i, m := range c.Months {
		labels[i] = monthLabel(m.Month)
	}
	var series []Series
	for i, k := range c.Kinds {
		vals := make([]float64, len(c.Months))
		var seen bool
		for j, m := range c.Months {
			vals[j] = float64(m.ByKind[k])
			seen = seen || vals[j] > 0
		}
		name := KindNames[k]
		if name == "" {
			name = k
		}
		color := Colors[i%len(Colors)]
		v.Legend = append(v.Legend, legend{Name: name, Color: color})
		if seen {
			series = append(series, Series{Name: name, Color: color, Values: vals})
		}
	}
	v.Charts.Contributions = StackedBars(Wide, "contributions", "Contributions by kind and month", labels, series, "contributions")

	cm := v.Contributors.Months
	labels, vals := make([]string, len(cm)), make([]float64, len(cm))
	for i, m := range cm {
		labels[i], vals[i] = monthLabel(m.Month), float64(m.Contributors)
	}
	v.Charts.Contributors = Bars(Half, "contributors", "Active contributors per month", labels, vals, "#2f6fb0", "active contributors")

	am := v.Acceptance.Months
	labels = make([]string, len(am))
	merged, declined, ratios := make([]float64, len(am)), make([]float64, len(am)), make([]*float64, len(am))
	for i, m := range am {
		labels[i], merged[i], declined[i], ratios[i] = monthLabel(m.Month), float64(m.Merged), float64(m.Declined), m.Ratio
	}
	v.Charts.Acceptance = Acceptance(Half, labels, merged, declined, ratios)

	r := v.Repos
	switch v.ReposUpstream {
	case metrics.UpstreamInternal:
		v.ReposTitle = "Internal repositories"
		v.ReposHelp = fmt.Sprintf("%s repositories in %s organizations received contributions; the most active are shown.", count(r.Repos), count(r.Orgs))
	default:
		v.ReposTitle = "Upstream repositories reached"
		v.ReposHelp = fmt.Sprintf("%s upstream repositories in %s organizations received contributions; the most active are shown.", count(r.Repos), count(r.Orgs))
	}
	rows := make([]HBar, len(r.Top))
	for i, t := range r.Top {
		note := fmt.Sprintf("· %d contributor", t.Contributors)
		if t.Contributors != 1 {
			note += "s"
		}
		rows[i] = HBar{Label: t.Repo, Value: float64(t.Contributions), Note: note}
	}
	v.Charts.Repos = HBars(Wide, "repos", v.ReposTitle, rows, "#4e79a7", "No repositories reached in this period")

	cy := v.Cycle
	if cy.Dependencies == 0 {
		v.CycleHelp = "No dependency list imported: giveback deps import reads the SBOMs (CycloneDX, SPDX) or manifests (go.mod, package-lock.json) of the company's services."
	} else {
		v.CycleHelp = fmt.Sprintf("%s dependencies of the company's services; %s of them (%s weighted by how many services use them) got a merged pull request in the 12 months to %s. The most used are shown, with the contributions they received in the period.",
			count(cy.Dependencies), percent(cy.Coverage), percent(cy.WeightedCoverage), v.Filter.To)
	}
	rows = make([]HBar, len(cy.Repos))
	for i, d := range cy.Repos {
		note := fmt.Sprintf("· used by %d service", d.Criticality)
		if d.Criticality != 1 {
			note += "s"
		}
		note += fmt.Sprintf(" · %d merged in 12 months", d.MergedLastYear)
		rows[i] = HBar{Label: d.Repo, Value: float64(d.Contributions), Note: note}
	}
	v.Charts.Cycle = HBars(Wide, "cycle", "Giving back to what we use", rows, "#59a14f", "No dependencies imported")
}

// percent shows a share as a whole percentage; "—" when there is none.
func percent(r *float64) string {
	if r == nil {
		return "—"
	}
	return strconv.FormatFloat(*r*100, 'f', 0, 64) + "%"
}

func periodText(p metrics.Period) string {
	from, err1 := time.Parse(time.DateOnly, p.From)
	to, err2 := time.Parse(time.DateOnly, p.To)
	if err1 != nil || err2 != nil {
		return p.From + " – " + p.To
	}
	return from.Format("2 Jan 2006") + " – " + to.Format("2 Jan 2006")
}

// monthLabel turns "2025-01" into "Jan 25".
func monthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 06")
}

// count formats an integer with thousands separators: 12,345.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ","...)
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
