package reports

import (
	"time"

	"giveback.dev/services/report/chart"
)

// Numbers is every number a report shows, with what it was computed for; it is archived with the
// report as JSON, and every format is rendered from it alone.
type Numbers struct {
	Report      string     `json:"report"`
	Title       string     `json:"title"`
	Period      PeriodInfo `json:"period"`
	Previous    PeriodInfo `json:"previous"` // the period before, of the same kind and length
	Filter      FilterInfo `json:"filter"`
	GeneratedAt time.Time  `json:"generated_at"`
	Late        bool       `json:"late"`          // generated after its due time (a catch-up)
	Due         *time.Time `json:"due,omitempty"` // when it was due, set when late
	Freshness   Freshness  `json:"freshness"`
	// Empty is true when the period holds no contribution for the filter.
	Empty     bool     `json:"empty"`
	Sections  []string `json:"sections"` // the sections shown, in order
	Narrative string   `json:"narrative,omitempty"`
	Headline  []Figure `json:"headline,omitempty"`
	// PRsDecided is the number of pull requests merged or closed in the period, the
	// denominator of the acceptance ratio.
	PRsDecided      int64            `json:"prs_decided"`
	Trends          []Chart          `json:"trends,omitempty"`
	Highlights      *Highlights      `json:"highlights,omitempty"`
	Cycle           *CycleSection    `json:"cycle,omitempty"`
	Risks           *RiskSection     `json:"risks,omitempty"`
	Teams           []TeamRow        `json:"teams,omitempty"`
	Labor           *Labor           `json:"labor,omitempty"`
	Recommendations []Recommendation `json:"recommendations,omitempty"`
	// Links are the addresses the report refers to: the dashboard view of the filter and period,
	// the archived copy, and the definitions.
	Links Links `json:"links"`
}

// PeriodInfo is a period as days, both inclusive, in the report's time zone.
type PeriodInfo struct {
	From  string `json:"from"` // YYYY-MM-DD, first day
	To    string `json:"to"`   // YYYY-MM-DD, last day
	Label string `json:"label"`
	TZ    string `json:"tz"` // IANA name
}

// FilterInfo echoes the report's filter.
type FilterInfo struct {
	Team             string `json:"team"`     // "" for every team
	Upstream         string `json:"upstream"` // 1, 0 or all
	DependenciesOnly bool   `json:"dependencies_only"`
}

// Freshness tells how recent the data behind a report is; a zero time is unknown.
type Freshness struct {
	NewestContribution time.Time `json:"newest_contribution"` // the newest contribution stored
	LastArchiveHour    time.Time `json:"last_gharchive_hour"` // the newest GH Archive hour processed
	LastRESTSync       time.Time `json:"last_rest_sync"`      // the newest REST synchronisation
}

// Links are the addresses a report refers to.
type Links struct {
	Dashboard string `json:"dashboard"` // the dashboard for the period and filter
	Archive   string `json:"archive"`   // the archived web copy of this report
	Metrics   string `json:"metrics"`   // the metric definitions
}

// The units of a Figure or a Chart.
const (
	UnitCount = chart.UnitCount
	UnitRatio = chart.UnitRatio // 0 to 1, shown as a percentage
	UnitHours = chart.UnitHours
)

// Figure is one headline number: its value in the period and the previous one, the change, and
// how it stands against its target.
type Figure struct {
	Key      string   `json:"key"` // a TargetKeys key
	Label    string   `json:"label"`
	Unit     string   `json:"unit"`
	Value    *float64 `json:"value"`    // null when it cannot be computed (no pull request decided…)
	Previous *float64 `json:"previous"` // the previous period's value
	Delta    *float64 `json:"delta"`    // value - previous
	// DeltaPct is the change in percent of the previous value; null when either is missing or
	// the previous is zero.
	DeltaPct      *float64 `json:"delta_pct"`
	LowerIsBetter bool     `json:"lower_is_better"`
	Target        *float64 `json:"target,omitempty"`
	Met           *bool    `json:"met,omitempty"` // the target is met; set with Target when Value is known
	// Gap is how far the value is from the target (value - target): what is missing when the
	// target is not met, the margin when it is.
	Gap    *float64 `json:"gap,omitempty"`
	Link   string   `json:"link"`   // the dashboard view that shows it
	Metric string   `json:"metric"` // the definition's address
}

// Chart is one chart of the report, in the one chart model of the product (package chart):
// drawn as SVG on the web, PNG in mail and vector paths in the PDF, as on the dashboard.
type Chart = chart.Chart

// Series is one named series of a chart.
type Series = chart.Series

// The kinds of Chart.
const (
	ChartBar     = chart.Bar
	ChartStacked = chart.Stacked
	ChartLine    = chart.Line
)

// Highlights are the notable events of the period.
type Highlights struct {
	// MergedPRs are notable pull requests merged upstream in the period: to critical
	// dependencies, the largest, and a person's first to a project.
	MergedPRs []HighlightPR `json:"merged_prs"`
	// NewProjects are upstream repositories reached for the first time ever in the period.
	NewProjects      []string `json:"new_projects"`
	NewProjectsCount int64    `json:"new_projects_count"`
	// FirstTimers counts the people whose first upstream contribution ever is in the period;
	// FirstTimerNames lists their logins when the definition allows names.
	FirstTimers     int64    `json:"first_timers"`
	FirstTimerNames []string `json:"first_timer_names,omitempty"`
}

// HighlightPR is one notable merged pull request.
type HighlightPR struct {
	Repo        string   `json:"repo"`
	Number      int64    `json:"number"`
	Title       string   `json:"title"`
	URL         string   `json:"url"`
	Lines       int64    `json:"lines"`               // lines added and deleted
	Criticality int64    `json:"criticality"`         // of the repository as a dependency; 0 when not one
	First       bool     `json:"first"`               // the author's first contribution to the repository
	Author      string   `json:"author,omitempty"`    // the login, when the definition allows names
	Why         []string `json:"why"`                 // critical, largest, first
	MergedAt    string   `json:"merged_at,omitempty"` // YYYY-MM-DD
}

// CycleSection is the give-back cycle: coverage of the dependencies, the ones used most and given
// least, and what came back.
type CycleSection struct {
	Dependencies int64    `json:"dependencies"`
	Covered      int64    `json:"covered"`           // with a pull request of ours merged in the last 12 months
	Coverage     *float64 `json:"coverage"`          // covered / dependencies
	Weighted     *float64 `json:"weighted_coverage"` // weighted by criticality
	// Neglected are the most critical dependencies that received nothing in the last 12 months.
	Neglected []DependencyRow `json:"neglected"`
	// CameBack is the community inflow to the company's own projects; nil when the report is
	// for one team (outside contributors have none).
	CameBack *CameBack `json:"came_back,omitempty"`
	Link     string    `json:"link"`
}

// DependencyRow is one dependency and what the company gave it.
type DependencyRow struct {
	Repo           string `json:"repo"`
	Criticality    int64  `json:"criticality"`
	Contributions  int64  `json:"contributions"`    // in the period
	MergedLastYear int64  `json:"merged_last_year"` // pull requests merged in the 12 months to the period's end
}

// CameBack is what outside contributors gave the company's own open source in the period.
type CameBack struct {
	Contributors     int64 `json:"contributors"`
	Contributions    int64 `json:"contributions"`
	New              int64 `json:"new"`
	PrevContributors int64 `json:"previous_contributors"`
	Organizations    int64 `json:"organizations"`
}

// RiskSection lists critical dependencies at risk.
type RiskSection struct {
	Total int64     `json:"total"` // dependencies at risk; Rows holds the most critical
	Rows  []RiskRow `json:"rows"`
	Link  string    `json:"link"`
}

// RiskRow is one dependency at risk and why.
type RiskRow struct {
	Repo           string   `json:"repo"`
	Criticality    int64    `json:"criticality"`
	Codes          []string `json:"codes"`   // metrics.Risk* reasons
	Reasons        []string `json:"reasons"` // the same in words
	ElephantFactor *int     `json:"elephant_factor,omitempty"`
	// TrendChange is the change of the project's activity, the last 3 months against the 3 before.
	TrendChange        *float64 `json:"trend_change,omitempty"`
	LastMergeOrRelease string   `json:"last_merge_or_release,omitempty"`
}

// TeamRow is one team's upstream work in the period.
type TeamRow struct {
	Team                  string `json:"team"`
	UpstreamContributions int64  `json:"upstream_contributions"`
	PRsMerged             int64  `json:"prs_merged"`
	Active                int64  `json:"active_contributors"`
	New                   *int64 `json:"new_contributors"` // null when not computed
	Link                  string `json:"link"`
}

// Labor is the labor investment estimate.
type Labor struct {
	Currency string      `json:"currency"`
	Total    float64     `json:"total"`
	Formula  string      `json:"formula"` // in words, with the costs used
	Lines    []LaborLine `json:"lines"`
}

// LaborLine is one term of the labor investment sum.
type LaborLine struct {
	Item     string  `json:"item"` // a contribution kind, or contributor-months
	Quantity int64   `json:"quantity"`
	Cost     float64 `json:"cost"` // per unit
	Amount   float64 `json:"amount"`
}

// Recommendation is one suggestion, with the rule that made it and the numbers behind it.
type Recommendation struct {
	Rule    string   `json:"rule"` // the rule's name, documented in RULES.md
	Text    string   `json:"text"`
	Numbers []string `json:"numbers"` // the numbers behind it, in words
}
