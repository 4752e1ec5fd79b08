package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/ops"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/services/enrich"
	"giveback.dev/services/ingest/demo"
	"giveback.dev/services/ingest/gharchive"
	"giveback.dev/services/report/metrics"
)

// cmdBench measures the embedded stack on generated data and prints the figures kept in
// docs/BENCHMARKS.md: ingest publish, enrich + store and end-to-end events/s, then p50/p95 of
// each headline query at each size of the contributions table.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [--events N] [--rows 1000000,10000000] [--runs 20] [--dir DIR]", stderr)
	nEvents := fs.Int("events", 1_000_000, "generated GH Archive events pushed through the pipeline")
	rowsFlag := fs.String("rows", "1000000,10000000", "sizes of the contributions table the headline queries are timed at (comma-separated; empty skips)")
	runs := fs.Int("runs", 20, "runs of each headline query per size")
	dir := fs.String("dir", "", "working directory (default a temporary one, removed afterwards)")
	logLevel := fs.String("log-level", "warn", "log level")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the throughput runs to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var sizes []int
	for _, s := range strings.Split(*rowsFlag, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("--rows: %q is not a positive number", s)
		}
		sizes = append(sizes, n)
	}
	sort.Ints(sizes)
	log, err := ops.Logger("text", *logLevel)
	if err != nil {
		return err
	}
	work := *dir
	if work == "" {
		if work, err = os.MkdirTemp("", "giveback-bench-"); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(work)
	}
	b := &bench{out: stdout, log: log, work: work, cpuProfile: *cpuProfile}
	defer b.close()
	return b.run(ctx, *nEvents, sizes, *runs)
}

type bench struct {
	out  io.Writer
	log  *slog.Logger
	work string

	cpuProfile string

	store *store.Store
	close func()
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

func (b *bench) run(ctx context.Context, nEvents int, sizes []int, runs int) error {
	b.close = func() {}
	b.printf("giveback bench: %d generated events; headline queries at %v contributions, %d runs each\n", nEvents, sizes, runs)

	// Generated GH Archive hours, two sets (the second with other ids) for the two throughput runs.
	gen := func(name string, seed int64) (string, []time.Time, *demo.Generator, error) {
		d := filepath.Join(b.work, name)
		if err := os.MkdirAll(d, 0o750); err != nil {
			return "", nil, nil, err
		}
		// Ten days of activity, so each hour file holds thousands of events, as GH Archive's do.
		to := time.Now().UTC().Truncate(time.Hour).AddDate(0, 0, -10*int(seed-1))
		g := demo.NewGenerator(demo.Options{Seed: seed, From: to.AddDate(0, 0, -10), To: to, EventsPerDay: nEvents / 10, IDBase: seed * 10_000_000_000})
		start := time.Now()
		files, n, err := g.WriteHours(d)
		if err != nil {
			return "", nil, nil, err
		}
		b.printf("generated %d events in %d hour files in %s\n", n, files, time.Since(start).Round(time.Millisecond))
		hours, err := hoursIn(d)
		return d, hours, g, err
	}
	dirA, hoursA, g, err := gen("a", 1)
	if err != nil {
		return fmt.Errorf("bench: generate: %w", err)
	}
	dirB, hoursB, _, err := gen("b", 2)
	if err != nil {
		return fmt.Errorf("bench: generate: %w", err)
	}

	srv, err := bus.StartEmbedded(filepath.Join(b.work, "nats"), "127.0.0.1:0")
	if err != nil {
		return err
	}
	nc, js, err := bus.Connect(srv.URL(), "bench", bus.Credentials{})
	if err != nil {
		srv.Shutdown()
		return err
	}
	conn, err := store.Open(ctx, store.Options{DSN: "chdb://" + filepath.Join(b.work, "clickhouse"), Database: "giveback"})
	if err != nil {
		nc.Close()
		srv.Shutdown()
		return err
	}
	b.store = store.New(conn)
	b.close = func() {
		for _, step := range []struct {
			name string
			fn   func()
		}{
			// chDB is not closed: after the heavy inserts of a run, closing the session waits for
			// its background merges for minutes (and chDB 26.5 crashed at the end of that wait
			// here); the process exits instead and the working directory is removed.
			{"close NATS connection", nc.Close},
			{"stop NATS", srv.Shutdown},
		} {
			start := time.Now()
			step.fn()
			if d := time.Since(start); d > time.Second {
				b.printf("%s took %s\n", step.name, d.Round(time.Millisecond))
			}
		}
	}
	if err := b.store.Migrate(ctx, nil); err != nil {
		return err
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		return err
	}
	var rbuf strings.Builder
	if err := g.RosterCSV(&rbuf); err != nil {
		return err
	}
	ro, err := roster.Parse(strings.NewReader(rbuf.String()))
	if err != nil {
		return err
	}
	co := g.Company()
	company := config.Company{Name: co.Name, GitHubOrgs: co.Orgs, EmailDomains: co.EmailDomains}

	if b.cpuProfile != "" {
		f, err := os.Create(b.cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}

	// 1. Ingest alone: read, gunzip, split and publish into JetStream.
	published, took, err := b.ingest(ctx, js, dirA, hoursA)
	if err != nil {
		return err
	}
	b.printf("ingest publish:   %9d events in %8s = %8.0f events/s\n", published, took.Round(time.Millisecond), float64(published)/took.Seconds())

	// 2. Enrich alone, draining that backlog: decode, map, attribute, insert, publish enriched.
	svc := enrich.New(b.store, js, company, ro, nil, b.log)
	ectx, stopEnrich := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- svc.Run(ectx) }()
	if err := waitDrained(ctx, js, published); err != nil {
		stopEnrich()
		return err
	}
	took = time.Since(start)
	b.printf("enrich + store:   %9d events in %8s = %8.0f events/s\n", published, took.Round(time.Millisecond), float64(published)/took.Seconds())

	// 3. End to end: ingest publishing while enrich consumes, until the last event is stored.
	start = time.Now()
	published2, _, err := b.ingest(ctx, js, dirB, hoursB)
	if err != nil {
		stopEnrich()
		return err
	}
	if err := waitDrained(ctx, js, published+published2); err != nil {
		stopEnrich()
		return err
	}
	took = time.Since(start)
	stopEnrich()
	if err := <-done; err != nil {
		return err
	}
	b.printf("end to end:       %9d events in %8s = %8.0f events/s\n", published2, took.Round(time.Millisecond), float64(published2)/took.Seconds())

	if b.cpuProfile != "" {
		pprof.StopCPUProfile()
	}

	// 4. Headline queries at each size.
	return b.queries(ctx, sizes, runs)
}

// ingest reads the hour files and publishes every event, as `giveback backfill` does.
func (b *bench) ingest(ctx context.Context, js jetstream.JetStream, dir string, hours []time.Time) (int64, time.Duration, error) {
	pub := bus.NewPublisher(js)
	r := &gharchive.Reader{Source: dir, Parallel: 2, Log: b.log}
	start := time.Now()
	st, err := r.Read(ctx, hours, pub.Publish, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("bench: ingest: %w", err)
	}
	if err := pub.Flush(ctx); err != nil {
		return 0, 0, fmt.Errorf("bench: ingest: %w", err)
	}
	return st.Events, time.Since(start), nil
}

// waitDrained waits until the raw stream holds total messages and enrich has acked them all.
func waitDrained(ctx context.Context, js jetstream.JetStream, total int64) error {
	for {
		c, err := js.Consumer(ctx, events.StreamRaw, enrich.Durable)
		if err == nil {
			info, err := c.Info(ctx)
			if err == nil && info.NumPending == 0 && info.NumAckPending == 0 && int64(info.AckFloor.Stream) >= total {
				return nil
			}
		} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("bench: consumer: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// hoursIn lists the hours of the GH Archive files in dir, in order.
func hoursIn(dir string) ([]time.Time, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json.gz"))
	if err != nil {
		return nil, err
	}
	var hours []time.Time
	for _, n := range names {
		h, err := time.Parse("2006-01-02-15", strings.TrimSuffix(filepath.Base(n), ".json.gz"))
		if err != nil {
			return nil, fmt.Errorf("%s is not a GH Archive hour file name (YYYY-MM-DD-H.json.gz): %w", n, err)
		}
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	return hours, nil
}

// syntheticRows appends n contributions numbered from first, with the shape of a large
// company's history: two years, six kinds, 300 employees in five teams, 2,000 repositories,
// 5% of the rows inserted again with a newer version (a PR changing state), in 1M-row inserts.
func (b *bench) syntheticRows(ctx context.Context, first, n int) error {
	const chunk = 1_000_000
	for off := first; off < first+n; off += chunk {
		cnt := min(chunk, first+n-off)
		q := fmt.Sprintf(`INSERT INTO contributions (id, kind, occurred_at, actor_login, employee_id, team, repo, repo_owner, is_upstream, number, state, merged, merged_at, closed_at, source, version)
SELECT
    concat('bench:', toString(number)),
    ['pull_request','review','issue','comment','commit','commit','commit','release'][1 + cityHash64(number, 1) %% 8],
    toDateTime64('%s', 3, 'UTC') - toIntervalSecond(cityHash64(number, 2) %% (730 * 86400)) AS at,
    concat('user', toString(cityHash64(number, 3) %% 2000)),
    if(cityHash64(number, 3) %% 2000 < 300, concat('e', toString(cityHash64(number, 3) %% 2000)), ''),
    ['core','platform','data','infra','web'][1 + cityHash64(number, 3) %% 5],
    concat('org', toString(cityHash64(number, 4) %% 400), '/repo', toString(cityHash64(number, 5) %% 5)),
    concat('org', toString(cityHash64(number, 4) %% 400)),
    cityHash64(number, 4) %% 400 >= 8,
    toUInt32(number %% 100000),
    if(cityHash64(number, 6) %% 4 = 0, 'open', 'closed'),
    cityHash64(number, 6) %% 4 IN (1, 2),
    if(cityHash64(number, 6) %% 4 IN (1, 2), at + toIntervalHour(30), NULL),
    if(cityHash64(number, 6) %% 4 != 0, at + toIntervalHour(30), NULL),
    'gharchive',
    if(number %% 20 = 0, 2, 1)
FROM numbers(%d, %d)`, time.Now().UTC().Format(time.DateTime), off, cnt)
		if err := b.store.Conn().Exec(ctx, q); err != nil {
			return fmt.Errorf("bench: synthetic rows: %w", err)
		}
		// The older state of every 20th row arrives as well, as a separate insert.
		if err := b.store.Conn().Exec(ctx, fmt.Sprintf(`INSERT INTO contributions SELECT * REPLACE (1 AS version, 'open' AS state, 0 AS merged) FROM contributions WHERE id LIKE 'bench:%%' AND version = 2 AND toUInt64(substring(id, 7)) BETWEEN %d AND %d`, off, off+cnt-1)); err != nil {
			return fmt.Errorf("bench: synthetic duplicates: %w", err)
		}
	}
	return nil
}

func (b *bench) queries(ctx context.Context, sizes []int, runs int) error {
	now := time.Now().UTC().Truncate(24 * time.Hour)
	filters := map[string]metrics.Filter{
		"12 months":      {From: now.AddDate(-1, 0, 0), To: now, Upstream: metrics.UpstreamAll},
		"12 months team": {From: now.AddDate(-1, 0, 0), To: now, Team: "core", Upstream: metrics.UpstreamOnly},
	}
	q := b.store
	headlines := []headline{
		{"summary", func(ctx context.Context, f metrics.Filter) error { _, err := metrics.GetSummary(ctx, q, f); return err }},
		{"contributions by kind/month", func(ctx context.Context, f metrics.Filter) error {
			_, err := metrics.GetContributions(ctx, q, f)
			return err
		}},
		{"active contributors", func(ctx context.Context, f metrics.Filter) error {
			_, err := metrics.GetContributors(ctx, q, f)
			return err
		}},
		{"upstream repos", func(ctx context.Context, f metrics.Filter) error {
			_, err := metrics.GetRepos(ctx, q, f, 10)
			return err
		}},
		{"PR acceptance", func(ctx context.Context, f metrics.Filter) error {
			_, err := metrics.GetAcceptance(ctx, q, f)
			return err
		}},
		{"PR responsiveness", func(ctx context.Context, f metrics.Filter) error {
			_, err := metrics.GetResponsiveness(ctx, q, f)
			return err
		}},
	}
	have := 0
	for _, size := range sizes {
		res, err := q.Query(ctx, "SELECT count() FROM contributions FINAL", nil)
		if err != nil {
			return err
		}
		stored := int(store.AsInt(res.Rows[0][0]))
		start := time.Now()
		if size > stored {
			if err := b.syntheticRows(ctx, have, size-stored); err != nil {
				return err
			}
			have += size - stored
		}
		b.printf("\nheadline queries at %d contributions (filled in %s)\n", size, time.Since(start).Round(time.Second))
		if err := b.timeQueries(ctx, headlines, filters, runs); err != nil {
			return err
		}
		// Merged down to one part per month, FINAL has nothing left to merge at read time.
		start = time.Now()
		if err := q.Conn().Exec(ctx, "OPTIMIZE TABLE contributions FINAL"); err != nil {
			return fmt.Errorf("bench: optimize: %w", err)
		}
		b.printf("headline queries at %d contributions after OPTIMIZE … FINAL (took %s)\n", size, time.Since(start).Round(time.Second))
		if err := b.timeQueries(ctx, headlines, filters, runs); err != nil {
			return err
		}
	}
	return nil
}

type headline struct {
	name string
	fn   func(context.Context, metrics.Filter) error
}

// timeQueries runs each headline query runs times per filter and prints p50 and p95.
func (b *bench) timeQueries(ctx context.Context, headlines []headline, filters map[string]metrics.Filter, runs int) error {
	for _, fname := range []string{"12 months", "12 months team"} {
		f := filters[fname]
		for _, h := range headlines {
			var lat []time.Duration
			for i := 0; i < runs; i++ {
				t0 := time.Now()
				if err := h.fn(ctx, f); err != nil {
					return fmt.Errorf("bench: %s: %w", h.name, err)
				}
				lat = append(lat, time.Since(t0))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p50 := lat[len(lat)/2]
			p95 := lat[(len(lat)*95+99)/100-1]
			b.printf("  %-28s %-15s p50 %7.1f ms   p95 %7.1f ms\n", h.name, fname, ms(p50), ms(p95))
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
