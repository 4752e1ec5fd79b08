// Package metrics computes Giveback's "give back" metrics from the contributions table. Every
// metric is one named SQL statement in sql/*.sql (documented in METRICS.md beside the service),
// bound to a Filter and decoded into the structs of this package, which are also the JSON bodies
// of the report API.
//
// The contributions table is a ReplacingMergeTree that may hold several versions of a
// contribution until ClickHouse merges them. Every statement reads it with FINAL, so only the
// newest version of each id counts (its state, team and employee), and with
// do_not_merge_across_partitions_select_final=1: all versions of an id share occurred_at and so a
// partition, which lets ClickHouse deduplicate each partition on its own, in parallel, and skip
// partitions that have a single part.
package metrics

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"sort"
	"strings"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
)

// Querier runs a read statement; *store.Store is one.
type Querier interface {
	Query(ctx context.Context, q string, s store.Settings) (*store.Result, error)
}

var _ Querier = (*store.Store)(nil)

// Statement is one named metric query.
type Statement struct {
	Name string // the file name without .sql
	Doc  string // the leading comment, without the dashes
	SQL  string // the statement with its {placeholders}
}

// Settings are the ClickHouse settings every metric statement runs with.
var Settings = store.Settings{"do_not_merge_across_partitions_select_final": 1}

//go:embed sql/*.sql
var files embed.FS

var statements = mustLoad()

func mustLoad() map[string]Statement {
	out := map[string]Statement{}
	names, err := fs.Glob(files, "sql/*.sql")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		body, err := files.ReadFile(n)
		if err != nil {
			panic(err)
		}
		var doc, sql []string
		for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			if len(sql) == 0 && strings.HasPrefix(line, "--") {
				doc = append(doc, strings.TrimSpace(strings.TrimPrefix(line, "--")))
				continue
			}
			sql = append(sql, line)
		}
		name := strings.TrimSuffix(path.Base(n), ".sql")
		out[name] = Statement{Name: name, Doc: strings.Join(doc, " "), SQL: strings.Join(sql, "\n")}
	}
	return out
}

// Statements returns every metric statement, by name.
func Statements() []Statement {
	out := make([]Statement, 0, len(statements))
	for _, s := range statements {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SQL returns the named statement bound to the filter, as it is sent to ClickHouse.
func SQL(name string, f Filter, limit int) (string, error) {
	st, ok := statements[name]
	if !ok {
		return "", fmt.Errorf("metrics: no statement %q", name)
	}
	return f.bind(st.SQL, limit), nil
}

func run(ctx context.Context, q Querier, name string, f Filter, limit int) (*store.Result, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("metrics: %s: %w", name, err)
	}
	sql, err := SQL(name, f, limit)
	if err != nil {
		return nil, err
	}
	if f.Repo == "" { // the rollups hold no repository: one repository is read from contributions
		if sql, err = rollupSQL(ctx, q, name, f, limit, sql); err != nil {
			return nil, fmt.Errorf("metrics: %s: %w", name, err)
		}
	}
	res, err := q.Query(ctx, sql, Settings)
	if err != nil {
		return nil, fmt.Errorf("metrics: %s: %w", name, err)
	}
	return res, nil
}

// Period echoes the filter a metric was computed for, as in the query string.
type Period struct {
	From     string `json:"from"`           // first day, inclusive
	To       string `json:"to"`             // last day, inclusive
	Team     string `json:"team"`           // "" for every team
	Upstream string `json:"upstream"`       // 1, 0 or all
	Repo     string `json:"repo,omitempty"` // one repository; absent for every one
}

func period(f Filter) Period {
	return Period{From: day(f.From), To: day(f.To), Team: f.Team, Upstream: string(f.Upstream), Repo: f.Repo}
}

// Ratio is merged / closed, or nil (JSON null) when nothing was closed.
func ratio(merged, closed int64) *float64 {
	if closed == 0 {
		return nil
	}
	r := float64(merged) / float64(closed)
	return &r
}

// Summary is the period's totals.
type Summary struct {
	Filter                Period   `json:"filter"`
	Contributions         int64    `json:"contributions"`          // contributions made in the period
	UpstreamContributions int64    `json:"upstream_contributions"` // of which to upstream repositories
	ActiveContributors    int64    `json:"active_contributors"`    // distinct employees with ≥1 contribution
	UpstreamRepos         int64    `json:"upstream_repos"`         // distinct upstream repositories reached
	UpstreamOrgs          int64    `json:"upstream_orgs"`          // distinct owners of those repositories
	PRsOpened             int64    `json:"prs_opened"`             // pull requests opened in the period
	PRsMerged             int64    `json:"prs_merged"`             // pull requests merged in the period
	PRsClosed             int64    `json:"prs_closed"`             // pull requests decided (merged or closed) in the period
	PRsDeclined           int64    `json:"prs_declined"`           // closed without merge: prs_closed - prs_merged
	AcceptanceRatio       *float64 `json:"acceptance_ratio"`       // prs_merged / prs_closed; null when none closed
	PersonalContributions int64    `json:"personal_contributions"` // to the contributors' own repositories, not upstream
	ForkContributions     int64    `json:"fork_contributions"`     // to forks owned by someone else, not upstream
}

// GetSummary computes the summary.
func GetSummary(ctx context.Context, q Querier, f Filter) (Summary, error) {
	res, err := run(ctx, q, "summary", f, 0)
	if err != nil {
		return Summary{}, err
	}
	if len(res.Rows) == 0 || len(res.Rows[0]) < 10 {
		return Summary{Filter: period(f)}, fmt.Errorf("metrics: summary: unexpected result shape")
	}
	return summaryOf(f, res.Rows[0]), nil
}

// summaryOf reads the summary of f from a row of the summary statement.
func summaryOf(f Filter, r []any) Summary {
	s := Summary{Filter: period(f)}
	s.Contributions, s.UpstreamContributions = store.AsInt(r[0]), store.AsInt(r[1])
	s.ActiveContributors, s.UpstreamRepos, s.UpstreamOrgs = store.AsInt(r[2]), store.AsInt(r[3]), store.AsInt(r[4])
	s.PRsOpened, s.PRsClosed, s.PRsMerged = store.AsInt(r[5]), store.AsInt(r[6]), store.AsInt(r[7])
	s.PersonalContributions, s.ForkContributions = store.AsInt(r[8]), store.AsInt(r[9])
	s.PRsDeclined = s.PRsClosed - s.PRsMerged
	s.AcceptanceRatio = ratio(s.PRsMerged, s.PRsClosed)
	return s
}

// KindMonth is one month of contributions by kind.
type KindMonth struct {
	Month  string           `json:"month"` // YYYY-MM
	Total  int64            `json:"total"`
	ByKind map[string]int64 `json:"by_kind"` // every kind of Contributions.Kinds, zeros included
}

// Contributions is contributions by kind and month.
type Contributions struct {
	Filter Period      `json:"filter"`
	Kinds  []string    `json:"kinds"`  // display order: events.Kinds, then any other kind found
	Total  int64       `json:"total"`  // all contributions of the period
	Months []KindMonth `json:"months"` // every month of the period, empty ones included
}

// GetContributions computes contributions by kind and month.
func GetContributions(ctx context.Context, q Querier, f Filter) (Contributions, error) {
	res, err := run(ctx, q, "contributions", f, 0)
	if err != nil {
		return Contributions{}, err
	}
	kinds := slices.Clone(events.Kinds)
	var extra []string
	counts := map[string]map[string]int64{}
	for _, r := range res.Rows {
		m, k, n := month(r[0]), store.AsString(r[1]), store.AsInt(r[2])
		if !slices.Contains(kinds, k) && !slices.Contains(extra, k) {
			extra = append(extra, k)
		}
		if counts[m] == nil {
			counts[m] = map[string]int64{}
		}
		counts[m][k] += n
	}
	sort.Strings(extra)
	kinds = append(kinds, extra...)
	out := Contributions{Filter: period(f), Kinds: kinds, Months: []KindMonth{}}
	for _, m := range f.Months() {
		km := KindMonth{Month: m.Format("2006-01"), ByKind: map[string]int64{}}
		for _, k := range kinds {
			n := counts[km.Month][k]
			km.ByKind[k] = n
			km.Total += n
		}
		out.Total += km.Total
		out.Months = append(out.Months, km)
	}
	return out, nil
}

// ContributorMonth is one month of active contributors.
type ContributorMonth struct {
	Month        string `json:"month"` // YYYY-MM
	Contributors int64  `json:"contributors"`
}

// Contributors is active contributors per month: distinct employees with at least one
// contribution in the month.
type Contributors struct {
	Filter Period             `json:"filter"`
	Months []ContributorMonth `json:"months"` // every month of the period, empty ones included
}

// GetContributors computes active contributors per month.
func GetContributors(ctx context.Context, q Querier, f Filter) (Contributors, error) {
	res, err := run(ctx, q, "contributors", f, 0)
	if err != nil {
		return Contributors{}, err
	}
	byMonth := map[string]int64{}
	for _, r := range res.Rows {
		byMonth[month(r[0])] = store.AsInt(r[1])
	}
	out := Contributors{Filter: period(f), Months: []ContributorMonth{}}
	for _, m := range f.Months() {
		k := m.Format("2006-01")
		out.Months = append(out.Months, ContributorMonth{Month: k, Contributors: byMonth[k]})
	}
	return out, nil
}

// Repo is one repository's contributions.
type Repo struct {
	Repo          string `json:"repo"` // owner/name
	Contributions int64  `json:"contributions"`
	Contributors  int64  `json:"contributors"` // distinct employees
}

// Repos is the repositories reached.
type Repos struct {
	Filter Period `json:"filter"`
	Repos  int64  `json:"repos"` // distinct repositories reached
	Orgs   int64  `json:"orgs"`  // distinct owners of those repositories
	Top    []Repo `json:"top"`   // by contributions, then name; at most the limit asked for
}

// GetRepos computes the repositories reached and the top limit of them.
func GetRepos(ctx context.Context, q Querier, f Filter, limit int) (Repos, error) {
	res, err := run(ctx, q, "repos", f, max(limit, 1))
	if err != nil {
		return Repos{Filter: period(f), Top: []Repo{}}, err
	}
	return reposOf(f, res.Rows, limit), nil
}

// reposOf reads the repositories of f, at most limit of them, from the rows of the repos
// statement.
func reposOf(f Filter, rows [][]any, limit int) Repos {
	out := Repos{Filter: period(f), Top: []Repo{}}
	for i, r := range rows {
		if i == 0 {
			out.Repos, out.Orgs = store.AsInt(r[3]), store.AsInt(r[4])
		}
		if i < limit {
			out.Top = append(out.Top, Repo{Repo: store.AsString(r[0]), Contributions: store.AsInt(r[1]), Contributors: store.AsInt(r[2])})
		}
	}
	return out
}

// AcceptanceMonth is one month of decided pull requests.
type AcceptanceMonth struct {
	Month    string   `json:"month"`    // YYYY-MM, of the decision
	Closed   int64    `json:"closed"`   // merged or closed without merge
	Merged   int64    `json:"merged"`   // accepted
	Declined int64    `json:"declined"` // closed without merge
	Ratio    *float64 `json:"ratio"`    // merged / closed; null when none closed
}

// Acceptance is the change request acceptance ratio, per month and for the period.
type Acceptance struct {
	Filter   Period            `json:"filter"`
	Closed   int64             `json:"closed"`
	Merged   int64             `json:"merged"`
	Declined int64             `json:"declined"`
	Ratio    *float64          `json:"ratio"`
	Months   []AcceptanceMonth `json:"months"` // every month of the period, empty ones included
}

// GetAcceptance computes the acceptance ratio per month of decision.
func GetAcceptance(ctx context.Context, q Querier, f Filter) (Acceptance, error) {
	res, err := run(ctx, q, "acceptance", f, 0)
	if err != nil {
		return Acceptance{}, err
	}
	type cm struct{ closed, merged int64 }
	byMonth := map[string]cm{}
	for _, r := range res.Rows {
		byMonth[month(r[0])] = cm{store.AsInt(r[1]), store.AsInt(r[2])}
	}
	out := Acceptance{Filter: period(f), Months: []AcceptanceMonth{}}
	for _, m := range f.Months() {
		k := m.Format("2006-01")
		c := byMonth[k]
		out.Months = append(out.Months, AcceptanceMonth{Month: k, Closed: c.closed, Merged: c.merged,
			Declined: c.closed - c.merged, Ratio: ratio(c.merged, c.closed)})
		out.Closed += c.closed
		out.Merged += c.merged
	}
	out.Declined = out.Closed - out.Merged
	out.Ratio = ratio(out.Merged, out.Closed)
	return out, nil
}

// ResponsivenessMonth is how fast the company's pull requests opened in one month were answered.
type ResponsivenessMonth struct {
	Month       string   `json:"month,omitempty"`       // YYYY-MM, of opening; empty for the period
	Opened      int64    `json:"opened"`                // pull requests opened
	Answered    int64    `json:"answered"`              // of which someone other than the author answered
	MedianHours *float64 `json:"median_hours"`          // to the first answer; null when none was answered
	MedianLines *float64 `json:"median_lines"`          // lines added and deleted; null when no size is known
	Merged      int64    `json:"merged"`                // of which merged (so far)
	MedianMerge *float64 `json:"median_hours_to_merge"` // from opening to merge; null when none was merged
}

// Responsiveness is how fast upstream projects answer the company's pull requests (CHAOSS Time
// to First Response), and how big those pull requests are, per month and for the period.
type Responsiveness struct {
	Filter Period `json:"filter"`
	ResponsivenessMonth
	Months []ResponsivenessMonth `json:"months"` // every month of the period, empty ones included
}

// GetResponsiveness computes the time to first response of pull requests by month opened.
func GetResponsiveness(ctx context.Context, q Querier, f Filter) (Responsiveness, error) {
	res, err := run(ctx, q, "responsiveness", f, 0)
	if err != nil {
		return Responsiveness{}, err
	}
	out := Responsiveness{Filter: period(f), Months: []ResponsivenessMonth{}}
	byMonth := map[string]ResponsivenessMonth{}
	for _, r := range res.Rows {
		m := ResponsivenessMonth{Month: month(r[0]), Opened: store.AsInt(r[1]), Answered: store.AsInt(r[2])}
		if m.Answered > 0 {
			m.MedianHours = finite(store.AsFloat(r[3]))
		}
		if len(r) > 7 && store.AsInt(r[7]) > 0 {
			m.MedianLines = finite(store.AsFloat(r[4]))
		}
		m.Merged = store.AsInt(r[5])
		if m.Merged > 0 {
			m.MedianMerge = finite(store.AsFloat(r[6]))
		}
		if m.Month == "1970-01" { // the ROLLUP row: the whole period
			m.Month = ""
			out.ResponsivenessMonth = m
			continue
		}
		byMonth[m.Month] = m
	}
	for _, m := range f.Months() {
		k := m.Format("2006-01")
		rm, ok := byMonth[k]
		if !ok {
			rm = ResponsivenessMonth{Month: k}
		}
		out.Months = append(out.Months, rm)
	}
	return out, nil
}

// MonthOf returns the responsiveness of f, when f is one calendar month among the months of r
// for the same team, upstream selection and repository: the row of that month is what
// GetResponsiveness(f) answers, since both count the pull requests opened in the month, each
// with its first answer whenever it came. A report asks for its month, the month before and the
// twelve months to its end; this spares it two of the three statements.
func (r Responsiveness) MonthOf(f Filter) (Responsiveness, bool) {
	p := period(f)
	if !f.CalendarMonth() || p.Team != r.Filter.Team || p.Upstream != r.Filter.Upstream || p.Repo != r.Filter.Repo {
		return Responsiveness{}, false
	}
	k := f.From.Format("2006-01")
	for _, m := range r.Months {
		if m.Month == k {
			whole := m
			whole.Month = ""
			return Responsiveness{Filter: p, ResponsivenessMonth: whole, Months: []ResponsivenessMonth{m}}, true
		}
	}
	return Responsiveness{}, false
}

// finite returns &v, or nil for NaN (a quantile of nothing).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// CycleRepo is one dependency of the company and what the company gave it.
type CycleRepo struct {
	Repo           string `json:"repo"`             // owner/name
	Criticality    int64  `json:"criticality"`      // how many of the company's services use it
	Contributions  int64  `json:"contributions"`    // in the period
	MergedPRs      int64  `json:"merged_prs"`       // pull requests opened in the period and merged
	Contributors   int64  `json:"contributors"`     // employees who contributed in the period
	MergedLastYear int64  `json:"merged_last_year"` // pull requests merged in the 12 months before the period's end
}

// Cycle sets the company's dependencies against its contributions to them: give-back coverage
// is the share of dependencies that received an accepted (merged) pull request in the twelve
// months before the period's end, and the same weighted by criticality.
type Cycle struct {
	Filter           Period      `json:"filter"`
	Dependencies     int64       `json:"dependencies"`      // in the latest import; 0 when none was imported
	Contributed      int64       `json:"contributed"`       // of which received contributions in the period
	Covered          int64       `json:"covered"`           // of which had a pull request merged in the last 12 months
	Coverage         *float64    `json:"coverage"`          // covered / dependencies; null without dependencies
	WeightedCoverage *float64    `json:"weighted_coverage"` // the same, each dependency weighted by its criticality
	Repos            []CycleRepo `json:"repos"`             // the most critical first, at most the limit
}

// GetCycle computes the give-back cycle; limit bounds the dependencies listed (the totals count
// every one).
func GetCycle(ctx context.Context, q Querier, f Filter, limit int) (Cycle, error) {
	res, err := run(ctx, q, "cycle", f, 0)
	if err != nil {
		return Cycle{}, err
	}
	out := Cycle{Filter: period(f), Repos: []CycleRepo{}}
	var weight, coveredWeight int64
	for _, r := range res.Rows {
		c := CycleRepo{Repo: store.AsString(r[0]), Criticality: store.AsInt(r[1]), Contributions: store.AsInt(r[2]),
			MergedPRs: store.AsInt(r[3]), Contributors: store.AsInt(r[4]), MergedLastYear: store.AsInt(r[5])}
		out.Dependencies++
		weight += c.Criticality
		if c.Contributions > 0 {
			out.Contributed++
		}
		if c.MergedLastYear > 0 {
			out.Covered++
			coveredWeight += c.Criticality
		}
		if len(out.Repos) < limit {
			out.Repos = append(out.Repos, c)
		}
	}
	out.Coverage = ratio(out.Covered, out.Dependencies)
	out.WeightedCoverage = ratio(coveredWeight, weight)
	return out, nil
}

// Team is one team found in the data.
type Team struct {
	Team          string `json:"team"`
	Contributions int64  `json:"contributions"` // all time
}

// GetTeams lists the teams the contributions are attributed to, by name; empty when none.
func GetTeams(ctx context.Context, q Querier) ([]Team, error) {
	sql := statements["teams"].SQL
	if ctx.Value(plainKey{}) == nil {
		months, err := rolledMonths(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("metrics: teams: %w", err)
		}
		sql = strings.NewReplacer("{fresh}", freshList(months), "{stale}", staleCondition(months)).Replace(rollupStatements["teams"])
	}
	res, err := q.Query(ctx, sql, Settings)
	if err != nil {
		return nil, fmt.Errorf("metrics: teams: %w", err)
	}
	out := []Team{}
	for _, r := range res.Rows {
		out = append(out, Team{Team: store.AsString(r[0]), Contributions: store.AsInt(r[1])})
	}
	return out, nil
}

// month turns a Date value ("2025-01-01") into "2025-01".
func month(v any) string {
	s := store.AsString(v)
	if len(s) >= 7 { // a date (YYYY-MM-DD) or a month: its first seven characters
		return s[:7]
	}
	return s
}
