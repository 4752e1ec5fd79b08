package metrics

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"giveback.dev/platform/store"
)

// The rollups (migration 0011, store.RefreshRollups) hold the contributions of each month
// pre-aggregated per day and month, team, destination and kind. The statements in rollup/*.sql
// compute the same metric as the statement of sql/*.sql with the same name, reading the months
// whose rollup is current from the rollups and the others from contributions FINAL, so their
// answers are the same whatever was rebuilt (TestRollupsEqualFinal). run uses them in place of
// the plain statements.

//go:embed rollup/*.sql
var rollupFiles embed.FS

var rollupStatements = withFirstUpstream(loadStatements(rollupFiles, "rollup/*.sql"))

// firstUpstream is, for each employee, the time of their first upstream contribution ever
// before the period's end, from newcomers_rollup for the months whose rollup is current (the
// month rows of the months before the end's, the day rows of that month) and from contributions
// FINAL for the others: what a rollup statement that tells newcomers from returning people joins,
// written {first_upstream} there.
const firstUpstream = `(
    SELECT employee_id, min(first) AS first_at
    FROM
    (
        SELECT employee_id, min(first_at) AS first
        FROM newcomers_rollup
        WHERE src IN ({fresh}) AND is_upstream = 1
            AND ((grain = 'month' AND day < toStartOfMonth({to_day}))
                OR (grain = 'day' AND day >= toStartOfMonth({to_day}) AND day < {to_day}))
        GROUP BY employee_id
        UNION ALL
        SELECT employee_id, min(occurred_at) AS first
        FROM contributions FINAL
        WHERE {stale} AND employee_id != '' AND is_upstream = 1 AND occurred_at < {to}
        GROUP BY employee_id
    )
    GROUP BY employee_id
)`

// withFirstUpstream writes firstUpstream where the statements say {first_upstream}.
func withFirstUpstream(sts map[string]string) map[string]string {
	for name, st := range sts {
		sts[name] = strings.ReplaceAll(st, "{first_upstream}", firstUpstream)
	}
	return sts
}

// loadStatements reads the statements of the files matching pattern, each named by its file
// name without .sql, without the comment lines that open the file.
func loadStatements(fsys embed.FS, pattern string) map[string]string {
	out := map[string]string{}
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		body, err := fsys.ReadFile(n)
		if err != nil {
			panic(err)
		}
		var sql []string
		for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			if len(sql) == 0 && strings.HasPrefix(line, "--") {
				continue
			}
			sql = append(sql, line)
		}
		out[strings.TrimSuffix(path.Base(n), ".sql")] = strings.Join(sql, "\n")
	}
	return out
}

// plainKey marks a context whose metrics are computed by the plain statements alone (the
// equivalence test's reference).
type plainKey struct{}

// WithoutRollups returns ctx in which the metrics, and the statements bound by BindRolled, read
// contributions FINAL alone: the reference a rollup form is compared with.
func WithoutRollups(ctx context.Context) context.Context {
	return context.WithValue(ctx, plainKey{}, true)
}

// rollupSQL returns the statement run for the named metric: its rollup form bound to the filter
// and to the months whose rollup is current, when it has one, else plain (the statement as SQL
// returns it).
func rollupSQL(ctx context.Context, q Querier, name string, f Filter, limit int, plain string) (string, error) {
	st, ok := rollupStatements[name]
	if !ok {
		return plain, nil
	}
	return rolledSQL(ctx, q, st, f, limit, plain)
}

// BindRolled binds a statement that is not one of the package's metrics but reads the
// contributions as they do: plain, over contributions FINAL with the metric statements'
// placeholders ({from}, {to}, {filter}), or, when f is a filter the rollups hold, rolled, its
// form over the rollups, which also has the rollup placeholders (bindRollup) bound to the months
// whose rollup is current. rolled must answer exactly what plain answers: its caller keeps a
// test that compares them, as TestRollupsEqualFinal does for the metrics.
func BindRolled(ctx context.Context, q Querier, plain, rolled string, f Filter) (string, error) {
	if err := f.Validate(); err != nil {
		return "", err
	}
	return rolledSQL(ctx, q, rolled, f, 0, f.bind(plain, 0))
}

// rolledSQL returns st, a statement over the rollups, bound to f and to the months whose rollup
// is current, or plain when f is not a filter the rollups hold or ctx asks for the plain
// statements.
func rolledSQL(ctx context.Context, q Querier, st string, f Filter, limit int, plain string) (string, error) {
	if !readsRollups(ctx, f) {
		return plain, nil
	}
	months, err := rolledMonths(ctx, q)
	if err != nil {
		return "", err
	}
	return f.bindRollup(f.bind(st, limit), months), nil
}

// readsRollups reports whether a statement for f reads the rollups: unless ctx asks for the
// plain statements, or f filters on what the rollups do not keep (they are kept per day, team
// and destination; one repository is read from contributions FINAL).
func readsRollups(ctx context.Context, f Filter) bool {
	return f == Filter{From: f.From, To: f.To, Team: f.Team, Upstream: f.Upstream} && ctx.Value(plainKey{}) == nil
}

// rolledMonths returns the months whose rollup is current, read once for a context that shares
// them (ShareRollupMonths).
func rolledMonths(ctx context.Context, q Querier) ([]int64, error) {
	if m, ok := ctx.Value(monthsKey{}).(*sharedMonths); ok {
		return m.get(ctx, q)
	}
	return freshMonths(ctx, q)
}

// freshMonths reads the months whose rollup is current (store.RollupMonthsSQL).
func freshMonths(ctx context.Context, q Querier) ([]int64, error) {
	res, err := q.Query(ctx, store.RollupMonthsSQL, Settings)
	if err != nil {
		return nil, fmt.Errorf("months rolled up: %w", err)
	}
	months, _ := store.RollupMonths(res)
	return months, nil
}

// monthsKey carries the sharedMonths of a context made by ShareRollupMonths.
type monthsKey struct{}

// sharedMonths is the list of months rolled up, read once for every metric of one context.
type sharedMonths struct {
	mu     sync.Mutex
	read   bool
	months []int64
}

// get returns the months rolled up, reading them on the first call; a failed read is tried
// again by the next call.
func (m *sharedMonths) get(ctx context.Context, q Querier) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.read {
		return m.months, nil
	}
	months, err := freshMonths(ctx, q)
	if err != nil {
		return nil, err
	}
	m.months, m.read = months, true
	return months, nil
}

// ShareRollupMonths returns a context in which the metrics read the list of months whose rollup
// is current once, on first use, and all use that list: the statements of one page then read
// the same months from the rollups (and the others from contributions FINAL) and pay for the
// list once. A month the list names is read from its rollup as built for as long as the context
// lives, as a single metric reads it between reading the list and running its statement: use
// one context per page request, so a rebuild or a write that ends meanwhile is seen by the next.
func ShareRollupMonths(ctx context.Context) context.Context {
	if _, ok := ctx.Value(monthsKey{}).(*sharedMonths); ok {
		return ctx
	}
	return context.WithValue(ctx, monthsKey{}, &sharedMonths{})
}

// staleCondition returns the condition on occurred_at of the contributions whose month is not
// among months (YYYYMM, ascending): NOT of the runs of consecutive months as time ranges, which
// ClickHouse prunes partitions by (a NOT IN on the month it does not).
func staleCondition(months []int64) string {
	if len(months) == 0 {
		return "1"
	}
	return "NOT (" + monthRanges(months) + ")"
}

// monthRanges returns the condition on occurred_at that keeps months (YYYYMM, ascending, at
// least one): the runs of consecutive months as time ranges, which ClickHouse prunes partitions
// by.
func monthRanges(months []int64) string {
	var runs []string
	from := monthStart(months[0])
	to := from.AddDate(0, 1, 0)
	for _, m := range months[1:] {
		t := monthStart(m)
		if !t.Equal(to) {
			runs = append(runs, "(occurred_at >= "+ts(from)+" AND occurred_at < "+ts(to)+")")
			from = t
		}
		to = t.AddDate(0, 1, 0)
	}
	runs = append(runs, "(occurred_at >= "+ts(from)+" AND occurred_at < "+ts(to)+")")
	return strings.Join(runs, " OR ")
}

// mergedMonthsSQL lists the months rolled up ({fresh}) with a pull request of the filter merged
// in the period, from prs_rollup (which keeps every pull request of its month by people on the
// roster, with its team, upstream flag and merge).
const mergedMonthsSQL = `SELECT DISTINCT src FROM prs_rollup
WHERE src IN ({fresh}) AND merged = 1 AND merged_at >= {from} AND merged_at < {to}{filter}
ORDER BY src`

// MergedOpened returns a condition on occurred_at that keeps, of contributions, the months in
// which a pull request of f merged in f's period may have been opened: the months rolled up whose
// pull requests in prs_rollup include one, and every month not rolled up. A statement over the
// pull requests merged in a period adds it to read a few partitions instead of the whole
// history. It is "1" (every month) when f is not a filter the rollups hold or ctx asks for the
// plain statements.
func MergedOpened(ctx context.Context, q Querier, f Filter) (string, error) {
	if err := f.Validate(); err != nil {
		return "", err
	}
	if !readsRollups(ctx, f) {
		return "1", nil
	}
	months, err := rolledMonths(ctx, q)
	if err != nil || len(months) == 0 {
		return "1", err
	}
	res, err := q.Query(ctx, f.bindRollup(f.bind(mergedMonthsSQL, 0), months), Settings)
	if err != nil {
		return "", fmt.Errorf("metrics: months of merged pull requests: %w", err)
	}
	var found []int64
	for _, r := range res.Rows {
		found = append(found, store.AsInt(r[0]))
	}
	if len(found) == 0 {
		return staleCondition(months), nil
	}
	return "(" + staleCondition(months) + " OR " + monthRanges(found) + ")", nil
}

// bindRollup fills the rollup statements' own placeholders: {fresh} (the months read from the
// rollups, YYYYMM numbers), {stale} (the condition on contributions of the other months),
// {from_day} and {to_day} (the period as [from, to) Date literals),
// {rdays} (the period's whole months from rows of grain month, its other days from rows of grain
// day), {rfilter} (the team, as rows of one team or of every team together, and the upstream
// condition), {rteams} (the rows of each team, for a statement grouped by team, and the
// upstream condition), and {answers_fresh} and {answers_stale} (as {fresh} and {stale}, for the
// rows of answers_rollup: see answeredMonths).
func (f Filter) bindRollup(sql string, months []int64) string {
	fresh := freshList(months)
	end := f.end()
	mfrom := time.Date(f.From.Year(), f.From.Month(), 1, 0, 0, 0, 0, time.UTC)
	if mfrom.Before(f.From) {
		mfrom = mfrom.AddDate(0, 1, 0)
	}
	mto := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !mfrom.Before(mto) {
		mfrom, mto = end, end
	}
	days := fmt.Sprintf("((grain = 'month' AND day >= %[3]s AND day < %[4]s) OR (grain = 'day' AND ((day >= %[1]s AND day < %[3]s) OR (day >= %[4]s AND day < %[2]s))))",
		date(f.From), date(end), date(mfrom), date(mto))
	var cond strings.Builder
	if f.Team != "" {
		cond.WriteString(" AND all_teams = 0 AND team = " + store.Quote(f.Team))
	} else {
		cond.WriteString(" AND all_teams = 1")
	}
	var up string
	switch f.Upstream {
	case UpstreamOnly:
		up = " AND is_upstream = 1"
	case UpstreamInternal:
		up = " AND is_upstream = 0"
	}
	cond.WriteString(up)
	answered := answeredMonths(months, f.From)
	return strings.NewReplacer(
		"{fresh}", fresh,
		"{stale}", staleCondition(months),
		"{answers_fresh}", freshList(answered),
		"{answers_stale}", staleCondition(answered),
		"{from_day}", date(f.From),
		"{to_day}", date(end),
		"{rdays}", days,
		"{rfilter}", cond.String(),
		"{rteams}", " AND all_teams = 0 AND team != ''"+up,
	).Replace(sql)
}

// answeredMonths returns the months whose answers_rollup rows a statement for a period starting
// at from may read: the rolled-up months from from's month on, up to the first month that is not
// rolled up. A month's rows hold the answers to the pull requests opened up to it as they were
// when it was built (store.RefreshRollups), so they miss those of a pull request written since
// to a month before it that is not rebuilt yet; answers to the period's pull requests come from
// its months on, so a stale month before the period does not matter. A month without data counts
// as not rolled up: the months after it are read from contributions FINAL, which is exact.
func answeredMonths(months []int64, from time.Time) []int64 {
	var out []int64
	want := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	for _, m := range months {
		t := monthStart(m)
		if t.Before(want) {
			continue
		}
		if !t.Equal(want) {
			break
		}
		out = append(out, m)
		want = want.AddDate(0, 1, 0)
	}
	return out
}

// monthStart returns the first instant of month m (YYYYMM), in UTC.
func monthStart(m int64) time.Time {
	return time.Date(int(m/100), time.Month(m%100), 1, 0, 0, 0, 0, time.UTC)
}

// freshList renders months (YYYYMM) as the list {fresh} stands for.
func freshList(months []int64) string {
	if len(months) == 0 {
		return "0" // no month is 0: every month is read from contributions FINAL
	}
	list := make([]string, len(months))
	for i, m := range months {
		list[i] = strconv.FormatInt(m, 10)
	}
	return strings.Join(list, ", ")
}

func date(t time.Time) string { return "toDate(" + store.Quote(day(t)) + ")" }
