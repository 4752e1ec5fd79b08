package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/ops"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/services/enrich"
	"giveback.dev/services/ingest"
	"giveback.dev/services/ingest/webhook"
	"giveback.dev/services/report"
)

// connectBus connects a command to the configured NATS as its user (see busCredentials) and,
// unless it is the report service, declares the streams. Every command that reaches NATS uses it.
func connectBus(ctx context.Context, cfg config.Config, name string) (*nats.Conn, jetstream.JetStream, error) {
	if cfg.NATS.URL == "" {
		return nil, nil, errors.New("nats.url is not set: give nats://host:4222 in the config or --nats")
	}
	cr, err := busCredentials(cfg, name)
	if err != nil {
		return nil, nil, err
	}
	nc, js, err := bus.Connect(cfg.NATS.URL, name, cr)
	if err != nil {
		return nil, nil, err
	}
	if busUser(name) == bus.UserReport {
		// The report service only reads; the others declare the streams.
		return nc, js, nil
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{Replicas: cfg.NATS.Replicas, RawMaxAge: cfg.Retention.RawStream.D()}); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// serve runs the HTTP server, behind the authentication of cfg (js reaches the token bucket;
// nil for a service that reads no token), and the service's actors until ctx ends or one fails.
func serve(ctx context.Context, cfg config.Config, js jetstream.JetStream, addr string, mux *http.ServeMux, log *slog.Logger, actors ...func(context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	guard, err := newGuard(gctx, cfg, addr, js, log)
	if err != nil {
		return err
	}
	g.Go(func() error {
		return ops.ServeWith(gctx, addr, guard.Wrap(mux), ops.LimitsFor(cfg.Query.MaxTime.D()), log, nil)
	})
	// The guard's token loops end with gctx; the group joins them.
	g.Go(func() error { <-gctx.Done(); guard.Wait(); return nil })
	for _, a := range actors {
		g.Go(func() error { return a(gctx) })
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func cmdIngest(ctx context.Context, args []string, stderr io.Writer) error {
	var c common
	fs := newFlags("ingest", "ingest --config FILE [--nats URL] [--addr HOST:PORT] [--webhook-addr HOST:PORT]", stderr)
	c.register(fs, true, false)
	addr := fs.String("addr", ":8081", "HTTP address of health and metrics, and of the webhook receiver unless --webhook-addr is given")
	webhookAddr := fs.String("webhook-addr", "", "HTTP address serving the webhook receiver alone, the only one GitHub must reach (default http.webhook_addr of the config)")
	cfg, log, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if *webhookAddr != "" {
		cfg.HTTP.WebhookAddr = *webhookAddr
	}
	ro, err := loadRoster(cfg, log)
	if err != nil {
		return err
	}
	nc, js, err := connectBus(ctx, cfg, "ingest")
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 10*time.Second)
	reg := ops.NewRegistry()
	svc, err := ingest.FromConfig(ctx, cfg, js, ro, reg, log)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	ops.Handle(mux, reg, ops.Check{Name: "nats", Fn: func(context.Context) error { return connected(nc) }})
	actors := []func(context.Context) error{svc.Run}
	if cfg.HTTP.WebhookAddr == "" {
		mux.Handle(webhook.Path, svc.WebhookHandler())
	} else {
		// The webhook receiver on a listener of its own, which is all a firewall or a
		// published port need expose; health and metrics stay on --addr.
		wh := webhookOnly(svc.WebhookHandler())
		actors = append(actors, func(ctx context.Context) error { return ops.Serve(ctx, cfg.HTTP.WebhookAddr, wh, log, nil) })
	}
	return serve(ctx, cfg, nil, *addr, mux, log, actors...)
}

// webhookOnly serves h at webhook.Path and answers 404 to every other path.
func webhookOnly(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(webhook.Path, h)
	return mux
}

func cmdEnrich(ctx context.Context, args []string, stderr io.Writer) error {
	var c common
	fs := newFlags("enrich", "enrich --config FILE [--nats URL] [--clickhouse DSN] [--addr HOST:PORT]", stderr)
	c.register(fs, true, true)
	addr := fs.String("addr", ":8082", "HTTP address of health and metrics")
	cfg, log, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	ro, err := loadRoster(cfg, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	nc, js, err := connectBus(ctx, cfg, "enrich")
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 10*time.Second)
	reg := ops.NewRegistry()
	svc, err := buildEnrich(ctx, cfg, st, js, ro, reg, log)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	ops.Handle(mux, reg,
		ops.Check{Name: "nats", Fn: func(context.Context) error { return connected(nc) }},
		ops.Check{Name: "clickhouse", Fn: func(ctx context.Context) error {
			_, err := st.Query(ctx, "SELECT 1", nil)
			return err
		}},
		ops.Check{Name: "enrich", Fn: svc.Ready},
	)
	return serve(ctx, cfg, nil, *addr, mux, log, svc.Run)
}

func cmdReport(ctx context.Context, args []string, stderr io.Writer) error {
	var c common
	fs := newFlags("report", "report --config FILE [--clickhouse DSN] [--addr HOST:PORT]", stderr)
	c.register(fs, false, true)
	addr := fs.String("addr", "", "HTTP address of the dashboard, JSON API, health and metrics (default http.addr of the config)")
	cfg, log, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.HTTP.Addr = *addr
	}
	st, err := openReader(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// The sources page reads ingest's cursors and statuses from NATS when a NATS server is configured.
	var sources report.SourceBuckets
	var js jetstream.JetStream
	if cfg.NATS.URL == "" && cfg.Auth.Mode == "tokens" {
		return errors.New("auth.mode: tokens needs nats.url: the tokens are kept in NATS")
	}
	if cfg.NATS.URL != "" {
		var nc *nats.Conn
		var err error
		nc, js, err = connectBus(ctx, cfg, "report")
		if err != nil {
			return err
		}
		defer bus.Drain(nc, 10*time.Second)
		if sources, err = report.OpenSources(ctx, js); err != nil {
			return err
		}
	}
	ro, err := loadRoster(cfg, log)
	if err != nil {
		return err
	}
	reg := ops.NewRegistry()
	scheduled, err := startReports(ctx, cfg, st, js, reg, log)
	if err != nil {
		return err
	}
	rep, err := buildReport(cfg, st, sources, reportRoster(js, ro, log), log, withReports(scheduled))
	if err != nil {
		return err
	}
	// The result cache drops its answers when enrich, in a process of its own, stores data.
	if js != nil {
		if _, err := rep.FollowChanges(js.Conn()); err != nil {
			return fmt.Errorf("report: follow changes: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/", rep.Handler())
	ops.Handle(mux, reg, ops.Check{Name: "clickhouse", Fn: rep.Ready})
	actors := []func(context.Context) error{rep.Run}
	if scheduled != nil {
		actors = append(actors, scheduled.Run)
	}
	return serve(ctx, cfg, js, cfg.HTTP.Addr, mux, log, actors...)
}

// buildEnrich is the one way enrich is built from the configuration, by `giveback enrich` and
// `giveback up`: it starts with the roster in NATS KV (else ro, the file's) and a classifier
// that follows the dependency list in st until ctx ends.
func buildEnrich(ctx context.Context, cfg config.Config, st *store.Store, js jetstream.JetStream, ro *roster.Roster, reg prometheus.Registerer, log *slog.Logger) (*enrich.Service, error) {
	r, gen, err := kvRoster(ctx, cfg, js, ro, log)
	if err != nil {
		return nil, err
	}
	cls, err := newClassifier(ctx, cfg, st, log)
	if err != nil {
		return nil, err
	}
	return enrich.New(enrich.Options{Store: st, JS: js, Company: cfg.Company, Identities: cfg.Identities,
		Roster: r, Generation: gen, Classifier: cls, Registry: reg, Log: log})
}

// buildReport is the one way the report service is built from the configuration, by
// `giveback report` and `giveback up`; a bad identities.affiliations file is an error. ro is
// the roster it reads end dates and opt-outs from (reportRoster).
func buildReport(cfg config.Config, st *store.Store, sources report.SourceBuckets, ro func() *roster.Roster, log *slog.Logger, extra ...func(*report.Options)) (*report.Server, error) {
	opts := report.Options{Store: st, Log: log, Company: cfg.Company.Name, Query: cfg.Query, Sources: sources, Roster: ro,
		Live: sources.JS, Privacy: cfg.Privacy, PageStaleness: cfg.HTTP.PageStaleness.D(), Prewarm: true}
	for _, f := range extra {
		f(&opts)
	}
	if p := cfg.Identities.Affiliations; p != "" {
		af, err := report.LoadAffiliations(cfg.Path(p))
		if err != nil {
			return nil, err
		}
		log.Info("affiliations loaded", slog.String("file", cfg.Path(p)), slog.Int("logins", af.Len()))
		opts.Affiliations = af
	}
	return report.New(opts)
}

func cmdMigrate(ctx context.Context, args []string, stderr io.Writer) error {
	var c common
	fs := newFlags("migrate", "migrate --config FILE [--clickhouse DSN]", stderr)
	c.register(fs, false, true)
	cfg, log, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("migrations applied")
	return st.Close()
}

func cmdHealthcheck(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("healthcheck", "healthcheck --url http://127.0.0.1:8080/healthz", stderr)
	url := fs.String("url", "http://127.0.0.1:8080/healthz", "URL that must answer 2xx")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := ops.HealthCheck(ctx, *url); err != nil {
		return fmt.Errorf("%w", err)
	}
	return nil
}
