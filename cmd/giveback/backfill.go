package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/cmd/giveback/internal/demo"
	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/services/ingest"
	"giveback.dev/services/ingest/gharchive"
)

// parseHour reads 2025-01-01T15 (or a full RFC 3339 time, truncated to its hour).
func parseHour(flag, s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15", "2006-01-02T15:04", time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Hour), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want an hour such as 2025-01-01T15", flag, s)
}

// backfillRange reads --from and --to (default: the first hour).
func backfillRange(fromS, toS string) (from, to time.Time, err error) {
	if fromS == "" {
		return from, to, errors.New("backfill: --from is required (an hour such as 2025-01-01T15)")
	}
	if from, err = parseHour("--from", fromS); err != nil {
		return from, to, err
	}
	to = from
	if toS != "" {
		if to, err = parseHour("--to", toS); err != nil {
			return from, to, err
		}
	}
	if to.Before(from) {
		return from, to, fmt.Errorf("backfill: --to %s is before --from %s", toS, fromS)
	}
	return from, to, nil
}

func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "gharchive" {
		return fmt.Errorf("backfill: the only source is gharchive: giveback backfill gharchive --source DIR|URL --from 2025-01-01T15 --to 2025-01-01T16")
	}
	var c common
	fs := newFlags("backfill gharchive", "backfill gharchive --source DIR|URL --from 2025-01-01T15 --to 2025-01-01T16 [--nats URL] [--data DIR] [--config FILE]", stderr)
	c.register(fs, true, false)
	source := fs.String("source", "", "directory of YYYY-MM-DD-H.json.gz files, or an http(s) base URL (default gharchive.base_url of the config)")
	fromS := fs.String("from", "", "first hour, e.g. 2025-01-01T15 (UTC)")
	toS := fs.String("to", "", "last hour, included (default: the first)")
	parallel := fs.Int("parallel", 0, "hours read at once (default gharchive.parallel of the config)")
	all := fs.Bool("all", false, "publish every event, not only the roster's logins and the company's orgs")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	if cfg.NATS.URL == "" {
		// Neither --nats nor nats.url: the address `giveback up` serves NATS at by default.
		cfg.NATS.URL = "nats://127.0.0.1:4222"
	}
	from, to, err := backfillRange(*fromS, *toS)
	if err != nil {
		return err
	}
	if *source == "" {
		*source = cfg.GHArchive.BaseURL
	}
	if *parallel > 0 {
		cfg.GHArchive.Parallel = *parallel
	}
	if *all {
		cfg.GHArchive.Filter = "all"
	}
	nc, js, err := connectBus(ctx, cfg, "backfill")
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 10*time.Second)
	ro, err := backfillRoster(ctx, &cfg, js, log)
	if err != nil {
		return err
	}
	svc, err := ingest.FromConfig(ctx, cfg, js, ro, nil, log)
	if err != nil {
		return err
	}
	progress := func(p gharchive.Progress) {
		fmt.Fprintf(stderr, "\rbackfill: %d/%d hours, %d events, %.0f events/s   ", p.HoursDone, p.HoursTotal, p.Events, p.EventsPerSec)
	}
	st, err := svc.Backfill(ctx, *source, from, to, progress)
	fmt.Fprintf(stderr, "\nbackfill: %d hours read, %d skipped (done before), %d missing, %d failed; %d events published, %d filtered out, %d malformed lines skipped\n",
		st.Hours, st.SkippedHours, st.MissingHours, st.FailedHours, st.Events, st.Filtered, st.Malformed)
	return err
}

// errNoRoster is returned by a backfill that would filter out every event.
var errNoRoster = errors.New("backfill: no roster: the instance holds none in NATS KV and the config names none, so every event would be filtered out; " +
	"load one with `giveback roster load --config FILE` (or start `giveback up` with a roster), give --config with roster set, or --all to publish every event")

// backfillRoster returns the roster a backfill filters by: the one the running instance holds in
// NATS KV, else the configured file. The company's orgs, when the config names none, are the
// instance's (stored beside its roster). With the roster filter and neither a roster nor an org
// anywhere it fails with errNoRoster rather than publish nothing.
func backfillRoster(ctx context.Context, cfg *config.Config, js jetstream.JetStream, log *slog.Logger) (*roster.Roster, error) {
	kv, err := js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		return nil, fmt.Errorf("backfill: roster bucket %s: %w", events.BucketRoster, err)
	}
	if len(cfg.Company.GitHubOrgs) == 0 {
		co, found, err := roster.CompanyFromKV(ctx, kv)
		if err != nil {
			return nil, err
		}
		if found && len(co.GitHubOrgs) > 0 {
			cfg.Company.GitHubOrgs = co.GitHubOrgs
			log.Info("company orgs read from the running instance", slog.Any("orgs", co.GitHubOrgs))
		}
	}
	r, _, found, err := roster.FromKV(ctx, kv)
	if err != nil {
		return nil, err
	}
	if !found && cfg.Roster != "" {
		if r, err = roster.Load(cfg.Path(cfg.Roster)); err != nil {
			return nil, err
		}
	}
	if r == nil {
		r = &roster.Roster{}
	}
	if cfg.GHArchive.Filter == "roster" && len(ingest.CollectedLogins(r)) == 0 && len(cfg.Company.GitHubOrgs) == 0 {
		return nil, errNoRoster
	}
	log.Info("backfill filters by the roster", slog.Bool("from_nats", found), slog.Int("logins", len(ingest.CollectedLogins(r))), slog.Any("orgs", cfg.Company.GitHubOrgs))
	return r, nil
}

// runDemoBackfill feeds the generated demo hours through ingest like any other GH Archive
// source; hours already done (a restart) are skipped.
func runDemoBackfill(ctx context.Context, svc *ingest.Service, dir string, log *slog.Logger) error {
	hours, err := demo.HoursIn(dir + "/hours")
	if err != nil || len(hours) == 0 {
		return fmt.Errorf("demo: no generated hours in %s: %v", dir, err)
	}
	last := time.Now()
	st, err := svc.Backfill(ctx, dir+"/hours", hours[0], hours[len(hours)-1], func(p gharchive.Progress) {
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			log.Info("demo backfill", slog.Int("hours_done", p.HoursDone), slog.Int("hours", p.HoursTotal), slog.Int64("events", p.Events))
		}
	})
	if err != nil && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo backfill: %w", err)
	}
	log.Info("demo data published", slog.Int64("events", st.Events), slog.Int("hours_skipped", st.SkippedHours))
	return nil
}
