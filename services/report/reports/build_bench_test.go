package reports_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"giveback.dev/platform/deps"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report/reports"
)

// benchRows fills the store with n contributions over the two years to end, made in SQL: 1,000
// employees in 25 teams, 60% of their work upstream to 5,000 repositories of which 300 are
// dependencies, the rest to their own, forked, internal and open source repositories, a fifth of
// the rows a newer version of a pull request; plus 300 dependencies and a month of project
// totals for each.
func benchRows(tb testing.TB, st *store.Store, n int, end time.Time) {
	tb.Helper()
	ctx := context.Background()
	var ds []deps.Dependency
	for i := range 300 {
		ds = append(ds, deps.Dependency{Repo: fmt.Sprintf("org%d/repo%d", i%1500, i), Criticality: 1 + i%9})
	}
	if err := st.ReplaceDependencies(ctx, "bench", 1, ds, nil); err != nil {
		tb.Fatal(err)
	}
	endLit := end.UTC().Format(time.DateTime)
	const chunk = 1_000_000
	for off := 0; off < n; off += chunk {
		q := fmt.Sprintf(`INSERT INTO contributions (id, kind, occurred_at, actor_login, employee_id, team, destination, repo, repo_owner,
    is_upstream, is_dependency, dependency_criticality, number, title, url, state, merged, merged_at, closed_at, first_response_at,
    additions, deletions, changed_files, source, version)
SELECT concat('b:', toString(number)),
    ['pull_request','pull_request','review','issue','comment','commit','commit','release'][1 + cityHash64(number, 1) %% 8] AS k,
    toDateTime64('%[1]s', 3, 'UTC') - toIntervalSecond(cityHash64(number, 2) %% (730 * 86400)) AS at,
    concat('user', toString(cityHash64(number, 3) %% 1000)) AS actor,
    concat('e', toString(cityHash64(number, 3) %% 1000)),
    concat('team', toString(cityHash64(number, 3) %% 25)),
    multiIf(cityHash64(number, 7) %% 100 < 60, 'upstream', cityHash64(number, 7) %% 100 < 75, 'personal',
        cityHash64(number, 7) %% 100 < 85, 'fork', cityHash64(number, 7) %% 100 < 95, 'internal', 'company_oss') AS dest,
    multiIf(dest = 'upstream', concat('org', toString(cityHash64(number, 4) %% 5000 %% 1500), '/repo', toString(cityHash64(number, 4) %% 5000)),
        dest = 'personal', concat(actor, '/proj'), dest = 'fork', concat(actor, '/repo', toString(cityHash64(number, 4) %% 5000)),
        dest = 'internal', 'acme/svc', 'acme-oss/lib') AS r,
    splitByChar('/', r)[1], dest = 'upstream', dest = 'upstream' AND cityHash64(number, 4) %% 5000 < 300,
    if(dest = 'upstream' AND cityHash64(number, 4) %% 5000 < 300, 1 + cityHash64(number, 4) %% 5000 %% 9, 0),
    toUInt32(number %% 100000), concat('change ', toString(number)), concat('https://github.com/', r, '/pull/', toString(number %% 100000)),
    if(cityHash64(number, 6) %% 4 = 0, 'open', 'closed'), k = 'pull_request' AND cityHash64(number, 6) %% 4 IN (1, 2),
    if(k = 'pull_request' AND cityHash64(number, 6) %% 4 IN (1, 2), at + toIntervalHour(30 + cityHash64(number, 8) %% 200), NULL),
    if(cityHash64(number, 6) %% 4 != 0, at + toIntervalHour(30 + cityHash64(number, 8) %% 200), NULL),
    if(k = 'pull_request', at + toIntervalHour(1 + cityHash64(number, 9) %% 72), NULL),
    toUInt32(cityHash64(number, 10) %% 400), toUInt32(cityHash64(number, 11) %% 100), toUInt32(1 + cityHash64(number, 12) %% 10),
    'gharchive', if(number %% 5 = 0, 2, 1)
FROM numbers(%[2]d, %[3]d)`, endLit, off, min(chunk, n-off))
		if err := st.Conn().Exec(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
	// The older state of every fifth row, as enrich stores a pull request that changed.
	if err := st.Conn().Exec(ctx, "INSERT INTO contributions SELECT * REPLACE (1 AS version, 'open' AS state, 0 AS merged) FROM contributions WHERE version = 2"); err != nil {
		tb.Fatal(err)
	}
	q := fmt.Sprintf(`INSERT INTO project_activity (day, repo, actor, type, events, hour_id)
SELECT toDate('%[1]s') - (number %% 180), concat('org', toString(number %% 300 %% 1500), '/repo', toString(number %% 300)),
    concat('a', toString(cityHash64(number) %% 40)), 'PushEvent', 1 + number %% 7, 'h'
FROM numbers(300 * 180 * 4)`, endLit)
	if err := st.Conn().Exec(ctx, q); err != nil {
		tb.Fatal(err)
	}
	// The rollups, as the report service keeps them current.
	if _, err := st.RefreshRollups(ctx); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkMonthlyReport builds one monthly report with every section (the statements, then
// HTML, web page, text, Markdown, CSV, six PNG and SVG charts and PDF in A4 and Letter) over
// GIVEBACK_BENCH_ROWS contributions (default 1,000,000), and reports the median and p95 of the
// whole, of the rendering alone, and the processor time of the whole:
//
//	CHDB_LIB_PATH=… GIVEBACK_BENCH_ROWS=1000000 go test -tags chdb -run '^$' \
//	    -bench BenchmarkMonthlyReport -benchtime 10x ./reports
func BenchmarkMonthlyReport(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("GIVEBACK_BENCH_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("GIVEBACK_BENCH_ROWS=%q is not a positive number", v)
		}
	}
	st := testkit.Store(b)
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	began := time.Now()
	benchRows(b, st, n, end)
	b.Logf("%d rows stored in %s", n, time.Since(began).Round(time.Millisecond))
	ctx := context.Background()
	def := definition()
	def.People = true
	p := period("2026-10-01", "2026-11-01")
	// Each statement's time, of the last report built: where a report's time goes. The
	// statements are made to run one at a time here, so each time is its own.
	var took []timedStatement
	var mu sync.Mutex
	timed := st.ReadThrough(func(ctx context.Context, q string, _ store.Settings, next func(context.Context) (*store.Result, error)) (*store.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		t0 := time.Now()
		res, err := next(ctx)
		took = append(took, timedStatement{q: q, took: time.Since(t0)})
		return res, err
	})
	// As stored (several parts in each month: FINAL merges them as it reads), then compacted as
	// enrich keeps the table (store.Compact, every few minutes after a write), the state a
	// scheduled report finds its past period in.
	build := func(b *testing.B) {
		var total, render, cpuTotal []time.Duration
		for b.Loop() {
			took = took[:0]
			t0, c0 := time.Now(), cpuTime()
			nums, err := reports.Compute(ctx, timed, def, p, end, reports.Options{})
			if err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			rep, err := reports.Render(nums)
			if err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			total, render, cpuTotal = append(total, t2.Sub(t0)), append(render, t2.Sub(t1)), append(cpuTotal, cpuTime()-c0)
			if rep.Empty || len(rep.PDF) == 0 || len(rep.Images) != 6 {
				b.Fatalf("an incomplete report: empty %v, %d PDF bytes, %d images", rep.Empty, len(rep.PDF), len(rep.Images))
			}
		}
		slices.SortFunc(took, func(a, b timedStatement) int { return cmp.Compare(b.took, a.took) })
		var sum time.Duration
		for _, t := range took {
			sum += t.took
		}
		b.Logf("the last report's %d statements took %s together; the slowest:", len(took), sum.Round(time.Millisecond))
		for _, t := range took[:min(len(took), 10)] {
			b.Logf("  %8.1f ms  %.150s", float64(t.took.Microseconds())/1000, strings.Join(strings.Fields(t.q), " "))
		}
		b.ReportMetric(pct(total, 50), "p50-ms")
		b.ReportMetric(pct(total, 95), "p95-ms")
		b.ReportMetric(pct(render, 50), "render-p50-ms")
		b.ReportMetric(pct(render, 95), "render-p95-ms")
		b.ReportMetric(pct(cpuTotal, 50), "cpu-p50-ms")
	}
	b.Run("as-stored", build)
	if _, err := st.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("compacted", build)
}

// cpuTime is the processor time of the process so far, chDB's threads included: on a shared
// machine it says what a report costs better than the time it takes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pct(ds []time.Duration, p int) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return float64(s[i].Microseconds()) / 1000
}

// timedStatement is one statement of a report and the time it took.
type timedStatement struct {
	q    string
	took time.Duration
}
