package metrics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"giveback.dev/platform/store"
)

// AffiliationCompany is what an Affiliate answers for a login the affiliations give the
// company's own name: such an actor counts with the employees in the Elephant Factor.
const AffiliationCompany = "company"

// Project is the employees' work in one project and the project's health.
type Project struct {
	Repo          string `json:"repo"` // owner/name
	IsDependency  bool   `json:"is_dependency"`
	Criticality   int    `json:"criticality"` // how many of the company's services use it
	Contributions int64  `json:"contributions"`
	PRsMerged     int64  `json:"prs_merged"` // decided in the period and merged
	PRsClosed     int64  `json:"prs_closed"` // decided in the period: merged or closed
	// Acceptance is prs_merged / prs_closed; null when none was decided.
	Acceptance *float64 `json:"acceptance"`
	// MedianMergeHours is from opening to merge of the pull requests merged in the period; null when none.
	MedianMergeHours *float64 `json:"median_merge_hours"`
	// Share is the employees' part of the project's events in the period; null without project totals.
	Share *float64 `json:"share"`
	// ElephantFactor is the fewest organizations making half the project's events in the period;
	// null without project totals.
	ElephantFactor *int    `json:"elephant_factor"`
	Seats          int64   `json:"seats"` // employees who approved or merged others' pull requests in the period
	Trend          []int64 `json:"trend"` // the project's events per month, the 12 months ending with the period's last
	// LastActivity is the last day anything happened in the project that Giveback knows of (its
	// totals, or an employee's contribution in the period): YYYY-MM-DD, "" when nothing.
	LastActivity string `json:"last_activity"`
}

// Projects is the employees' work per project.
type Projects struct {
	Filter Period    `json:"filter"`
	Total  int64     `json:"total"` // projects with contributions or decided pull requests in the period
	Rows   []Project `json:"rows"`  // the most contributed first, then by name; at most the limit
}

// GetProjects computes the work per project with every actor outside the company of unknown
// organization (see GetProjectsAffiliated).
func GetProjects(ctx context.Context, q Querier, f Filter, limit int) (Projects, error) {
	return GetProjectsAffiliated(ctx, q, f, limit, nil)
}

// GetProjectsAffiliated computes the work per project; affiliate gives the organizations of
// actors who are not employees, for the Elephant Factor (nil: all unknown, each actor an
// organization of its own). limit bounds Rows.
func GetProjectsAffiliated(ctx context.Context, q Querier, f Filter, limit int, affiliate Affiliate) (Projects, error) {
	out := Projects{Filter: period(f), Rows: []Project{}}
	res, err := run(ctx, q, "projects", f, max(limit, 1))
	if err != nil {
		return out, err
	}
	var keys []string
	for i, r := range res.Rows {
		if i == 0 {
			out.Total = store.AsInt(r[9])
		}
		if i >= limit {
			break
		}
		p := Project{Repo: store.AsString(r[0]), IsDependency: store.AsInt(r[1]) != 0, Criticality: int(store.AsInt(r[2])),
			Contributions: store.AsInt(r[3]), PRsClosed: store.AsInt(r[4]), PRsMerged: store.AsInt(r[5]),
			Seats: store.AsInt(r[7]), LastActivity: dayOf(r[8])}
		p.Acceptance = ratio(p.PRsMerged, p.PRsClosed)
		if p.PRsMerged > 0 {
			p.MedianMergeHours = finite(store.AsFloat(r[6]))
		}
		out.Rows = append(out.Rows, p)
		keys = append(keys, strings.ToLower(p.Repo))
	}
	if len(keys) == 0 {
		return out, nil
	}
	act, err := activity(ctx, q, f, keys, affiliate)
	if err != nil {
		return out, err
	}
	trends, err := trend(ctx, q, f, keys)
	if err != nil {
		return out, err
	}
	for i := range out.Rows {
		p := &out.Rows[i]
		key := strings.ToLower(p.Repo)
		if a, ok := act[key]; ok {
			p.Share, p.ElephantFactor = a.share(), &a.elephant
		}
		t := trends[key]
		p.Trend = t.months
		if t.last > p.LastActivity {
			p.LastActivity = t.last
		}
	}
	return out, nil
}

// Risk is one dependency at risk.
type Risk struct {
	Repo        string   `json:"repo"`
	Criticality int      `json:"criticality"`
	Reasons     []string `json:"reasons"` // RiskElephant, RiskFalling, RiskStale
	// ElephantFactor of the period; null without project totals.
	ElephantFactor *int `json:"elephant_factor"`
	// TrendChange is (events of the last 3 months - the 3 before) / the 3 before; null when the
	// 3 before had none.
	TrendChange *float64 `json:"trend_change"`
	// LastMergeOrRelease is YYYY-MM-DD; "" when none is known.
	LastMergeOrRelease string `json:"last_merge_or_release"`
}

// The reasons a dependency is at risk.
const (
	RiskElephant = "elephant_factor_1"        // one organization makes half the project's activity
	RiskFalling  = "activity_falling"         // its activity fell by FallingShare or more
	RiskStale    = "no_merge_or_release_180d" // no merge nor release known for StaleDays
)

// FallingShare is the drop, from the three months before to the last three, that counts as
// falling activity.
const FallingShare = 0.25

// StaleDays is how long without a merge or a release makes a project stale.
const StaleDays = 180

// Risks is the risk list: the company's dependencies with weak health that nobody of the
// company contributed to in the period.
type Risks struct {
	Filter Period `json:"filter"`
	Total  int64  `json:"total"` // dependencies at risk
	Rows   []Risk `json:"rows"`  // the most critical first, then by name; at most the limit
}

// GetRisks computes the risk list with every actor outside the company of unknown organization
// (see GetRisksAffiliated).
func GetRisks(ctx context.Context, q Querier, f Filter, limit int) (Risks, error) {
	return GetRisksAffiliated(ctx, q, f, limit, nil)
}

// GetRisksAffiliated computes the risk list: a dependency of the latest import is at risk when
// no employee (of the filter's team) contributed to it in the period and it shows one of: an
// Elephant Factor of 1 in the period, activity in the three months before the period's end
// down by FallingShare or more from the three months before, or no merge nor release known in
// the StaleDays before the period's end (judged only once the project totals cover those
// days). affiliate is as for GetProjectsAffiliated; limit bounds Rows.
func GetRisksAffiliated(ctx context.Context, q Querier, f Filter, limit int, affiliate Affiliate) (Risks, error) {
	out := Risks{Filter: period(f), Rows: []Risk{}}
	res, err := run(ctx, q, "risks", f, 0)
	if err != nil {
		return out, err
	}
	var cands []Risk
	var keys []string
	for _, r := range res.Rows {
		if store.AsInt(r[2]) > 0 {
			continue // someone of the company works in it
		}
		cands = append(cands, Risk{Repo: store.AsString(r[0]), Criticality: int(store.AsInt(r[1])), Reasons: []string{}})
		keys = append(keys, strings.ToLower(store.AsString(r[0])))
	}
	if len(keys) == 0 {
		return out, nil
	}
	act, err := activity(ctx, q, f, keys, affiliate)
	if err != nil {
		return out, err
	}
	health, err := healthOf(ctx, q, f, keys)
	if err != nil {
		return out, err
	}
	staleBefore := f.end().AddDate(0, 0, -StaleDays).Format(time.DateOnly)
	for _, c := range cands {
		key := strings.ToLower(c.Repo)
		if a, ok := act[key]; ok {
			ef := a.elephant
			c.ElephantFactor = &ef
			if ef == 1 {
				c.Reasons = append(c.Reasons, RiskElephant)
			}
		}
		h := health[key]
		if h.previous > 0 {
			ch := float64(h.recent-h.previous) / float64(h.previous)
			c.TrendChange = &ch
			if ch <= -FallingShare {
				c.Reasons = append(c.Reasons, RiskFalling)
			}
		}
		c.LastMergeOrRelease = h.lastMerge
		if h.since != "" && h.since <= staleBefore && h.lastMerge < staleBefore {
			c.Reasons = append(c.Reasons, RiskStale)
		}
		if len(c.Reasons) == 0 {
			continue
		}
		out.Total++
		if len(out.Rows) < limit {
			out.Rows = append(out.Rows, c)
		}
	}
	return out, nil
}

// projectActivity is one project's events in the period by organization.
type projectActivity struct {
	events, ours int64
	elephant     int
}

func (a projectActivity) share() *float64 {
	if a.events == 0 {
		return nil
	}
	s := float64(a.ours) / float64(a.events)
	return &s
}

// repoList is the SQL array literal of lower-case repositories.
func repoList(keys []string) string {
	return "[" + quotedList(keys) + "]"
}

// repoSet is the same repositories as a set for IN: a membership test of a hash set, where
// has() on the array compares each row with every repository (at 10M rows and 100
// repositories, 1 s against 0.1 s).
func repoSet(keys []string) string {
	if len(keys) == 0 {
		return "(NULL)"
	}
	return "(" + quotedList(keys) + ")"
}

// quotedList is keys as string literals, separated by commas.
func quotedList(keys []string) string {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = store.Quote(k)
	}
	return strings.Join(quoted, ", ")
}

func runRepos(ctx context.Context, q Querier, name string, f Filter, keys []string) (*store.Result, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("metrics: %s: %w", name, err)
	}
	sql, err := SQL(name, f, 0)
	if err != nil {
		return nil, err
	}
	if f.Repo == "" { // as run: one repository is read from contributions
		if sql, err = rollupSQL(ctx, q, name, f, 0, sql); err != nil {
			return nil, fmt.Errorf("metrics: %s: %w", name, err)
		}
	}
	sql = strings.NewReplacer("{repos}", repoList(keys), "{repo_set}", repoSet(keys)).Replace(sql)
	res, err := q.Query(ctx, sql, Settings)
	if err != nil {
		return nil, fmt.Errorf("metrics: %s: %w", name, err)
	}
	return res, nil
}

// activity computes, for each repository with project totals in the period, its events, the
// employees' and its Elephant Factor: the fewest organizations whose events make at least half
// of them. Employees are the company; an actor the affiliations give an organization counts
// with it (on the period's last day); every other actor, independent or of unknown
// organization, is an organization of its own, so unknown affiliations never make a project look
// more concentrated than it is. The opted-out people, together and unnamed, are one.
func activity(ctx context.Context, q Querier, f Filter, keys []string, affiliate Affiliate) (map[string]projectActivity, error) {
	res, err := runRepos(ctx, q, "activity", f, keys)
	if err != nil {
		return nil, err
	}
	type acc struct {
		events, ours int64
		orgs         map[string]int64
	}
	by := map[string]*acc{}
	for _, r := range res.Rows {
		key, actor, n, employee := store.AsString(r[0]), store.AsString(r[1]), store.AsInt(r[2]), store.AsInt(r[3]) != 0
		a := by[key]
		if a == nil {
			a = &acc{orgs: map[string]int64{}}
			by[key] = a
		}
		a.events += n
		org := "a:" + strings.ToLower(actor)
		switch {
		case employee:
			org = "company"
			a.ours += n
		case actor != "" && affiliate != nil:
			switch kind, name := affiliate(actor, f.To); kind {
			case AffiliationCompany:
				org = "company"
			case AffiliationOrganization:
				org = "o:" + strings.ToLower(name)
			}
		}
		a.orgs[org] += n
	}
	out := make(map[string]projectActivity, len(by))
	for key, a := range by {
		counts := make([]int64, 0, len(a.orgs))
		for _, n := range a.orgs {
			counts = append(counts, n)
		}
		out[key] = projectActivity{events: a.events, ours: a.ours, elephant: ElephantFactor(counts)}
	}
	return out, nil
}

// ElephantFactor returns the fewest of the organizations, given their events, whose events
// together make at least half of all; 0 when there are none.
func ElephantFactor(events []int64) int {
	var total int64
	for _, n := range events {
		total += n
	}
	if total == 0 {
		return 0
	}
	sorted := slices.Clone(events)
	slices.SortFunc(sorted, func(a, b int64) int { return cmp.Compare(b, a) })
	var sum int64
	for i, n := range sorted {
		if sum += n; 2*sum >= total {
			return i + 1
		}
	}
	return len(sorted)
}

// projectTrend is one project's monthly events and last day of activity.
type projectTrend struct {
	months []int64
	last   string
}

// trend reads the monthly events of the repositories over the twelve months ending with the
// period's last month; every repository gets twelve months, zeros included.
func trend(ctx context.Context, q Querier, f Filter, keys []string) (map[string]projectTrend, error) {
	res, err := runRepos(ctx, q, "trend", f, keys)
	if err != nil {
		return nil, err
	}
	last := time.Date(f.To.Year(), f.To.Month(), 1, 0, 0, 0, 0, time.UTC)
	index := map[string]int{}
	for i := range 12 {
		index[last.AddDate(0, i-11, 0).Format("2006-01")] = i
	}
	out := map[string]projectTrend{}
	for _, k := range keys {
		out[k] = projectTrend{months: make([]int64, 12)}
	}
	for _, r := range res.Rows {
		key := store.AsString(r[0])
		t, ok := out[key]
		if !ok {
			continue
		}
		if i, ok := index[month(r[1])]; ok {
			t.months[i] += store.AsInt(r[2])
		}
	}
	h, err := healthOf(ctx, q, f, keys)
	if err != nil {
		return nil, err
	}
	for k, t := range out {
		t.last = h[k].lastDay
		out[k] = t
	}
	return out, nil
}

// projectHealth is what health.sql says of one repository.
type projectHealth struct {
	recent, previous int64
	lastDay          string // YYYY-MM-DD or ""
	lastMerge        string // YYYY-MM-DD or ""
	since            string // the first day of the project totals, or "" when they hold nothing
}

func healthOf(ctx context.Context, q Querier, f Filter, keys []string) (map[string]projectHealth, error) {
	res, err := runRepos(ctx, q, "health", f, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]projectHealth{}
	for _, r := range res.Rows {
		out[store.AsString(r[0])] = projectHealth{recent: store.AsInt(r[1]), previous: store.AsInt(r[2]),
			lastDay: dayOf(r[3]), lastMerge: dayOf(r[4]), since: dayOf(r[5])}
	}
	return out, nil
}
