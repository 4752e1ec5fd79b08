package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/services/enrich"
	"giveback.dev/services/ingest"
	"giveback.dev/services/ingest/gharchive"
	"giveback.dev/services/ingest/githubsync"
)

// collectedLogins returns the roster's logins minus those of people who opted out: their
// activity is never collected.
func collectedLogins(ro *roster.Roster) []string {
	var out []string
	for _, l := range ro.Logins() {
		if !ro.OptedOut(l) {
			out = append(out, l)
		}
	}
	return out
}

// newIngest builds the ingest service from the configuration.
// ctx bounds the service's background work (following roster changes).
func newIngest(ctx context.Context, cfg config.Config, js jetstream.JetStream, ro *roster.Roster, reg prometheus.Registerer, log *slog.Logger) (*ingest.Service, error) {
	kv, err := js.KeyValue(ctx, events.BucketCursors)
	if err != nil {
		return nil, fmt.Errorf("ingest: cursor bucket: %w", err)
	}
	secret, err := config.Secret(cfg.GitHub.WebhookSecretEnv, cfg.GitHub.WebhookSecretFile)
	if err != nil {
		return nil, err
	}
	o := ingest.Options{
		Publisher: bus.NewPublisher(js), KV: kv, Log: log, Registry: reg,
		WebhookSecret: []byte(secret), WebhookMaxBytes: cfg.HTTP.WebhookMaxBytes,
		Parallel: cfg.GHArchive.Parallel, SyncInterval: cfg.GitHub.SyncInterval.D(),
	}
	if cfg.GHArchive.Filter == "roster" {
		o.Filter = rosterFilter(ctx, kv, ro, cfg.Company.GitHubOrgs, log)
	}
	if cfg.GitHub.Sync {
		token, err := config.Secret(cfg.GitHub.TokenEnv, cfg.GitHub.TokenFile)
		if err != nil {
			return nil, err
		}
		if token == "" {
			return nil, fmt.Errorf("github.sync is on but no token: set $%s (github.token_env) or github.token_file", cfg.GitHub.TokenEnv)
		}
		// The variable may hold several tokens, comma-separated: each has its own rate limit.
		clients, err := githubsync.NewClients(cfg.GitHub.BaseURL, strings.Split(token, ","), nil)
		if err != nil {
			return nil, err
		}
		since := time.Now().AddDate(-1, 0, 0)
		if cfg.GitHub.SyncSince != "" {
			if since, err = time.Parse(time.DateOnly, cfg.GitHub.SyncSince); err != nil {
				return nil, fmt.Errorf("github.sync_since: %w", err)
			}
		}
		o.Syncer = &githubsync.Syncer{Clients: clients, Logins: collectedLogins(ro), Since: since, Log: log}
	}
	return ingest.New(o)
}

// rosterFilter returns the GH Archive prefilter for the roster's logins and the company's orgs.
// It follows the roster `giveback roster load` keeps in NATS KV (the one enrich attributes by),
// starting from it when there is one, and rebuilds itself when it changes, so a new hire's
// activity is not filtered out before ingest restarts.
func rosterFilter(ctx context.Context, kv jetstream.KeyValue, ro *roster.Roster, orgs []string, log *slog.Logger) func([]byte) bool {
	var current atomic.Pointer[func([]byte) bool]
	set := func(r *roster.Roster) {
		f := gharchive.LoginFilter(collectedLogins(r), orgs)
		current.Store(&f)
	}
	if r, _, found, err := enrich.RosterFromKV(ctx, kv); err != nil {
		log.Warn("roster in NATS KV unreadable; filtering by the roster file", slog.Any("err", err))
		set(ro)
	} else if found {
		set(r)
	} else {
		set(ro)
	}
	w, err := kv.Watch(ctx, events.KeyRosterCurrent, jetstream.UpdatesOnly())
	if err != nil {
		log.Warn("cannot follow roster changes; the GH Archive filter keeps the roster it started with", slog.Any("err", err))
	} else {
		go func() {
			defer func() {
				if err := w.Stop(); err != nil {
					log.Debug("stop roster watch", slog.Any("err", err))
				}
			}()
			for {
				select {
				case <-ctx.Done():
					return
				case e, ok := <-w.Updates():
					if !ok {
						return
					}
					if e == nil || e.Operation() != jetstream.KeyValuePut {
						continue
					}
					r, err := roster.Parse(bytes.NewReader(e.Value()))
					if err != nil {
						log.Warn("new roster in NATS KV refused; the filter keeps the previous one", slog.Any("err", err))
						continue
					}
					set(r)
					log.Info("GH Archive filter follows the new roster", slog.Int("logins", len(r.Logins())))
				}
			}
		}()
	}
	return func(line []byte) bool { return (*current.Load())(line) }
}

// parseHour reads 2025-01-01T15 (or a full RFC 3339 time, truncated to its hour).
func parseHour(flag, s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15", "2006-01-02T15:04", time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Hour), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want an hour such as 2025-01-01T15", flag, s)
}

func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "gharchive" {
		return fmt.Errorf("backfill: the only source is gharchive: giveback backfill gharchive --source DIR|URL --from 2025-01-01T15 --to 2025-01-01T16")
	}
	var c common
	fs := newFlags("backfill gharchive", "backfill gharchive --source DIR|URL --from 2025-01-01T15 --to 2025-01-01T16 [--nats URL] [--config FILE]", stderr)
	c.register(fs, true, false)
	source := fs.String("source", "", "directory of YYYY-MM-DD-H.json.gz files, or an http(s) base URL (default gharchive.base_url of the config)")
	fromS := fs.String("from", "", "first hour, e.g. 2025-01-01T15 (UTC)")
	toS := fs.String("to", "", "last hour, included (default: the first)")
	parallel := fs.Int("parallel", 0, "hours read at once (default gharchive.parallel of the config)")
	all := fs.Bool("all", false, "publish every event, not only the roster's logins and the company's orgs")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if c.natsURL == "" {
		c.natsURL = "nats://127.0.0.1:4222"
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	if *fromS == "" {
		return fmt.Errorf("backfill: --from is required (an hour such as 2025-01-01T15)")
	}
	from, err := parseHour("--from", *fromS)
	if err != nil {
		return err
	}
	to := from
	if *toS != "" {
		if to, err = parseHour("--to", *toS); err != nil {
			return err
		}
	}
	if to.Before(from) {
		return fmt.Errorf("backfill: --to %s is before --from %s", *toS, *fromS)
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
	ro, err := loadRoster(cfg, log)
	if err != nil {
		return err
	}
	nc, js, err := connectBus(ctx, cfg, "backfill")
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 10*time.Second)
	svc, err := newIngest(ctx, cfg, js, ro, nil, log)
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

// runDemoBackfill feeds the generated demo hours through ingest like any other GH Archive
// source; hours already done (a restart) are skipped.
func runDemoBackfill(ctx context.Context, svc *ingest.Service, dir string, log *slog.Logger) error {
	hours, err := hoursIn(dir + "/hours")
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
