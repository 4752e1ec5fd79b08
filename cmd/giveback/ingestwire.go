package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v60/github"
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
	"giveback.dev/services/ingest/webhook"
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
	replays, err := webhook.OpenReplays(ctx, js, cfg.NATS.Replicas)
	if err != nil {
		return nil, err
	}
	o := ingest.Options{
		Publisher: bus.NewPublisher(js), KV: kv, Log: log, Registry: reg, JS: js,
		WebhookSecret: []byte(secret), WebhookMaxBytes: cfg.HTTP.WebhookMaxBytes, WebhookReplays: replays,
		Parallel: cfg.GHArchive.Parallel, SyncInterval: cfg.GitHub.SyncInterval.D(),
	}
	var filter atomic.Pointer[func([]byte) bool]
	var followers []func(*roster.Roster)
	if cfg.GHArchive.Filter == "roster" {
		followers = append(followers, func(r *roster.Roster) {
			f := gharchive.LoginFilter(collectedLogins(r), cfg.Company.GitHubOrgs)
			filter.Store(&f)
		})
		o.Filter = func(line []byte) bool { return (*filter.Load())(line) }
	}
	token, err := config.Secret(cfg.GitHub.TokenEnv, cfg.GitHub.TokenFile)
	if err != nil {
		return nil, err
	}
	app := cfg.GitHub.HasApp()
	if cfg.GitHub.Sync && token == "" && !app {
		return nil, fmt.Errorf("github.sync is on but no token: set $%s (github.token_env), github.token_file, or a GitHub App (github.app_id, app_installation_id, app_private_key_file)", cfg.GitHub.TokenEnv)
	}
	if (token != "" || app) && (cfg.GitHub.Sync || cfg.GitHub.Hydrate) {
		// Each token, and the app's installation, has a rate limit of its own; the variable may
		// hold several tokens, comma-separated.
		var clients []*github.Client
		if token != "" {
			if clients, err = githubsync.NewClients(cfg.GitHub.BaseURL, strings.Split(token, ","), nil); err != nil {
				return nil, err
			}
		}
		if app {
			key, err := os.ReadFile(cfg.Path(cfg.GitHub.AppPrivateKeyFile))
			if err != nil {
				return nil, fmt.Errorf("github.app_private_key_file: %w", err)
			}
			c, err := githubsync.NewAppClient(cfg.GitHub.BaseURL, githubsync.App{ID: cfg.GitHub.AppID,
				InstallationID: cfg.GitHub.AppInstallationID, PrivateKey: key}, nil)
			if err != nil {
				return nil, fmt.Errorf("github.app_private_key_file %s: %w", cfg.GitHub.AppPrivateKeyFile, err)
			}
			clients = append(clients, c)
		}
		since := time.Now().AddDate(-1, 0, 0)
		if cfg.GitHub.SyncSince != "" {
			if since, err = time.Parse(time.DateOnly, cfg.GitHub.SyncSince); err != nil {
				return nil, fmt.Errorf("github.sync_since: %w", err)
			}
		}
		// One syncer for both: the tokens' rate limits and the ETags are shared.
		sy := &githubsync.Syncer{Clients: clients, Since: since, Log: log}
		if cfg.GitHub.Sync {
			o.Syncer = sy
			followers = append(followers, func(r *roster.Roster) { sy.SetLogins(collectedLogins(r)) })
		}
		if cfg.GitHub.Hydrate {
			o.Hydrator = sy
		}
	}
	if len(followers) > 0 {
		followRoster(ctx, kv, ro, log, func(r *roster.Roster) {
			for _, f := range followers {
				f(r)
			}
		})
	}
	return ingest.New(o)
}

// followRoster calls apply with the roster `giveback roster load` keeps in NATS KV (the one
// enrich attributes by), or ro when there is none, and again each time it changes, until ctx
// ends: the GH Archive filter and the REST sync follow a new hire without a restart.
func followRoster(ctx context.Context, kv jetstream.KeyValue, ro *roster.Roster, log *slog.Logger, apply func(*roster.Roster)) {
	if r, _, found, err := enrich.RosterFromKV(ctx, kv); err != nil {
		log.Warn("roster in NATS KV unreadable; collecting by the roster file", slog.Any("err", err))
		apply(ro)
	} else if found {
		apply(r)
	} else {
		apply(ro)
	}
	w, err := kv.Watch(ctx, events.KeyRosterCurrent, jetstream.UpdatesOnly())
	if err != nil {
		log.Warn("cannot follow roster changes; collection keeps the roster it started with", slog.Any("err", err))
		return
	}
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
					log.Warn("new roster in NATS KV refused; collection keeps the previous one", slog.Any("err", err))
					continue
				}
				apply(r)
				log.Info("collection follows the new roster", slog.Int("logins", len(r.Logins())))
			}
		}
	}()
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
