package report_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
	"giveback.dev/services/report/query"
)

// BenchmarkDashboardDuringAdHoc measures the dashboard page on GIVEBACK_BENCH_ROWS generated
// contributions (default 200,000) while nothing else runs ("idle") and while a heavy ad hoc
// query (a cross join that only query.max_time ends, GIVEBACK_BENCH_ADHOC_TIME, default 2s)
// runs back to back ("busy"), reporting p50 and p95 of each and the ratio of the p95s:
//
//	CHDB_LIB_PATH=… go test -tags chdb -run '^$' -bench BenchmarkDashboardDuringAdHoc -benchtime 20x .
func BenchmarkDashboardDuringAdHoc(b *testing.B) {
	n := 200_000
	if v := os.Getenv("GIVEBACK_BENCH_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("GIVEBACK_BENCH_ROWS=%q is not a positive number", v)
		}
	}
	budget := 2 * time.Second
	if v := os.Getenv("GIVEBACK_BENCH_ADHOC_TIME"); v != "" {
		var err error
		if budget, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	st := testkit.Store(b)
	ctx := context.Background()
	all, updates := generate(n, 1)
	for _, set := range [][]events.Contribution{all, updates} {
		for i := 0; i < len(set); i += 50_000 {
			if err := st.InsertContributions(ctx, set[i:min(i+50_000, len(set))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	srv := newServer(b, report.Options{Store: st, Company: "Bench", Query: config.Query{MaxTime: config.Duration(budget)}}).Handler()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	page := func() time.Duration {
		t0 := time.Now()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?from=2025-01-01&to=2025-12-31", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("dashboard: status %d", rec.Code)
		}
		return time.Since(t0)
	}
	pct := func(lat []time.Duration, p float64) float64 {
		slices.Sort(lat)
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	heavy := "SELECT count() FROM contributions AS a, contributions AS b WHERE cityHash64(a.id, b.id) % 7 = 1"
	// The heavy query runs back to back while on is set; running is held around each run, so
	// an idle sample waits for the one in flight to end. Idle and busy samples alternate, so a
	// drift in the machine's load affects both alike.
	var on atomic.Bool
	var running sync.Mutex
	stop := make(chan struct{})
	var adhocs, timedOut atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if !on.Load() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			running.Lock()
			resp, err := http.Post(ts.URL+"/api/v1/query", "application/sql", strings.NewReader(heavy))
			if err == nil {
				resp.Body.Close()
				adhocs.Add(1)
				if resp.StatusCode == http.StatusBadRequest {
					timedOut.Add(1)
				}
			}
			running.Unlock()
		}
	}()
	page() // warm up
	runs := max(b.N, 5)
	var idle, busy []time.Duration
	for range runs {
		on.Store(false)
		// Taking the lock waits for a heavy query still running to end.
		running.Lock()
		//lint:ignore SA2001 the lock is taken only to wait for its holder
		running.Unlock()
		idle = append(idle, page())
		on.Store(true)
		time.Sleep(300 * time.Millisecond) // the heavy query holds the engine
		busy = append(busy, page())
	}
	on.Store(false)
	close(stop)
	wg.Wait()
	idle95, busy95 := pct(idle, 0.95), pct(busy, 0.95)
	b.ReportMetric(pct(idle, 0.50), "idle-p50-ms")
	b.ReportMetric(idle95, "idle-p95-ms")
	b.ReportMetric(pct(busy, 0.50), "busy-p50-ms")
	b.ReportMetric(busy95, "busy-p95-ms")
	b.ReportMetric(busy95/idle95, "p95-ratio")
	b.Logf("%d rows, ad hoc budget %s: %d heavy ad hoc queries ran (%d ended by max_execution_time)", n, budget, adhocs.Load(), timedOut.Load())
}

// BenchmarkGuard measures query.Check on a typical analyst statement.
func BenchmarkGuard(b *testing.B) {
	sql := "SELECT team, kind, count() AS n, uniqExact(actor_login) AS people -- per team\nFROM contributions FINAL WHERE occurred_at >= '2025-01-01' AND repo NOT LIKE 'acme/%' GROUP BY team, kind ORDER BY n DESC LIMIT 50"
	for b.Loop() {
		if _, err := query.Check(sql); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdmit measures what admitting a statement costs on chDB beyond running it: the
// guard, formatQuery, the guard again and EXPLAIN AST with its walk.
func BenchmarkAdmit(b *testing.B) {
	st := testkit.Store(b)
	ctx := context.Background()
	sql := "SELECT team, kind, count() AS n, uniqExact(actor_login) AS people -- per team\nFROM contributions FINAL WHERE occurred_at >= '2025-01-01' AND repo NOT LIKE 'acme/%' GROUP BY team, kind ORDER BY n DESC LIMIT 50"
	lat := make([]time.Duration, 0, 1024)
	for b.Loop() {
		t0 := time.Now()
		if _, err := st.Canonical(ctx, sql, query.Check); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
