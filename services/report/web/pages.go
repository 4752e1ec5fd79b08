package web

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"giveback.dev/services/report/chart"
	"giveback.dev/services/report/metrics"
)

//go:embed assets/teams.html
var teamsHTML string

//go:embed assets/projects.html
var projectsHTML string

//go:embed assets/project.html
var projectHTML string

//go:embed assets/community.html
var communityHTML string

//go:embed assets/people.html
var peopleHTML string

var (
	teamsPage     = NewPage("teams", teamsHTML, nil)
	projectsPage  = NewPage("projects", projectsHTML, nil)
	projectPage   = NewPage("project", projectHTML, nil)
	communityPage = NewPage("community", communityHTML, nil)
	peoplePage    = NewPage("people", peopleHTML, nil)
)

// Teams is what the teams page shows: one row per team.
type Teams struct {
	Chrome
	Rows []TeamRow
}

// TeamRow is one team's period.
type TeamRow struct {
	Team      string
	Summary   metrics.Summary
	Newcomers metrics.Newcomers
	Top       metrics.Repos // its most active upstream repositories
}

// RenderTeams writes the teams page, the most active team first.
func RenderTeams(w io.Writer, t Teams) error {
	slices.SortStableFunc(t.Rows, func(a, b TeamRow) int {
		return int(b.Summary.UpstreamContributions - a.Summary.UpstreamContributions)
	})
	var top int64
	for _, r := range t.Rows {
		top = max(top, r.Summary.UpstreamContributions)
	}
	return execute(w, teamsPage, struct {
		Teams
		Max int64
	}{t, top})
}

// Projects is what the projects page shows: the company's work per upstream project with the
// project's health, the risk list and the departure risk, all as aggregates (no person named).
type Projects struct {
	Chrome
	Work  metrics.Projects
	Cycle metrics.Cycle // the dependency totals
	Risks metrics.Risks
	// Roster says whether a roster is known, without which nobody is known to leave.
	Roster bool
	// Leaving counts, per project (owner/name in lower case), the maintainer seats held by
	// people whose roster end date is set or passed.
	Leaving map[string]int64
	// LeavingSeats and LeavingProjects total them.
	LeavingSeats, LeavingProjects int64
}

// RenderProjects writes the projects page.
func RenderProjects(w io.Writer, p Projects) error {
	v := struct {
		Projects
		Max         int64
		LeavingRows []RepoRow
		StaleDays   int
		UsedBy      map[string]int64 // services using each dependency, by lower-case owner/name
	}{Projects: p, StaleDays: metrics.StaleDays, UsedBy: map[string]int64{}}
	for _, d := range p.Cycle.Repos {
		v.UsedBy[strings.ToLower(d.Repo)] = d.Criticality
	}
	for _, r := range p.Work.Rows {
		v.Max = max(v.Max, r.Contributions)
	}
	for repo, n := range p.Leaving {
		v.LeavingRows = append(v.LeavingRows, RepoRow{Repo: repo, Value: n})
	}
	slices.SortFunc(v.LeavingRows, func(a, b RepoRow) int {
		if a.Value != b.Value {
			return int(b.Value - a.Value)
		}
		return strings.Compare(a.Repo, b.Repo)
	})
	return execute(w, projectsPage, v)
}

// riskText says why a dependency is on the risk list.
func riskText(r metrics.Risk) []string {
	var out []string
	for _, reason := range r.Reasons {
		switch reason {
		case metrics.RiskElephant:
			out = append(out, "one organization makes half its activity (Elephant Factor 1)")
		case metrics.RiskFalling:
			t := "its activity is falling"
			if r.TrendChange != nil {
				t = fmt.Sprintf("its activity fell %.0f%% in three months", -*r.TrendChange*100)
			}
			out = append(out, t)
		case metrics.RiskStale:
			t := fmt.Sprintf("no merge nor release in %d days", metrics.StaleDays)
			if r.LastMergeOrRelease != "" {
				t += " (last " + r.LastMergeOrRelease + ")"
			}
			out = append(out, t)
		default:
			out = append(out, reason)
		}
	}
	return out
}

// Project is what one project's page shows.
type Project struct {
	Chrome
	Repo        string
	Dependency  bool // in the current dependency list
	Criticality int  // services that use it
	// The project's activity in the period from GH Archive (all actors), the company's share
	// of it and the Elephant Factor; Events is 0 when GH Archive saw none.
	Events, Actors, CompanyEvents, CompanyActors int64
	CompanyShare                                 float64
	ElephantFactor                               int
	Orgs                                         []ProjectOrg   // the most active organizations
	Months                                       []ProjectMonth // the trend months
	TrendFrom                                    string
	// The company's work in the project in the period: contributions, pull requests opened,
	// of which merged.
	Contributions, PRs, Merged int64
	// Row is the project's line of the projects page (acceptance, time to merge, seats, the
	// project's monthly activity); nil when the company neither contributed nor had a pull
	// request decided there in the period.
	Row *metrics.Project
	// Seats are the maintainer seats the employees hold in the project, with the end date of
	// those leaving.
	Seats []SeatRow
}

// SeatRow is one maintainer seat; Leaving is the holder's roster end date, "" when none is set.
type SeatRow struct {
	metrics.Seat
	Name    string
	Leaving string
	Left    bool
}

// ProjectOrg is one organization active in a project.
type ProjectOrg struct {
	Name   string // "" for the people who opted out, together
	Kind   string // company, organization, independent or unaffiliated
	Events int64
	Share  float64 // of the project's events, 0 to 1
}

// ProjectMonth is the company's work in one project in one month.
type ProjectMonth struct {
	Month                      string
	Contributions, PRs, Merged int64
}

// RenderProject writes one project's page.
func RenderProject(w io.Writer, p Project) error {
	labels, ours := make([]string, len(p.Months)), make([]int64, len(p.Months))
	for i, m := range p.Months {
		labels[i], ours[i] = m.Month, m.Contributions
	}
	v := struct {
		Project
		Ours, Activity template.HTML
		Leaving        int
	}{Project: p}
	v.Ours = modelChart(chart.Monthly("project-ours", "Our contributions per month", "contributions", labels, ours), halfW, halfH)
	activity := make([]int64, len(labels))
	if p.Row != nil && len(p.Row.Trend) == len(labels) {
		copy(activity, p.Row.Trend)
	}
	v.Activity = modelChart(chart.Monthly("project-activity", "The project's activity per month", "GH Archive events", labels, activity), halfW, halfH)
	for _, st := range p.Seats {
		if st.Leaving != "" {
			v.Leaving++
		}
	}
	return execute(w, projectPage, v)
}

// Community is what the community page shows.
type Community struct {
	Chrome
	metrics.Community
}

// RenderCommunity writes the community page.
func RenderCommunity(w io.Writer, c Community) error {
	v := struct {
		Community
		Chart, ChartNarrow template.HTML
		Max                int64
	}{Community: c}
	ch := communityChart(c.Community)
	v.Chart, v.ChartNarrow = modelChart(ch, wideW, wideH), modelChart(ch, narrowW, narrowH)
	for _, o := range c.Organizations {
		v.Max = max(v.Max, o.Contributors)
	}
	return execute(w, communityPage, v)
}

// communityChart is the outside contributors per month, returning and new, stacked.
func communityChart(c metrics.Community) chart.Chart {
	ch := chart.Chart{ID: "community", Title: "Outside contributors per month", Kind: chart.Stacked, Unit: chart.UnitCount}
	var returning, newer []*float64
	for _, m := range c.Months {
		r, n := float64(m.Contributors-m.New), float64(m.New)
		ch.Labels = append(ch.Labels, m.Month)
		returning, newer = append(returning, &r), append(newer, &n)
	}
	ch.Series = []chart.Series{{Name: "returning", Values: returning}, {Name: "new", Values: newer}}
	return ch
}

// People is what the people page shows: each employee's upstream record.
type People struct {
	Chrome
	Record metrics.People
	Limit  int // how many rows were asked for
}

// RenderPeople writes the people page.
func RenderPeople(w io.Writer, p People) error {
	var top int64
	for _, r := range p.Record.Rows {
		top = max(top, r.Contributions)
	}
	return execute(w, peoplePage, struct {
		People
		Max int64
	}{p, top})
}
