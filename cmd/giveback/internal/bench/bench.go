// Package bench measures the embedded pipeline on generated data and prints the figures kept in
// docs/BENCHMARKS.md: ingest publish, enrich + store and end-to-end events/s, then p50/p95 of
// each headline query at each size of the contributions table.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/cmd/giveback/internal/demo"
	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/services/enrich"
	"giveback.dev/services/ingest/gharchive"
	"giveback.dev/services/report/metrics"
)

// Options are what a run measures and where it writes.
type Options struct {
	Events     int           // generated GH Archive events pushed through the pipeline
	Sizes      []int         // sizes of the contributions table the headline queries are timed at, ascending
	Runs       int           // runs of each headline query per size and filter
	Dir        string        // working directory; empty: a temporary one, removed afterwards
	CPUProfile string        // file for a CPU profile of the throughput runs (with Events 0 and Pages: of the cached dashboard load); empty: none
	Pages      bool          // also time every page of the report service and load it with Clients
	Clients    int           // concurrent clients of the page loads; 0 means 32
	LoadFor    time.Duration // how long each page load runs; 0 means 10s
	Compacted  bool          // time the headline queries only after compaction, not as inserted
	Out        io.Writer
	Log        *slog.Logger // nil discards
}

// Run generates the data, measures and prints the figures to o.Out.
func Run(ctx context.Context, o Options) error {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	work := o.Dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "giveback-bench-"); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(work)
	}
	b := &bench{out: o.Out, log: o.Log, work: work, cpuProfile: o.CPUProfile}
	// b.close is set once the servers run (start): read it when Run returns, not now, when it is
	// still nil (deferring the nil function made every return a nil dereference).
	defer func() {
		if b.close != nil {
			b.close()
		}
	}()
	if o.Clients <= 0 {
		o.Clients = 32
	}
	if o.LoadFor <= 0 {
		o.LoadFor = 10 * time.Second
	}
	b.pageRuns, b.clients, b.loadFor, b.compactedOnly = o.Runs, o.Clients, o.LoadFor, o.Compacted
	if o.Events == 0 {
		b.pageProfile, b.cpuProfile = b.cpuProfile, ""
	}
	if !o.Pages {
		b.clients = 0
	}
	return b.run(ctx, o.Events, o.Sizes, o.Runs)
}

type bench struct {
	out  io.Writer
	log  *slog.Logger
	work string

	cpuProfile  string
	pageProfile string // file for a CPU profile of the cached dashboard load; empty: none

	// Page measurements after each size (pages); clients 0 skips them.
	pageRuns, clients int
	loadFor           time.Duration
	compactedOnly     bool // skip timing the headline queries on unmerged parts

	// dedupWindow is the raw stream's message-id window (bus.StreamOptions.DedupWindow); zero
	// keeps the product's hour.
	dedupWindow time.Duration

	js    jetstream.JetStream
	store *store.Store
	close func()
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// hourSet is a directory of generated GH Archive hours.
type hourSet struct {
	dir   string
	hours []time.Time
	gen   *demo.Generator
}

func (b *bench) run(ctx context.Context, nEvents int, sizes []int, runs int) error {
	b.close = func() {}
	b.printf("giveback bench: %d generated events; headline queries at %v contributions, %d runs each\n", nEvents, sizes, runs)
	if nEvents <= 0 {
		if err := b.start(ctx); err != nil {
			return err
		}
		return b.queries(ctx, sizes, runs)
	}
	// Two sets of hours (the second with other ids) for the two throughput runs.
	setA, err := b.generate(nEvents, "a", 1)
	if err != nil {
		return fmt.Errorf("bench: generate: %w", err)
	}
	setB, err := b.generate(nEvents, "b", 2)
	if err != nil {
		return fmt.Errorf("bench: generate: %w", err)
	}
	if err := b.start(ctx); err != nil {
		return err
	}
	svc, err := b.enrichFor(setA.gen)
	if err != nil {
		return err
	}
	stop := func() error { return nil }
	if b.cpuProfile != "" {
		if stop, err = startProfile(b.cpuProfile); err != nil {
			return err
		}
	}
	if err := errors.Join(b.throughput(ctx, svc, setA, setB), stop()); err != nil {
		return err
	}
	return b.queries(ctx, sizes, runs)
}

// generate writes ten days of activity (so each hour file holds thousands of events, as GH
// Archive's do) under name; each seed gives other ids and days.
func (b *bench) generate(nEvents int, name string, seed int64) (hourSet, error) {
	d := filepath.Join(b.work, name)
	if err := os.MkdirAll(d, 0o750); err != nil {
		return hourSet{}, err
	}
	to := time.Now().UTC().Truncate(time.Hour).AddDate(0, 0, -10*int(seed-1))
	g := demo.NewGenerator(demo.Options{Seed: seed, From: to.AddDate(0, 0, -10), To: to, EventsPerDay: nEvents / 10, IDBase: seed * 10_000_000_000})
	start := time.Now()
	files, n, err := g.WriteHours(d)
	if err != nil {
		return hourSet{}, err
	}
	b.printf("generated %d events in %d hour files in %s\n", n, files, time.Since(start).Round(time.Millisecond))
	hours, err := demo.HoursIn(d)
	return hourSet{dir: d, hours: hours, gen: g}, err
}

// start starts an embedded NATS server and a chDB store under the working directory.
func (b *bench) start(ctx context.Context) error {
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
	b.js, b.store = js, store.New(conn)
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
	return bus.EnsureStreams(ctx, js, bus.StreamOptions{DedupWindow: b.dedupWindow})
}

// enrichFor returns the enrich service attributing by the generated company's roster.
func (b *bench) enrichFor(g *demo.Generator) (*enrich.Service, error) {
	var rbuf strings.Builder
	if err := g.RosterCSV(&rbuf); err != nil {
		return nil, err
	}
	ro, err := roster.Parse(strings.NewReader(rbuf.String()))
	if err != nil {
		return nil, err
	}
	co := g.Company()
	company := config.Company{Name: co.Name, GitHubOrgs: co.Orgs, EmailDomains: co.EmailDomains}
	return enrich.New(enrich.Options{Store: b.store, JS: b.js, Company: company, Roster: ro, Log: b.log})
}

// throughput measures ingest alone (read, gunzip, split, publish into JetStream), enrich alone
// draining that backlog (decode, map, attribute, insert, publish enriched), then both at once
// until the last event of the second set is stored.
func (b *bench) throughput(ctx context.Context, svc *enrich.Service, setA, setB hourSet) error {
	published, took, err := b.ingest(ctx, b.js, setA.dir, setA.hours)
	if err != nil {
		return err
	}
	b.printf("ingest publish:   %9d events in %8s = %8.0f events/s\n", published, took.Round(time.Millisecond), float64(published)/took.Seconds())

	ectx, stopEnrich := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- svc.Run(ectx) }()
	// Whatever way this returns (an interrupt, say), enrich has stopped by then: NATS and the
	// working directory go next, and must not go from under a batch being stored.
	running := true
	defer func() {
		if running {
			stopEnrich()
			<-done
		}
	}()
	if err := waitDrained(ctx, b.js, published); err != nil {
		return err
	}
	took = time.Since(start)
	b.printf("enrich + store:   %9d events in %8s = %8.0f events/s\n", published, took.Round(time.Millisecond), float64(published)/took.Seconds())

	start = time.Now()
	published2, _, err := b.ingest(ctx, b.js, setB.dir, setB.hours)
	if err != nil {
		return err
	}
	if err := waitDrained(ctx, b.js, published+published2); err != nil {
		return err
	}
	took = time.Since(start)
	stopEnrich()
	running = false
	if err := <-done; err != nil {
		return err
	}
	b.printf("end to end:       %9d events in %8s = %8.0f events/s\n", published2, took.Round(time.Millisecond), float64(published2)/took.Seconds())
	return nil
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

func (b *bench) queries(ctx context.Context, sizes []int, runs int) error {
	now := time.Now().UTC().Truncate(24 * time.Hour)
	filters := map[string]metrics.Filter{
		"12 months":      {From: now.AddDate(-1, 0, 0), To: now, Upstream: metrics.UpstreamAll},
		"12 months team": {From: now.AddDate(-1, 0, 0), To: now, Team: "team7", Upstream: metrics.UpstreamOnly},
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
		if b.compactedOnly {
			b.printf("  (not timed as inserted)\n")
		} else if err := b.timeQueries(ctx, headlines, filters, runs); err != nil {
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
		// The rollups of every month, rebuilt as enrich does after compaction.
		start = time.Now()
		months, err := b.store.RefreshRollups(ctx)
		if err != nil {
			return fmt.Errorf("bench: rollups: %w", err)
		}
		b.printf("headline queries at %d contributions with the rollups (%d months rebuilt in %s)\n", size, months, time.Since(start).Round(time.Second))
		if err := b.timeQueries(ctx, headlines, filters, runs); err != nil {
			return err
		}
		if b.clients > 0 {
			if err := b.pages(ctx, b.pageRuns, b.clients, b.loadFor); err != nil {
				return err
			}
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
