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
	"golang.org/x/sync/errgroup"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/ops"
	"giveback.dev/services/enrich"
)

// connectBus connects a standalone service to the configured NATS and declares the streams.
func connectBus(ctx context.Context, cfg config.Config, name string) (*nats.Conn, jetstream.JetStream, error) {
	if cfg.NATS.URL == "" {
		return nil, nil, errors.New("nats.url is not set: give nats://host:4222 in the config or --nats")
	}
	nc, js, err := bus.Connect(cfg.NATS.URL, name)
	if err != nil {
		return nil, nil, err
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{Replicas: cfg.NATS.Replicas}); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// serve runs the HTTP server and the service's actors until ctx ends or one fails.
func serve(ctx context.Context, addr string, mux *http.ServeMux, log *slog.Logger, actors ...func(context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ops.Serve(gctx, addr, mux, log, nil) })
	for _, a := range actors {
		g.Go(func() error { return a(gctx) })
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func cmdIngest(ctx context.Context, args []string, stderr io.Writer) error {
	var c common
	fs := newFlags("ingest", "ingest --config FILE [--nats URL] [--addr HOST:PORT]", stderr)
	c.register(fs, true, false)
	addr := fs.String("addr", ":8081", "HTTP address of the webhook receiver, health and metrics")
	cfg, log, err := c.parse(fs, args)
	if err != nil {
		return err
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
	svc, err := newIngest(ctx, cfg, js, ro, reg, log)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/github", svc.WebhookHandler())
	ops.Handle(mux, reg, ops.Check{Name: "nats", Fn: func(context.Context) error { return connected(nc) }})
	return serve(ctx, *addr, mux, log, svc.Run)
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
	svc := enrich.New(st, js, cfg.Company, ro, reg, log)
	svc.SetIdentities(cfg.Identities)
	enrichRoster, gen, err := rosterFor(ctx, cfg, js, ro, log)
	if err != nil {
		return err
	}
	svc.SetRosterGeneration(enrichRoster, gen)
	cls, err := newClassifier(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	svc.SetClassifier(cls)
	mux := http.NewServeMux()
	ops.Handle(mux, reg,
		ops.Check{Name: "nats", Fn: func(context.Context) error { return connected(nc) }},
		ops.Check{Name: "clickhouse", Fn: func(ctx context.Context) error {
			_, err := st.Query(ctx, "SELECT 1", nil)
			return err
		}},
	)
	return serve(ctx, *addr, mux, log, svc.Run)
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
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// The sources page reads ingest's cursors from NATS when a NATS server is configured.
	var sources jetstream.KeyValue
	if cfg.NATS.URL != "" {
		nc, js, err := connectBus(ctx, cfg, "report")
		if err != nil {
			return err
		}
		defer bus.Drain(nc, 10*time.Second)
		if sources, err = js.KeyValue(ctx, events.BucketCursors); err != nil {
			return fmt.Errorf("cursor bucket: %w", err)
		}
	}
	rep, err := newReport(cfg, st, sources, log)
	if err != nil {
		return err
	}
	reg := ops.NewRegistry()
	mux := http.NewServeMux()
	mux.Handle("/", rep.Handler())
	ops.Handle(mux, reg, ops.Check{Name: "clickhouse", Fn: rep.Ready})
	return serve(ctx, cfg.HTTP.Addr, mux, log)
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
