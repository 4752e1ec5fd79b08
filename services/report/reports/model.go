// Package reports builds, renders, schedules and delivers Giveback's executive reports: a
// report definition from the configuration names a schedule, a period, a filter and an ordered
// list of sections; every number in a report is computed by package metrics, with the same
// statements as the dashboard and the JSON API, for the report's period and the period before it.
//
// Build computes a report's numbers and renders them once into every format (an HTML mail with
// inline CSS and PNG charts, a plain-text alternative, Markdown, a CSV appendix of every number
// shown, and PDF in A4 and Letter), with no browser at run time.
package reports

import (
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/services/report/metrics"
)

// The sections a definition may list, in their default order.
const (
	SectionHeadline        = "headline"        // the period's key numbers, with deltas and targets
	SectionTrends          = "trends"          // monthly series of the trailing 12 months, as charts
	SectionHighlights      = "highlights"      // notable merged pull requests, new projects and people
	SectionCycle           = "cycle"           // give-back coverage of the dependencies, what came back
	SectionRisks           = "risks"           // critical dependencies carried by one organization or falling
	SectionTeams           = "teams"           // per team: contributions, merged pull requests, people
	SectionLabor           = "labor"           // the estimated value of the upstream work (CHAOSS Labor Investment)
	SectionRecommendations = "recommendations" // what to do next, by documented rules
	SectionNarrative       = "narrative"       // a paragraph in plain words built from the numbers
)

// Sections is the catalogue of sections, in the default order used when a definition lists
// none: the configuration's, which the definitions are checked against.
var Sections = config.ReportSections

// The period kinds a definition may name; trailing_Nd (for example trailing_30d) is the N days
// before the run's day.
const (
	PeriodPreviousWeek    = "previous_week"
	PeriodPreviousMonth   = "previous_month"
	PeriodPreviousQuarter = "previous_quarter"
	PeriodPreviousYear    = "previous_year"
)

// The headline numbers a definition may set a target for (Definition.Targets). A target is met
// when the number reaches it; for the hours to first response and to merge, lower is better and
// a target is met when the number does not exceed it.
const (
	TargetUpstreamContributions = "upstream_contributions"
	TargetUpstreamPRsMerged     = "upstream_prs_merged"
	TargetActiveContributors    = "active_contributors"
	TargetUpstreamProjects      = "upstream_projects"
	TargetAcceptanceRatio       = "acceptance_ratio"
	TargetFirstResponseHours    = "first_response_hours"
	TargetMergeHours            = "merge_hours"
	TargetGiveBackCoverage      = "give_back_coverage"
)

// TargetKeys lists every key Definition.Targets accepts, in headline order.
var TargetKeys = []string{TargetUpstreamContributions, TargetUpstreamPRsMerged, TargetActiveContributors,
	TargetUpstreamProjects, TargetAcceptanceRatio, TargetFirstResponseHours, TargetMergeHours, TargetGiveBackCoverage}

// Definition is one report of the configuration's reports list.
type Definition struct {
	Name     string // unique; used in file names, URLs and claim keys
	Title    string // shown as the report's title and mail subject
	Owner    string // the address told when the report is overdue; optional
	Schedule string // a cron/v3 expression, with an optional CRON_TZ= prefix, or a descriptor (@monthly)
	Period   string // one of the Period constants, or trailing_Nd
	Filter   Filter
	// Sections are the sections shown, in order; empty means Sections.
	Sections []string
	// Targets maps a key of TargetKeys to the value aimed at per period (a ratio as 0.40).
	Targets map[string]float64
	// People allows people to appear by name (login) in highlights; opted-out people never do,
	// their contributions are not stored.
	People bool
	// LaborCost configures the labor investment section; nil leaves the section out.
	LaborCost *LaborCost
	// Grace is how long after its due time a report may still be delivered before it is overdue.
	Grace      time.Duration
	Deliveries []Delivery
}

// Filter selects the contributions a report counts, as the dashboard's filter does.
type Filter struct {
	Team string // "" for every team
	// Upstream is "1" (upstream repositories only), "0" (the company's own and personal work) or
	// "all"; "" means "1", since executive reports are about giving back.
	Upstream string
	// DependenciesOnly restricts the project lists (highlights, risks, the cycle) to the
	// company's dependencies; the headline and trends are those of the dashboard's filter.
	DependenciesOnly bool
}

// LaborCost is the cost model of the labor investment estimate: a cost per contribution of each
// kind (events.Kind* keys) or, when PerKind is empty, a cost per active contributor-month.
type LaborCost struct {
	Currency            string             // an ISO 4217 code such as EUR, shown beside the amounts
	PerKind             map[string]float64 // e.g. pull_request: 400, review: 120
	PerContributorMonth float64            // used when PerKind is empty
}

// Delivery is one target a report is sent to. Its fields are filled from the configuration and
// validated by the delivery code; exactly one of the kind-specific parts is set.
type Delivery struct {
	Kind string // smtp, slack, teams, directory or webhook
	Name string // unique within the report (default: the kind); names the delivery in claims and the archive

	// smtp
	Host     string
	Port     int
	TLS      string // starttls or implicit
	Username string
	Password string // resolved from the environment or a file, never from the config itself
	From     string
	To, Cc   []string

	// slack, teams and webhook
	URL    string // resolved from the environment or a file for slack and teams
	Secret string // the webhook's HMAC key, resolved from the environment or a file

	// directory
	Path string
}

// Period is the span a report covers, in the report's time zone.
type Period struct {
	From  time.Time // the first instant, inclusive
	To    time.Time // the instant after the period, exclusive
	Label string    // e.g. 2026-10, 2026-W42, 2026-Q3, 2026, or 2026-10-01..2026-10-30 for trailing periods
	TZ    *time.Location
}

// Options are what Build needs beyond the numbers: the addresses links point to, and facts the
// store does not hold. The zero value is valid: links are then relative and freshness shows the
// newest contribution only.
type Options struct {
	// BaseURL is the dashboard's public address (https://giveback.example.com), without a
	// trailing slash; links to the dashboard and to the archived copy start with it.
	BaseURL string
	// Late is set when the report is generated after its due time (a catch-up); the report says so.
	Late bool
	// Due is the time the report was due, stated when Late.
	Due time.Time
	// LastArchiveHour is the newest GH Archive hour processed; zero when unknown.
	LastArchiveHour time.Time
	// LastRESTSync is the newest REST synchronisation; zero when unknown.
	LastRESTSync time.Time
	// MetricsDoc is the address of METRICS.md, the metric definitions the report links to;
	// empty is BaseURL + MetricsDocPath.
	MetricsDoc string
	// Affiliate tells the organizations of outside contributors, as for the dashboard's
	// community inflow; nil leaves them unaffiliated.
	Affiliate metrics.Affiliate
}

// Report is one generated report, every format rendered from the same numbers.
type Report struct {
	Name    string   // the definition's name
	Period  Period   // the period covered
	Subject string   // the mail subject: the title and the period
	Numbers *Numbers // every number shown, as archived (JSON)
	// Summary is a few lines of plain text for chat deliveries (Slack, Teams): the narrative and
	// the headline numbers.
	Summary   string
	HTML      []byte            // the HTML mail: inline CSS, images referenced as cid:<key of Images>
	WebHTML   []byte            // the same report for the browser, charts as inline SVG, no external resource
	Text      []byte            // the plain-text alternative
	Markdown  []byte            // for chat, wikis and issues
	CSV       []byte            // the appendix: every number shown, one per row
	PDF       []byte            // A4
	PDFLetter []byte            // US Letter
	Images    map[string][]byte // Content-ID (without angle brackets) → PNG
	// Hash is the SHA-256 (hex) of the numbers' JSON: two reports with the same hash show the
	// same numbers.
	Hash string
	// MetricsVersion identifies the metric definitions the numbers come from (a hash of the
	// metric statements), so an archived report can be told apart after a definition changed.
	MetricsVersion string
	// Empty is true when the period holds no contribution for the filter; the report says so
	// plainly instead of showing empty charts.
	Empty bool
}
