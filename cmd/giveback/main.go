// Command giveback runs Giveback: the whole pipeline in one process (up), each service alone
// (ingest, enrich, report), the ClickHouse migrations, GH Archive backfills, ad hoc queries and
// the benchmark.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `giveback tracks a company's upstream open source contributions and turns them
into "give back" metrics.

Usage:
  giveback <command> [flags]

Commands:
  up          everything in one process: embedded NATS, embedded ClickHouse (chDB), ingest,
              enrich and report behind one HTTP address; --demo fills it with demo data
  ingest      the ingest service alone (webhook receiver, GitHub REST sync) against NATS
  enrich      the enrich service alone, against NATS and ClickHouse
  report      the report service alone (dashboard, JSON API, ad hoc SQL), against ClickHouse
  migrate     apply the ClickHouse migrations and exit
  backfill    read GH Archive hours and publish them through ingest:
                giveback backfill gharchive --source DIR|URL --from 2025-01-01T15 --to 2025-01-01T16
  query       run read-only SQL through the report service: giveback query "SELECT …"
  bench       measure the pipeline and the headline queries on generated data
  deps        the company's dependencies: giveback deps import [PATH...] | giveback deps list
  roster      giveback roster load: hand the roster to enrich and re-attribute the history of
              the people whose rows changed
  forget      remove one person everywhere (ClickHouse, NATS streams and KV) and record it:
                giveback forget LOGIN|EMAIL|EMPLOYEE_ID
  deadletter  the raw records enrich gave up on: giveback deadletter list | show SEQ |
              replay SEQ...|--all | drop SEQ...
  tokens      API tokens of auth.mode tokens: giveback tokens create --role viewer|analyst|admin
              --name NAME | giveback tokens list | giveback tokens revoke ID|NAME
  reports     scheduled executive reports: giveback reports list | run NAME [--period 2026-10]
              [--to FILE|DIR] [--force] | check --config FILE
  healthcheck exit 0 when --url answers 2xx (for container health checks)
  version     print the version

Run "giveback <command> --help" for the flags of a command.
`

var version = "dev"

func main() {
	// The pipeline allocates much and briefly; collecting less often trades memory, which a
	// machine running Giveback has, for CPU. GOGC set in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	// A command stopped by SIGINT or SIGTERM that returns only the cancellation has done what
	// was asked of it: it exits 0, as one that drained does.
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = nil
	}
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "giveback:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "up":
		return cmdUp(ctx, rest, stderr)
	case "ingest":
		return cmdIngest(ctx, rest, stderr)
	case "enrich":
		return cmdEnrich(ctx, rest, stderr)
	case "report":
		return cmdReport(ctx, rest, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stderr)
	case "backfill":
		return cmdBackfill(ctx, rest, stdout, stderr)
	case "query":
		return cmdQuery(ctx, rest, stdout, stderr)
	case "bench":
		return cmdBench(ctx, rest, stdout, stderr)
	case "deps":
		return cmdDeps(ctx, rest, stdout, stderr)
	case "roster":
		return cmdRoster(ctx, rest, stdout, stderr)
	case "forget":
		return cmdForget(ctx, rest, stdout, stderr)
	case "deadletter":
		return cmdDeadletter(ctx, rest, stdout, stderr)
	case "tokens":
		return cmdTokens(ctx, rest, stdout, stderr)
	case "reports":
		return cmdReports(ctx, rest, stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, rest, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "giveback", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
