package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"giveback.dev/cmd/giveback/internal/bench"
	"giveback.dev/platform/config"
	"giveback.dev/platform/ops"
)

// cmdBench measures the embedded stack on generated data (package bench) and prints the figures
// kept in docs/BENCHMARKS.md.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [--events N] [--rows 1000000,10000000] [--runs 20] [--dir DIR] [--pages] [--clients 32] [--load-for 10s] [--compacted-only] [--soak 10m [--soak-rate 400] [--soak-webhooks 10] [--soak-clients 8] [--soak-think 5s] [--soak-page-staleness 10s]]", stderr)
	nEvents := fs.Int("events", 1_000_000, "generated GH Archive events pushed through the pipeline (0 skips the throughput runs)")
	rowsFlag := fs.String("rows", "1000000,10000000", "sizes of the contributions table the headline queries are timed at (comma-separated; empty skips)")
	runs := fs.Int("runs", 20, "runs of each headline query per size")
	dir := fs.String("dir", "", "working directory (default a temporary one, removed afterwards)")
	logLevel := fs.String("log-level", "warn", "log level")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the throughput runs to this file (with --events 0 --pages: of the cached dashboard load)")
	pages := fs.Bool("pages", false, "also time every page of the report service, without and with its cache, and load them with --clients")
	clients := fs.Int("clients", 32, "concurrent clients of the page loads (--pages)")
	loadFor := fs.Duration("load-for", 10*time.Second, "how long each page load runs (--pages)")
	compacted := fs.Bool("compacted-only", false, "time the headline queries only after compaction, not also as inserted")
	soak := fs.Duration("soak", 0, "instead of the benchmark, run the pipeline under a steady load this long (demo backfill, webhooks, dashboard clients, ad hoc queries), sample it every 10s and check that nothing is lost and memory stays flat")
	soakRate := fs.Int("soak-rate", 400, "GH Archive events a second the demo backfill publishes (--soak)")
	soakWebhooks := fs.Int("soak-webhooks", 10, "signed webhook deliveries a second (--soak)")
	soakClients := fs.Int("soak-clients", 8, "dashboard clients (--soak)")
	soakThink := fs.Duration("soak-think", 5*time.Second, "how long a dashboard client reads a page before it loads the next (--soak)")
	soakStale := fs.Duration("soak-page-staleness", config.Default().HTTP.PageStaleness.D(), "how long a page rendered from older data may be served while data arrives, as http.page_staleness (--soak); 0s renders pages again after every write")
	soakHeap := fs.String("soak-heapprofile", "", "write a heap profile to this file at the end of the load (--soak)")
	soakDedup := fs.Duration("soak-dedup-window", 0, "the raw stream's message-id window instead of the hour (--soak): NATS keeps every id of the window in memory")
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
	if *soak != 0 {
		if *soak < 0 || *soakRate < 1 || *soakWebhooks < 1 || *soakClients < 1 || *soakThink <= 0 || *soakDedup < 0 {
			return fmt.Errorf("--soak, --soak-rate, --soak-webhooks, --soak-clients and --soak-think must be positive")
		}
		if *soakStale < 0 || *soakStale > time.Minute {
			return fmt.Errorf("--soak-page-staleness: %s must be between 0s and 1m, as http.page_staleness", *soakStale)
		}
		return bench.Soak(ctx, bench.SoakOptions{Duration: *soak, Rate: *soakRate, Webhooks: *soakWebhooks, Clients: *soakClients, Think: *soakThink, PageStaleness: *soakStale, HeapProfile: *soakHeap,
			DedupWindow: *soakDedup, Dir: *dir, Out: stdout, Log: log})
	}
	return bench.Run(ctx, bench.Options{Events: *nEvents, Sizes: sizes, Runs: *runs, Dir: *dir, CPUProfile: *cpuProfile, Out: stdout, Log: log,
		Pages: *pages, Clients: *clients, LoadFor: *loadFor, Compacted: *compacted})
}
