package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/store"
	"giveback.dev/services/report"
	"giveback.dev/services/report/metrics"
)

// notPages are the GET routes that are not pages of metrics: the live feed (a stream that does
// not end), the query console and ad hoc SQL, the collection status, saved queries, reports and
// the identities left to resolve (an administrator's work list).
var notPages = []string{"/live", "/api/v1/live", "/query", "/api/v1/query", "/sources", "/api/v1/sources",
	"/api/v1/saved-queries", "/reports", "/identities", "/api/v1/identities/unmatched"}

// pageBudget bounds the time spent timing one page without the cache: a page slower than
// pageBudget/runs is timed fewer times (at least once).
const pageBudget = 30 * time.Second

// pageFilters are the filters the page loads cycle through: the default period for every team,
// upstream only, and two teams.
func pageFilters(now time.Time) []url.Values {
	to := now.UTC().Format(time.DateOnly)
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -11, 0).Format(time.DateOnly)
	return []url.Values{
		{"from": {from}, "to": {to}},
		{"from": {from}, "to": {to}, "upstream": {"1"}},
		{"from": {from}, "to": {to}, "team": {"team3"}},
		{"from": {from}, "to": {to}, "team": {"team7"}, "upstream": {"1"}},
	}
}

// pageURLs returns, for each page of data the server has (a GET route without a path
// parameter), its path with the filter when it takes one, bare when it refuses it; pages that
// answer neither with 200 are left out.
func pageURLs(srv *report.Server, filter url.Values) ([]string, error) {
	h := srv.Handler()
	var out []string
	for _, p := range srv.Routes() {
		method, path, ok := strings.Cut(p, " ")
		path = strings.TrimSuffix(path, "{$}")
		if !ok || method != http.MethodGet || strings.ContainsAny(path, "{.") || slices.Contains(notPages, path) {
			continue
		}
		for _, u := range []string{path + "?" + filter.Encode(), path} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, u, nil))
			cancel()
			if rec.Code == http.StatusOK {
				out = append(out, u)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no page answered 200")
	}
	return out, nil
}

// pages measures the report service on the filled store: the data of each page (one request,
// every statement of the page) without the result cache and with it, then clients concurrent
// clients over a loopback HTTP server for loadFor, on the dashboard alone and on every page,
// without the cache and with it.
func (b *bench) pages(ctx context.Context, runs, clients int, loadFor time.Duration) error {
	now := time.Now()
	filters := pageFilters(now)
	cold, err := report.New(report.Options{Store: b.store, Company: "Bench", CacheEntries: -1})
	if err != nil {
		return err
	}
	warm, err := report.New(report.Options{Store: b.store, Company: "Bench"})
	if err != nil {
		return err
	}
	urls, err := pageURLs(cold, filters[0])
	if err != nil {
		return err
	}
	if err := b.rolledUp(ctx); err != nil {
		return err
	}
	if err := b.statements(ctx, filters[0]); err != nil {
		return err
	}
	b.printf("\npages (each request is the whole page: all its statements), %d runs each, p50 / p95 ms;\n", runs)
	b.printf("  CPU: the processor time of the request without the cache, p50 ms, and that over the %d cores:\n", runtime.NumCPU())
	b.printf("  the least time the page's work can take here, however its statements are arranged\n")
	b.printf("  %-45s %19s %19s %19s\n", "page", "no cache", "CPU  / cores", "cache")
	var allCold, allWarm []time.Duration
	for _, u := range urls {
		c, err := timeRequests(ctx, cold.Handler(), u, runs, pageBudget)
		if err != nil {
			return err
		}
		w, err := timeRequests(ctx, warm.Handler(), u, runs, pageBudget)
		if err != nil {
			return err
		}
		allCold, allWarm = append(allCold, c.wall...), append(allWarm, w.wall...)
		cpu := pct(c.cpu, 50)
		b.printf("  %-45s %8.1f / %8.1f %8.1f / %8.1f %8.1f / %8.1f%s\n", strings.SplitN(u, "?", 2)[0], ms(pct(c.wall, 50)), ms(pct(c.wall, 95)),
			ms(cpu), ms(cpu)/float64(runtime.NumCPU()), ms(pct(w.wall, 50)), ms(pct(w.wall, 95)), fewer(len(c.wall), runs))
	}
	b.printf("  %-45s %8.1f / %8.1f %19s %8.1f / %8.1f\n", "every page", ms(pct(allCold, 50)), ms(pct(allCold, 95)), "", ms(pct(allWarm, 50)), ms(pct(allWarm, 95)))
	if err := b.rolledUp(ctx); err != nil {
		return err
	}

	// Each page with each filter it takes (a page that refuses a filter's team or upstream is
	// served bare), found through the cached server: the first visitors' pages.
	var dashboard, every []string
	for _, f := range filters {
		dashboard = append(dashboard, "/?"+f.Encode())
		fu, err := pageURLs(warm, f)
		if err != nil {
			return err
		}
		every = append(every, fu...)
	}
	b.printf("\npage loads, %d clients for %s over loopback HTTP, %d filters\n", clients, loadFor, len(filters))
	// With the cache first: without it, pages still running at the end of a load finish during
	// the next one.
	for _, s := range []struct {
		name string
		srv  *report.Server
	}{{"cache", warm}, {"no cache", cold}} {
		for _, l := range []struct {
			name string
			urls []string
		}{{"dashboard", dashboard}, {"every page", every}} {
			if s.srv == warm {
				// Warm: every page and filter once, as the first visitors would.
				for _, u := range l.urls {
					if _, err := timeRequests(ctx, warm.Handler(), u, 0, 0); err != nil {
						return err
					}
				}
			}
			stop := func() error { return nil }
			if s.srv == warm && l.name == "dashboard" && b.pageProfile != "" {
				if stop, err = startProfile(b.pageProfile); err != nil {
					return err
				}
			}
			st, err := load(ctx, s.srv.Handler(), l.urls, clients, loadFor)
			if err := errors.Join(err, stop()); err != nil {
				return err
			}
			b.printf("  %-11s %-9s %7.1f pages/s   p50 %7.1f ms   p95 %7.1f ms   p99 %7.1f ms   (%d pages, %d errors)\n",
				l.name, s.name, st.rate, ms(st.p50), ms(st.p95), ms(st.p99), st.n, st.errors)
		}
	}
	if err := b.pagesWhileDataArrives(ctx, dashboard, clients, loadFor); err != nil {
		return err
	}
	return b.prewarmPass(ctx)
}

// rolledUp prints how many of the months stored have their rollups current
// (store.RollupMonthsSQL): the pages read the others from contributions FINAL, which at 10M rows
// costs them far more than the rollups, so a figure is only comparable with another taken with
// the same months rolled up.
func (b *bench) rolledUp(ctx context.Context) error {
	res, err := b.store.Query(ctx, store.RollupMonthsSQL, nil)
	if err != nil {
		return fmt.Errorf("bench: months rolled up: %w", err)
	}
	fresh, stored := store.RollupMonths(res)
	var stale []string
	for _, m := range stored {
		if !slices.Contains(fresh, m) {
			stale = append(stale, strconv.FormatInt(m, 10))
		}
	}
	b.printf("\nmonths rolled up: %d of the %d stored", len(fresh), len(stored))
	if len(stale) > 0 {
		b.printf(" (not: %s)", strings.Join(stale, ", "))
	}
	b.printf("\n")
	return nil
}

// prewarmPass times one pass of prewarming (Server.PrewarmPass: the main pages and every team's
// page, computed ahead of their viewers, as the report service does once new data is quiet), then
// the first view of each team's page after it, against the first view of one without it.
func (b *bench) prewarmPass(ctx context.Context) error {
	teams, err := metrics.GetTeams(ctx, b.store)
	if err != nil {
		return err
	}
	if len(teams) == 0 {
		return nil
	}
	first := func(srv *report.Server, team string) (time.Duration, error) {
		u := "/teams/" + url.PathEscape(team)
		t0 := time.Now()
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, u, nil))
		if rec.Code != http.StatusOK {
			return 0, fmt.Errorf("bench: %s: status %d: %.200s", u, rec.Code, rec.Body)
		}
		return time.Since(t0), nil
	}
	cold, err := report.New(report.Options{Store: b.store, Company: "Bench"})
	if err != nil {
		return err
	}
	unwarmed, err := first(cold, teams[0].Team)
	cold.Close()
	if err != nil {
		return err
	}
	srv, err := report.New(report.Options{Store: b.store, Company: "Bench"})
	if err != nil {
		return err
	}
	defer srv.Close()
	t0 := time.Now()
	n, complete := srv.PrewarmPass(ctx)
	took := time.Since(t0)
	var lat []time.Duration
	for _, t := range teams {
		d, err := first(srv, t.Team)
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	b.printf("\nprewarming: one pass computed %d pages (the 4 main pages and %d teams' pages) in %s (complete: %v)\n", n, len(teams), took.Round(time.Millisecond), complete)
	b.printf("  the first view of a team's page: %.1f ms unwarmed; after the pass p50 %.2f ms, max %.2f ms (%d teams)\n",
		ms(unwarmed), ms(lat[len(lat)/2]), ms(lat[len(lat)-1]), len(lat))
	return nil
}

// changesPerSecond is how often the data changes in the loads while data arrives: enrich
// announces every contribution it stores, so under a steady stream the stamp of the caches moves
// this often or more.
const changesPerSecond = 10

// pagesWhileDataArrives loads the dashboard as the cached load above does, while the data is
// announced as changed changesPerSecond times a second (Server.StoreChanged, as enrich announces
// what it stores): once with pages rendered again after every change, once with pages from older
// data served for up to the configured page staleness.
func (b *bench) pagesWhileDataArrives(ctx context.Context, urls []string, clients int, loadFor time.Duration) error {
	staleness := config.Default().HTTP.PageStaleness.D()
	b.printf("\ndashboard loads while the data changes %d times a second, %d clients for %s\n", changesPerSecond, clients, loadFor)
	for _, stale := range []time.Duration{0, staleness} {
		srv, err := report.New(report.Options{Store: b.store, Company: "Bench", PageStaleness: stale})
		if err != nil {
			return err
		}
		for _, u := range urls {
			if _, err := timeRequests(ctx, srv.Handler(), u, 0, 0); err != nil {
				srv.Close()
				return err
			}
		}
		lctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(time.Second / changesPerSecond)
			defer t.Stop()
			for {
				select {
				case <-lctx.Done():
					return
				case <-t.C:
					srv.StoreChanged()
				}
			}
		})
		st, err := load(ctx, srv.Handler(), urls, clients, loadFor)
		stop()
		wg.Wait()
		srv.Close()
		if err != nil {
			return err
		}
		b.printf("  page staleness %-5s %7.1f pages/s   p50 %7.1f ms   p95 %7.1f ms   p99 %7.1f ms   (%d pages, %d errors)\n",
			stale, st.rate, ms(st.p50), ms(st.p95), ms(st.p99), st.n, st.errors)
	}
	return nil
}

// fewer notes a page timed fewer times than asked.
func fewer(n, runs int) string {
	if n < runs {
		return fmt.Sprintf("   (no cache: %d runs)", n)
	}
	return ""
}

// timings are the requests of one page timed one after the other: how long each took, and the
// processor time the process spent meanwhile.
type timings struct{ wall, cpu []time.Duration }

// timeRequests serves u runs times, one after the other, after one request to warm up; it stops
// after one run once budget is spent.
func timeRequests(ctx context.Context, h http.Handler, u string, runs int, budget time.Duration) (timings, error) {
	var t timings
	start := time.Now()
	for i := -1; i < runs && (i < 1 || time.Since(start) < budget); i++ {
		t0, c0 := time.Now(), cpuTime()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, u, nil))
		if rec.Code != http.StatusOK {
			return timings{}, fmt.Errorf("bench: %s: status %d: %.200s", u, rec.Code, rec.Body)
		}
		if i >= 0 {
			t.wall, t.cpu = append(t.wall, time.Since(t0)), append(t.cpu, cpuTime()-c0)
		}
	}
	return t, nil
}

// cpuTime is the processor time the process has spent so far, user and system, the embedded
// engine's threads included. Measured around a request served alone, it is the work of that
// request (and of whatever ClickHouse does in the background meanwhile, little on settled data):
// on n cores the request cannot take less than a nth of it, however its statements are arranged.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadStats is the outcome of one load run.
type loadStats struct {
	n, errors     int
	rate          float64 // pages per second
	p50, p95, p99 time.Duration
}

// load runs clients concurrent clients, each requesting the next of urls in turn from a
// loopback HTTP server with h, for d, and returns the pages served in that time per second and
// their latencies; requests still running at the end are cancelled and not counted.
func load(ctx context.Context, h http.Handler, urls []string, clients int, d time.Duration) (loadStats, error) {
	srv := httptest.NewServer(h)
	// Handlers still running at the end (pages without the cache, queued for the engine) are
	// waited for, so that the next measurement starts on an idle engine: their clients are gone,
	// and a page whose request has ended starts no further statement.
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer scancel()
		_ = srv.Config.Shutdown(sctx)
		srv.Close()
	}()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for ctx.Err() == nil {
				u := srv.URL + urls[int(next.Add(1)-1)%len(urls)]
				t0 := time.Now()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				if err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	took := min(time.Since(start), d)
	if len(lat) == 0 {
		// Pages slower than d (without the cache, on a loaded machine): none served, 0 pages/s.
		return loadStats{errors: int(errs.Load())}, nil
	}
	return loadStats{n: len(lat), errors: int(errs.Load()), rate: float64(len(lat)) / took.Seconds(),
		p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99)}, nil
}

// pct returns the p-th percentile of lat (sorted in place), by the nearest-rank method.
func pct(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[(len(lat)*p+99)/100-1]
}

// startProfile writes a CPU profile to path until the returned function is called.
func startProfile(path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
