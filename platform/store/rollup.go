package store

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
)

// Pre-aggregation of contributions for the dashboard's metrics (migrations 0011, 0013 to 0018 and
// 0020 to 0025), and the write generation that tells a reader's cache its answers may be out of
// date.

// writeCounter is a Conn that counts the statements that may change data.
type writeCounter struct {
	Conn
	gen atomic.Uint64
}

// Exec runs the statement, then counts it: a reader that saw the count before the statement
// ended sees another one after.
func (w *writeCounter) Exec(ctx context.Context, query string) error {
	err := w.Conn.Exec(ctx, query)
	w.gen.Add(1)
	return err
}

// queryRows streams a result, as the driver does (ad hoc statements only read).
func (w *writeCounter) queryRows(ctx context.Context, q string, s Settings, rw RowWriter) error {
	rs, ok := w.Conn.(rowStreamer)
	if !ok {
		return fmt.Errorf("store: driver %s cannot run ad hoc statements", w.Conn.Driver())
	}
	return rs.queryRows(ctx, q, s, rw)
}

// database names the connection's database, as the driver does; "" when it cannot tell.
func (w *writeCounter) database() string {
	if rs, ok := w.Conn.(rowStreamer); ok {
		return rs.database()
	}
	return ""
}

// countWrites wraps c so that its writes are counted, once.
func countWrites(c Conn) Conn {
	if _, ok := c.(*writeCounter); ok || c == nil {
		return c
	}
	return &writeCounter{Conn: c}
}

// Generation returns how many statements that may change data (inserts, mutations, DDL) this
// store's connection has run. It changes after every write made through the connection, by
// any Store sharing it, so an answer computed while the generation had a value is current for
// as long as the generation keeps it. Writes made by other processes do not count.
func (s *Store) Generation() uint64 {
	c := s.conn
	if r, ok := c.(*readThrough); ok {
		c = r.Conn
	}
	if w, ok := c.(*writeCounter); ok {
		return w.gen.Load()
	}
	return 0
}

// RollupMonthsSQL returns every month partition of contributions (toYYYYMM, UInt32, one a row,
// ascending) and whether its rollup rows were rebuilt from exactly the parts it holds now
// (fresh, 1 or 0): the fresh months are those a metric may read from contributions_rollup,
// decisions_rollup, newcomers_rollup, repos_rollup, prs_rollup, answers_rollup, merges_rollup,
// people_rollup, logins_rollup, community_rollup, merge_days_rollup and team_repos_rollup
// instead of contributions FINAL; the others it reads from contributions FINAL. A month without
// a partition holds no contribution.
const RollupMonthsSQL = `SELECT p.src AS src, s.src = p.src AS fresh
FROM (` + partsSQL + `) AS p
LEFT JOIN (SELECT src, argMax(max_block, built_at) AS b, argMax(data_version, built_at) AS v FROM rollup_state GROUP BY src) AS s
    ON s.src = p.src AND s.b = p.b AND s.v = p.v
ORDER BY src`

// RollupMonths reads a result of RollupMonthsSQL: every month contributions holds (stored) and
// those whose rollup is current (fresh), both YYYYMM and ascending.
func RollupMonths(res *Result) (fresh, stored []int64) {
	for _, r := range res.Rows {
		m := AsInt(r[0])
		stored = append(stored, m)
		if AsInt(r[1]) == 1 {
			fresh = append(fresh, m)
		}
	}
	return fresh, stored
}

// partsSQL is, for each month partition of contributions, the highest block number and data
// version of its active parts: an insert raises the first, a mutation (an opt-out, a forget)
// the second, and a merge neither.
const partsSQL = `SELECT toUInt32(partition) AS src, toInt64(max(max_block_number)) AS b, toInt64(max(data_version)) AS v
FROM system.parts WHERE database = currentDatabase() AND table = 'contributions' AND active
GROUP BY partition`

// rollupInsert rebuilds the rows of one month of contributions_rollup from contributions FINAL:
// at grain day and month, per team and for every team together, per kind and (kind empty)
// with the distinct employees, repositories and owners. %[1]d is the month (YYYYMM).
const rollupInsert = `INSERT INTO contributions_rollup
SELECT %[1]d AS src, g AS grain, if(g = 'day', toDate(occurred_at), toStartOfMonth(occurred_at)) AS d, a AS all_teams,
    if(a = 1, '', team) AS t, is_upstream, destination, k AS kind, count() AS contributions,
    uniqExactStateIf(CAST(employee_id AS String), k = ''), uniqExactStateIf(repo, k = ''),
    uniqExactStateIf(CAST(repo_owner AS String), k = '')
FROM
(
    SELECT occurred_at, CAST(team AS String) AS team, is_upstream, CAST(destination AS String) AS destination,
        CAST(kind AS String) AS kind, employee_id, repo, repo_owner,
        arrayJoin(['day', 'month']) AS g, arrayJoin([0, 1]) AS a, arrayJoin([CAST(kind AS String), '']) AS k
    FROM contributions FINAL
    WHERE toYYYYMM(occurred_at) = %[1]d AND employee_id != ''
)
GROUP BY g, d, a, t, is_upstream, destination, k
SETTINGS do_not_merge_across_partitions_select_final = 1`

// decisionsInsert rebuilds the rows of one month of decisions_rollup: the pull requests of the
// month (by occurred_at) decided, by the day of the decision (merged_at, else closed_at).
const decisionsInsert = `INSERT INTO decisions_rollup
SELECT %[1]d AS src, toDate(assumeNotNull(decided_at)) AS d, a AS all_teams, if(a = 1, '', team) AS t, is_upstream, destination,
    count() AS closed, countIf(merged = 1) AS merged
FROM
(
    SELECT CAST(team AS String) AS team, is_upstream, CAST(destination AS String) AS destination, merged,
        coalesce(merged_at, closed_at) AS decided_at, arrayJoin([0, 1]) AS a
    FROM contributions FINAL
    WHERE toYYYYMM(occurred_at) = %[1]d AND employee_id != '' AND kind = 'pull_request' AND (state = 'closed' OR merged = 1)
)
WHERE decided_at IS NOT NULL
GROUP BY d, a, t, is_upstream, destination
SETTINGS do_not_merge_across_partitions_select_final = 1`

// newcomersInsert rebuilds the rows of one month of newcomers_rollup: per employee, at grain day
// and month, team and is_upstream, the contributions made and the time of the first of them.
const newcomersInsert = `INSERT INTO newcomers_rollup
SELECT %[1]d AS src, g AS grain, if(g = 'day', toDate(occurred_at), toStartOfMonth(occurred_at)) AS d,
    employee_id, CAST(team AS String) AS t, is_upstream, count() AS contributions, min(occurred_at) AS first_at
FROM
(
    SELECT occurred_at, employee_id, team, is_upstream, arrayJoin(['day', 'month']) AS g
    FROM contributions FINAL
    WHERE toYYYYMM(occurred_at) = %[1]d AND employee_id != ''
)
GROUP BY g, d, employee_id, t, is_upstream
SETTINGS do_not_merge_across_partitions_select_final = 1`

// reposInsert rebuilds the rows of one month of repos_rollup: per repository and owner, at grain
// day and month, per team and for every team together, and is_upstream, the contributions made,
// the distinct employees who made them, the pull requests among them merged (migration 0016),
// the latest of them, the employees who approved or merged (maintainer seats) and the
// dependency flags (migration 0021).
const reposInsert = `INSERT INTO repos_rollup (src, grain, day, all_teams, team, is_upstream, repo, repo_owner, contributions, employees,
    merged_prs, last_at, seats, is_dependency, criticality)
SELECT %[1]d AS src, g AS grain, if(g = 'day', toDate(occurred_at), toStartOfMonth(occurred_at)) AS d, a AS all_teams,
    if(a = 1, '', team) AS t, is_upstream, repo, repo_owner, count() AS contributions, uniqExactState(employee_id),
    countIf(kind = 'pull_request' AND merged = 1) AS merged_prs, max(occurred_at),
    uniqExactStateIf(employee_id, (kind = 'review' AND state = 'approved') OR kind = 'merge'), max(is_dependency), max(dependency_criticality)
FROM
(
    SELECT occurred_at, CAST(team AS String) AS team, is_upstream, repo, CAST(repo_owner AS String) AS repo_owner,
        CAST(employee_id AS String) AS employee_id, kind, state, merged, is_dependency, dependency_criticality,
        arrayJoin(['day', 'month']) AS g, arrayJoin([0, 1]) AS a
    FROM contributions FINAL
    WHERE toYYYYMM(occurred_at) = %[1]d AND employee_id != ''
)
GROUP BY g, d, a, t, is_upstream, repo, repo_owner
SETTINGS do_not_merge_across_partitions_select_final = 1`

// prsInsert rebuilds the rows of one month of prs_rollup: each pull request opened in the month
// by a person on the roster, with the earliest review or comment of the month on its number by
// someone else (bots excluded) at or after its opening, and (migration 0021) its repository as
// spelt, when it was decided and its dependency flags.
const prsInsert = `INSERT INTO prs_rollup (src, opened_at, repo_l, number, employee_id, team, is_upstream, author, rest_first, merged,
    merged_at, lines, files, answer_actor, answer_at, repo, decided_at, is_dependency, criticality)
SELECT %[1]d AS src, opened_at, repo_l, number, employee_id, team, is_upstream, author, rest_first, merged,
    merged_at, lines, files, if(length(own) = 0, '', arraySort(x -> x.2, own)[1].1) AS answer_actor,
    if(length(own) = 0, NULL, toNullable(arrayMin(x -> x.2, own))) AS answer_at, repo, decided_at, is_dependency, criticality
FROM
(
    SELECT p.opened_at AS opened_at, p.repo_l AS repo_l, p.number AS number, p.employee_id AS employee_id, p.team AS team,
        p.is_upstream AS is_upstream, p.author AS author, p.rest_first AS rest_first, p.merged AS merged, p.merged_at AS merged_at,
        p.lines AS lines, p.files AS files, arrayFilter(x -> x.1 != p.author AND x.2 >= p.opened_at, a.answers) AS own,
        p.repo AS repo, p.decided_at AS decided_at, p.is_dependency AS is_dependency, p.criticality AS criticality
    FROM
    (
        SELECT occurred_at AS opened_at, lower(repo) AS repo_l, number, CAST(employee_id AS String) AS employee_id,
            CAST(team AS String) AS team, is_upstream, lower(actor_login) AS author, first_response_at AS rest_first, merged,
            merged_at, additions + deletions AS lines, changed_files AS files, repo,
            if(state = 'closed' OR merged = 1, coalesce(merged_at, closed_at), NULL) AS decided_at,
            is_dependency, dependency_criticality AS criticality
        FROM contributions FINAL
        WHERE toYYYYMM(occurred_at) = %[1]d AND kind = 'pull_request' AND employee_id != ''
    ) AS p
    LEFT JOIN
    (
        SELECT lower(repo) AS repo_l, number, groupArray((lower(actor_login), occurred_at)) AS answers
        FROM contributions FINAL
        WHERE toYYYYMM(occurred_at) = %[1]d AND kind IN ('review', 'comment') AND number > 0 AND NOT endsWith(actor_login, '[bot]')
        GROUP BY repo_l, number
    ) AS a ON p.repo_l = a.repo_l AND p.number = a.number
)
SETTINGS do_not_merge_across_partitions_select_final = 1, join_use_nulls = 0`

// answersInsert rebuilds the rows of one month of answers_rollup: for each repository and number
// reviewed or commented on in the month (bots excluded) that a person on the roster opened a pull
// request on in an earlier month, the earliest answer of each of the two people who answered
// first. The rest answer nothing the responsiveness metric looks for here: a pull request's
// answers of its own month are in its prs_rollup row. Every stored version of the
// pull requests is looked at, not FINAL: a number once opened by someone on the roster keeps its
// answers, which costs a few rows and keeps them when a later version changes the attribution.
// The rows of a month so depend on the pull requests of the months before it: RefreshRollups
// rebuilds every later month with one that changed.
const answersInsert = `INSERT INTO answers_rollup
SELECT %[1]d AS src, repo_l, number, arraySlice(arraySort(x -> x.2, groupArray((actor, first))), 1, 2) AS answers
FROM
(
    SELECT lower(repo) AS repo_l, number, lower(actor_login) AS actor, min(occurred_at) AS first
    FROM contributions FINAL
    WHERE toYYYYMM(occurred_at) = %[1]d AND kind IN ('review', 'comment') AND number > 0 AND NOT endsWith(actor_login, '[bot]')
        AND reinterpretAsUInt128(sipHash128(lower(repo), number)) IN
            (SELECT reinterpretAsUInt128(sipHash128(lower(repo), number)) FROM contributions
             WHERE kind = 'pull_request' AND employee_id != '' AND toYYYYMM(occurred_at) < %[1]d)
    GROUP BY repo_l, number, actor
)
GROUP BY repo_l, number
SETTINGS do_not_merge_across_partitions_select_final = 1`

// mergesInsert rebuilds the rows of one month of merges_rollup: the pull requests of the month
// (by occurred_at) merged, per day of the merge, team and every team together, is_upstream and
// repository.
const mergesInsert = `INSERT INTO merges_rollup
SELECT %[1]d AS src, toDate(assumeNotNull(merged_at)) AS d, a AS all_teams, if(a = 1, '', team) AS t, is_upstream, repo,
    count() AS merged
FROM
(
    SELECT CAST(team AS String) AS team, is_upstream, repo, merged_at, arrayJoin([0, 1]) AS a
    FROM contributions FINAL
    WHERE toYYYYMM(occurred_at) = %[1]d AND employee_id != '' AND kind = 'pull_request' AND merged = 1 AND merged_at IS NOT NULL
)
GROUP BY d, a, t, is_upstream, repo
SETTINGS do_not_merge_across_partitions_select_final = 1`

// peopleInsert rebuilds the rows of one month of people_rollup: per employee, team and
// is_upstream, at grain day and month, the contributions of the month by the day they were
// made, with their distinct repositories, and its pull requests merged by the day of the merge;
// each row with the login of the latest of them and its time.
const peopleInsert = `INSERT INTO people_rollup
SELECT %[1]d AS src, g AS grain, if(g = 'day', d, toStartOfMonth(d)) AS dd, employee_id, team, is_upstream,
    sum(n) AS contributions, sum(m) AS merged, uniqExactStateIf(repo_l, n = 1), argMaxState(login, at), max(at) AS last_at
FROM
(
    SELECT if(k = 'made', toDate(occurred_at), toDate(assumeNotNull(merged_at))) AS d, CAST(employee_id AS String) AS employee_id,
        CAST(team AS String) AS team, is_upstream, toUInt64(k = 'made') AS n, toUInt64(k = 'merged') AS m, lower(repo) AS repo_l,
        CAST(actor_login AS String) AS login, occurred_at AS at, arrayJoin(['day', 'month']) AS g
    FROM contributions FINAL
    ARRAY JOIN if(kind = 'pull_request' AND merged = 1 AND merged_at IS NOT NULL, ['made', 'merged'], ['made']) AS k
    WHERE toYYYYMM(occurred_at) = %[1]d AND employee_id != ''
)
GROUP BY g, dd, employee_id, team, is_upstream
SETTINGS do_not_merge_across_partitions_select_final = 1`

// loginsInsert rebuilds the rows of one month of logins_rollup: each lower-cased login under which
// someone on the roster made a contribution in the month.
const loginsInsert = `INSERT INTO logins_rollup
SELECT DISTINCT %[1]d AS src, lower(actor_login) AS login
FROM contributions FINAL
WHERE toYYYYMM(occurred_at) = %[1]d AND employee_id != '' AND actor_login != ''
SETTINGS do_not_merge_across_partitions_select_final = 1`

// communityInsert rebuilds the rows of one month of community_rollup: per lower-cased login of
// someone outside the roster, at grain day and month, their contributions to the company's public
// repositories and the time of the first of them.
const communityInsert = `INSERT INTO community_rollup
SELECT %[1]d AS src, g AS grain, if(g = 'day', toDate(occurred_at), toStartOfMonth(occurred_at)) AS d, login, count() AS contributions,
    min(occurred_at) AS first_at
FROM
(
    SELECT occurred_at, lower(actor_login) AS login, arrayJoin(['day', 'month']) AS g
    FROM contributions FINAL
    WHERE toYYYYMM(occurred_at) = %[1]d AND destination = 'company_oss' AND employee_id = '' AND actor_login != ''
)
GROUP BY g, d, login
SETTINGS do_not_merge_across_partitions_select_final = 1`

// mergeDaysInsert rebuilds the rows of one month of merge_days_rollup: per lower-cased repository
// and day, the days on which a pull request of the month was merged or a merge or release of the
// month was made, by anyone, with the first time of the day.
const mergeDaysInsert = `INSERT INTO merge_days_rollup
SELECT %[1]d AS src, lower(repo) AS repo_key, toDate(at) AS d, min(at) AS first_at
FROM
(
    SELECT repo, if(kind = 'pull_request', assumeNotNull(merged_at), occurred_at) AS at
    FROM contributions FINAL
    WHERE toYYYYMM(occurred_at) = %[1]d AND ((kind = 'pull_request' AND merged = 1 AND merged_at IS NOT NULL) OR kind IN ('merge', 'release'))
)
GROUP BY repo_key, d
SETTINGS do_not_merge_across_partitions_select_final = 1`

// teamReposInsert rebuilds the rows of one month of team_repos_rollup from those of repos_rollup,
// built just before: the rows of one team, their employees only.
const teamReposInsert = `INSERT INTO team_repos_rollup
SELECT src, grain, day, all_teams, team, is_upstream, repo, repo_owner, employees
FROM repos_rollup
WHERE src = %[1]d AND all_teams = 0`

// rollupTables are the tables RefreshRollups rebuilds, each partitioned by source month.
var rollupTables = []string{"contributions_rollup", "decisions_rollup", "newcomers_rollup", "repos_rollup", "prs_rollup", "answers_rollup",
	"merges_rollup", "people_rollup", "logins_rollup", "community_rollup", "merge_days_rollup", "team_repos_rollup"}

// RefreshRollups rebuilds the rollup rows of every month of contributions whose parts changed
// since its last rebuild (or that was never rebuilt), and of every month after the first of
// them (answers_rollup keeps a month's answers to the pull requests opened up to it, so a change
// in a month can change the rows of every later one), and returns how many months it rebuilt.
// A month is read from the rollups only once its rebuild is recorded with the parts it was read
// from, so a reader never sees a half-built month: the later months, whose parts did not change,
// are first recorded as not built. A write during a rebuild leaves the month to contributions
// FINAL until the next refresh. Months no longer in contributions have their rollup rows
// dropped.
func (s *Store) RefreshRollups(ctx context.Context) (int, error) {
	res, err := s.conn.Query(ctx, `SELECT p.src, p.b, p.v, s.src = 0 OR s.b != p.b OR s.v != p.v AS changed
FROM (`+partsSQL+`) AS p
LEFT JOIN (SELECT src, argMax(max_block, built_at) AS b, argMax(data_version, built_at) AS v FROM rollup_state GROUP BY src) AS s ON s.src = p.src
ORDER BY p.src`, nil)
	if err != nil {
		return 0, fmt.Errorf("store: refresh rollups: list months: %w", err)
	}
	var rebuild [][]any
	for _, r := range res.Rows {
		if len(rebuild) > 0 || AsInt(r[3]) != 0 {
			rebuild = append(rebuild, r)
		}
	}
	if len(rebuild) > 1 {
		var st strings.Builder
		st.WriteString("INSERT INTO rollup_state (src, max_block, data_version) VALUES ")
		for i, r := range rebuild {
			if i > 0 {
				st.WriteString(", ")
			}
			fmt.Fprintf(&st, "(%d, -1, -1)", AsInt(r[0]))
		}
		if err := s.conn.Exec(ctx, st.String()); err != nil {
			return 0, fmt.Errorf("store: refresh rollups: set months aside: %w", err)
		}
	}
	for i, r := range rebuild {
		month, block, version := AsInt(r[0]), AsInt(r[1]), AsInt(r[2])
		if err := s.rebuildMonth(ctx, month, block, version); err != nil {
			return i, err
		}
	}
	gone, err := s.conn.Query(ctx, `SELECT DISTINCT src FROM rollup_state WHERE max_block >= 0 AND src NOT IN (SELECT src FROM (`+partsSQL+`))`, nil)
	if err != nil {
		return len(rebuild), fmt.Errorf("store: refresh rollups: list gone months: %w", err)
	}
	for _, r := range gone.Rows {
		month := AsInt(r[0])
		sts := []string{fmt.Sprintf("INSERT INTO rollup_state (src, max_block, data_version) VALUES (%d, -1, -1)", month)}
		for _, table := range rollupTables {
			sts = append(sts, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", table, month))
		}
		for _, st := range sts {
			if err := s.conn.Exec(ctx, st); err != nil {
				return len(rebuild), fmt.Errorf("store: refresh rollups: drop month %d: %w", month, err)
			}
		}
	}
	return len(rebuild), nil
}

// rebuildMonth replaces the rollup rows of one month, read from contributions FINAL, and records
// the parts (block, version) they were read from, which were read before the rebuild began.
func (s *Store) rebuildMonth(ctx context.Context, month, block, version int64) error {
	var sts []string
	for _, table := range rollupTables {
		sts = append(sts, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", table, month))
	}
	sts = append(sts,
		fmt.Sprintf(rollupInsert, month),
		fmt.Sprintf(decisionsInsert, month),
		fmt.Sprintf(newcomersInsert, month),
		fmt.Sprintf(reposInsert, month),
		fmt.Sprintf(teamReposInsert, month),
		fmt.Sprintf(prsInsert, month),
		fmt.Sprintf(answersInsert, month),
		fmt.Sprintf(mergesInsert, month),
		fmt.Sprintf(peopleInsert, month),
		fmt.Sprintf(loginsInsert, month),
		fmt.Sprintf(communityInsert, month),
		fmt.Sprintf(mergeDaysInsert, month),
		fmt.Sprintf("INSERT INTO rollup_state (src, max_block, data_version) VALUES (%d, %d, %d)", month, block, version),
	)
	for _, st := range sts {
		if err := s.conn.Exec(ctx, st); err != nil {
			return fmt.Errorf("store: rebuild rollups of %d: %w", month, err)
		}
	}
	return nil
}

// ReadFunc answers a read statement for a Store made by ReadThrough: next runs it on the
// connection.
type ReadFunc func(ctx context.Context, q string, settings Settings, next func(context.Context) (*Result, error)) (*Result, error)

// ReadThrough returns a Store on the same connection whose Query goes through read (a reader's
// cache); ad hoc statements and writes go to the connection as before and count in the same
// Generation.
func (s *Store) ReadThrough(read ReadFunc) *Store {
	return &Store{conn: &readThrough{Conn: s.conn, read: read}}
}

// readThrough is the connection of a Store made by ReadThrough.
type readThrough struct {
	Conn
	read ReadFunc
}

func (r *readThrough) Query(ctx context.Context, q string, s Settings) (*Result, error) {
	return r.read(ctx, q, s, func(ctx context.Context) (*Result, error) { return r.Conn.Query(ctx, q, s) })
}

func (r *readThrough) queryRows(ctx context.Context, q string, s Settings, w RowWriter) error {
	rs, ok := r.Conn.(rowStreamer)
	if !ok {
		return fmt.Errorf("store: driver %s cannot run ad hoc statements", r.Conn.Driver())
	}
	return rs.queryRows(ctx, q, s, w)
}

func (r *readThrough) database() string {
	if rs, ok := r.Conn.(rowStreamer); ok {
		return rs.database()
	}
	return ""
}
