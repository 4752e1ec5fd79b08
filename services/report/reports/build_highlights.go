package reports

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/services/report/metrics"
)

// The report's own statements, for what the dashboard does not show: the highlights and the
// freshness. They read the contributions table as package metrics does (FINAL, the company's
// people only, the filter's team and upstream conditions) and are bound by bind.
const (
	// sqlMergedPRs lists the pull requests merged in the period, the first 1,000 by the
	// criticality of the repository as a dependency and their size (lines added and deleted),
	// with the first instant their author contributed anything to the repository. That first
	// instant is read without FINAL, for the authors and repositories of those 1,000 only:
	// every version of a row has the same occurred_at, so duplicates do not change a minimum.
	// Those pairs are picked by a 64-bit hash of author and repository, one integer per row
	// instead of a string pair (at 10M rows 1.05 s became 0.42 s, and 0.33 s with the pairs of
	// the 1,000 alone); the join compares the pair itself, so a pair that only shares a hash
	// with one of them adds a group that meets no pull request. {opened} keeps the months in
	// which those pull requests may have been opened (metrics.MergedOpened), so FINAL reads a
	// few partitions rather than the whole history.
	sqlMergedPRs = `WITH p AS
(
    SELECT repo, number, title, url, toInt64(additions) + toInt64(deletions) AS lines,
        toInt64(dependency_criticality) AS criticality, actor_login, employee_id, merged_at, occurred_at
    FROM contributions FINAL
    WHERE kind = 'pull_request' AND merged = 1 AND merged_at >= {from} AND merged_at < {to} AND occurred_at < {to}{filter} AND {opened}
    ORDER BY criticality DESC, lines DESC, repo, number
    LIMIT 1000
)
SELECT p.repo, p.number, p.title, p.url, p.lines, p.criticality, p.actor_login, p.merged_at,
    f.first >= p.occurred_at AS first_time
FROM p
LEFT JOIN
(
    SELECT employee_id, lower(repo) AS r, min(occurred_at) AS first
    FROM contributions
    WHERE occurred_at < {to} AND employee_id != '' AND cityHash64(employee_id, lower(repo)) IN (SELECT cityHash64(employee_id, lower(repo)) FROM p)
    GROUP BY employee_id, r
) AS f ON f.employee_id = p.employee_id AND f.r = lower(p.repo)
ORDER BY p.criticality DESC, p.lines DESC, p.repo, p.number`

	// sqlNewProjects lists the upstream repositories whose first contribution by the company's
	// people falls in the period, with the contributions made to them in the period.
	sqlNewProjects = `SELECT min(repo) AS project, countIf(occurred_at >= {from}) AS contributions
FROM contributions FINAL
WHERE occurred_at < {to} AND is_upstream = 1{filter}
GROUP BY lower(repo)
HAVING min(occurred_at) >= {from}
ORDER BY contributions DESC, project`

	// sqlNewProjectsRolled answers what sqlNewProjects answers, from repos_rollup for the months
	// whose rollup is current (the contributions before the period from its month rows before
	// the period's month and its day rows of that month, those of the period as {rdays} picks
	// them) and from contributions FINAL for the others (metrics.BindRolled binds it).
	sqlNewProjectsRolled = `SELECT min(repo) AS project, sum(n) AS contributions
FROM
(
    SELECT repo,
        if((grain = 'month' AND day < toStartOfMonth({from_day})) OR (grain = 'day' AND day >= toStartOfMonth({from_day}) AND day < {from_day}),
            contributions, 0) AS b,
        if({rdays}, contributions, 0) AS n
    FROM repos_rollup
    WHERE src IN ({fresh}) AND is_upstream = 1{rfilter}
        AND ((grain = 'month' AND day < toStartOfMonth({from_day})) OR (grain = 'day' AND day >= toStartOfMonth({from_day}) AND day < {from_day}) OR {rdays})
    UNION ALL
    SELECT repo, countIf(occurred_at < {from}) AS b, countIf(occurred_at >= {from}) AS n
    FROM contributions FINAL
    WHERE {stale} AND occurred_at < {to} AND is_upstream = 1{filter}
    GROUP BY repo
)
GROUP BY lower(repo)
HAVING sum(b) = 0 AND contributions > 0
ORDER BY contributions DESC, project`

	// sqlFirstTimers names the people metrics.GetNewcomers counts as new ({employees}: their
	// ids), with the login and time of their first upstream contribution. Being new, each one's
	// first upstream contribution ever falls in the period, so the period alone is read.
	sqlFirstTimers = `SELECT employee_id, argMin(actor_login, occurred_at) AS login, min(occurred_at) AS first
FROM contributions FINAL
WHERE occurred_at >= {from} AND occurred_at < {to} AND is_upstream = 1 AND employee_id IN ({employees})
GROUP BY employee_id
ORDER BY first, login`

	// sqlFreshness is the newest contribution stored.
	sqlFreshness = `SELECT max(occurred_at) FROM contributions`
)

var ownStatements = []string{sqlMergedPRs, sqlNewProjects, sqlNewProjectsRolled, sqlFirstTimers, sqlFreshness}

// bind fills a statement's placeholders as package metrics does: {from} and {to} are the period's
// first instant and the instant after it, {filter} the conditions of the company's people, the
// team, the upstream selection and, with dependencies only, the company's dependencies.
func bind(sql string, f metrics.Filter, depsOnly bool) string {
	var cond strings.Builder
	cond.WriteString(" AND employee_id != ''")
	if f.Team != "" {
		cond.WriteString(" AND team = " + store.Quote(f.Team))
	}
	switch f.Upstream {
	case metrics.UpstreamOnly:
		cond.WriteString(" AND is_upstream = 1")
	case metrics.UpstreamInternal:
		cond.WriteString(" AND is_upstream = 0")
	}
	if depsOnly {
		cond.WriteString(" AND is_dependency = 1")
	}
	return strings.NewReplacer(
		"{from}", ts(f.From),
		"{to}", ts(f.To.AddDate(0, 0, 1)),
		"{filter}", cond.String(),
	).Replace(sql)
}

func ts(t time.Time) string {
	return "toDateTime64(" + store.Quote(t.UTC().Format("2006-01-02 15:04:05")) + ", 3, 'UTC')"
}

// query runs one of the report's own statements; projects restricts it to the company's
// dependencies when the definition asks for dependencies only (the project lists, not the totals).
func (b *builder) query(ctx context.Context, name, sql string, f metrics.Filter, projects bool) (*store.Result, error) {
	res, err := b.q.Query(ctx, bind(sql, f, projects && b.def.Filter.DependenciesOnly), metrics.Settings)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

// mergedPRs runs sqlMergedPRs for f.
func (b *builder) mergedPRs(ctx context.Context, f metrics.Filter) (*store.Result, error) {
	opened, err := metrics.MergedOpened(ctx, b.q, f)
	if err != nil {
		return nil, fmt.Errorf("highlights: %w", err)
	}
	return b.query(ctx, "highlights", strings.ReplaceAll(sqlMergedPRs, "{opened}", opened), f, true)
}

// The most highlighted pull requests of each kind, and of new projects and first-timers.
const (
	maxCriticalPRs = 3
	maxLargestPRs  = 3
	maxFirstPRs    = 3
	maxNewProjects = 10
	maxFirstTimers = 20
)

// whyCritical is the reason a pull request to a dependency is highlighted.
const whyCritical = "critical dependency"

// highlights sets the notable merged pull requests, the new projects and the first-timers.
func (b *builder) highlights(ctx context.Context) error {
	res, err := b.mergedPRs(ctx, b.cur)
	if err != nil {
		return err
	}
	var all []HighlightPR
	for _, r := range res.Rows {
		all = append(all, HighlightPR{Repo: store.AsString(r[0]), Number: store.AsInt(r[1]), Title: store.AsString(r[2]),
			URL: store.AsString(r[3]), Lines: store.AsInt(r[4]), Criticality: store.AsInt(r[5]), Author: store.AsString(r[6]),
			MergedAt: dateOf(store.AsString(r[7])), First: store.AsInt(r[8]) != 0})
	}
	h := &Highlights{MergedPRs: []HighlightPR{}, NewProjects: []string{}}
	pick := func(why string, max int, ok func(HighlightPR) bool, order func(a, b HighlightPR) int) {
		cands := slices.Clone(all)
		if order != nil {
			slices.SortStableFunc(cands, order)
		}
		n := 0
		for _, c := range cands {
			if n == max || !ok(c) {
				continue
			}
			n++
			if i := slices.IndexFunc(h.MergedPRs, func(p HighlightPR) bool { return p.Repo == c.Repo && p.Number == c.Number }); i >= 0 {
				h.MergedPRs[i].Why = append(h.MergedPRs[i].Why, why)
				continue
			}
			c.Why = []string{why}
			h.MergedPRs = append(h.MergedPRs, c)
		}
	}
	pick(whyCritical, maxCriticalPRs, func(p HighlightPR) bool { return p.Criticality > 0 }, nil)
	pick("largest", maxLargestPRs, func(p HighlightPR) bool { return p.Lines > 0 }, func(a, b HighlightPR) int { return int(b.Lines - a.Lines) })
	pick("first contribution to the project", maxFirstPRs, func(p HighlightPR) bool { return p.First }, nil)
	if !b.def.People {
		for i := range h.MergedPRs {
			h.MergedPRs[i].Author = ""
		}
	}

	if res, err = b.newProjects(ctx); err != nil {
		return err
	}
	h.NewProjectsCount = int64(len(res.Rows))
	for i, r := range res.Rows {
		if i < maxNewProjects {
			h.NewProjects = append(h.NewProjects, store.AsString(r[0]))
		}
	}
	nc, err := b.newcomersOf(ctx, false)
	if err != nil {
		return err
	}
	h.FirstTimers = nc.New
	if b.def.People {
		h.FirstTimerNames = []string{}
		if len(nc.NewEmployees) > 0 {
			ids := make([]string, len(nc.NewEmployees))
			for i, id := range nc.NewEmployees {
				ids[i] = store.Quote(id)
			}
			sql := strings.ReplaceAll(sqlFirstTimers, "{employees}", strings.Join(ids, ", "))
			if res, err = b.query(ctx, "first timers", sql, b.cur, false); err != nil {
				return err
			}
			for i, r := range res.Rows {
				if i < maxFirstTimers {
					h.FirstTimerNames = append(h.FirstTimerNames, store.AsString(r[1]))
				}
			}
		}
	}
	b.n.Highlights = h
	return nil
}

// newProjects runs sqlNewProjects for the period: from the rollups where they hold the
// filter, from contributions FINAL when the report lists dependencies only (the rollups do not
// tell dependencies apart).
func (b *builder) newProjects(ctx context.Context) (*store.Result, error) {
	if b.def.Filter.DependenciesOnly {
		return b.query(ctx, "new projects", sqlNewProjects, b.cur, true)
	}
	sql, err := metrics.BindRolled(ctx, b.q, sqlNewProjects, sqlNewProjectsRolled, b.cur)
	if err != nil {
		return nil, fmt.Errorf("new projects: %w", err)
	}
	res, err := b.q.Query(ctx, sql, metrics.Settings)
	if err != nil {
		return nil, fmt.Errorf("new projects: %w", err)
	}
	return res, nil
}

// freshness reads the newest contribution stored.
func freshness(ctx context.Context, q metrics.Querier) (Freshness, error) {
	res, err := q.Query(ctx, sqlFreshness, nil)
	if err != nil {
		return Freshness{}, fmt.Errorf("freshness: %w", err)
	}
	var f Freshness
	if len(res.Rows) == 1 {
		f.NewestContribution = parseTime(store.AsString(res.Rows[0][0]))
	}
	return f, nil
}

// parseTime reads a DateTime64 as ClickHouse prints it; the epoch (max of nothing) and
// anything unreadable are the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.999999999", s)
	if err != nil || t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

func dateOf(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}
