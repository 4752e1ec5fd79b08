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
	"giveback.dev/platform/ops"
)

// cmdBench measures the embedded stack on generated data (package bench) and prints the figures
// kept in docs/BENCHMARKS.md.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [--events N] [--rows 1000000,10000000] [--runs 20] [--dir DIR] [--pages] [--clients 32] [--load-for 10s] [--compacted-only]", stderr)
	nEvents := fs.Int("events", 1_000_000, "generated GH Archive events pushed through the pipeline (0 skips the throughput runs)")
	rowsFlag := fs.String("rows", "1000000,10000000", "sizes of the contributions table the headline queries are timed at (comma-separated; empty skips)")
	runs := fs.Int("runs", 20, "runs of each headline query per size")
	dir := fs.String("dir", "", "working directory (default a temporary one, removed afterwards)")
	logLevel := fs.String("log-level", "warn", "log level")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the throughput runs to this file")
	pages := fs.Bool("pages", false, "also time every page of the report service, without and with its cache, and load them with --clients")
	clients := fs.Int("clients", 32, "concurrent clients of the page loads (--pages)")
	loadFor := fs.Duration("load-for", 10*time.Second, "how long each page load runs (--pages)")
	compacted := fs.Bool("compacted-only", false, "time the headline queries only after compaction, not also as inserted")
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
	return bench.Run(ctx, bench.Options{Events: *nEvents, Sizes: sizes, Runs: *runs, Dir: *dir, CPUProfile: *cpuProfile, Out: stdout, Log: log,
		Pages: *pages, Clients: *clients, LoadFor: *loadFor, Compacted: *compacted})
}
