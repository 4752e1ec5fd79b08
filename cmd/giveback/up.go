package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/deps"
	"giveback.dev/platform/events"
	"giveback.dev/platform/ops"
	"giveback.dev/platform/store"
	"giveback.dev/services/enrich"
	"giveback.dev/services/ingest"
	"giveback.dev/services/ingest/demo"
	"giveback.dev/services/report"
)

func cmdUp(ctx context.Context, args []string, stderr io.Writer) error {
	var c common
	fs := newFlags("up", "up [--config FILE] [--data DIR] [--addr HOST:PORT] [--nats-addr HOST:PORT] [--demo]", stderr)
	c.register(fs, false, false)
	data := fs.String("data", "./data", "data directory: NATS JetStream and ClickHouse files live here; a restart keeps them")
	addr := fs.String("addr", "", "HTTP address of the dashboard, API, webhooks, health and metrics (default http.addr of the config, 127.0.0.1:8080)")
	natsAddr := fs.String("nats-addr", "", "address the embedded NATS server listens on (default nats.listen of the config, 127.0.0.1:4222)")
	withDemo := fs.Bool("demo", false, "fill the instance with a fictional company's two years of activity (no token, no network)")
	cfg, log, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.HTTP.Addr = *addr
	}
	if *natsAddr != "" {
		cfg.NATS.ListenAddr = *natsAddr
	}
	st, err := startStack(ctx, stackOptions{cfg: cfg, dataDir: *data, demo: *withDemo, log: log})
	if err != nil {
		return err
	}
	log.Info("giveback is up", slog.String("dashboard", "http://"+st.httpAddr.String()+"/"), slog.String("nats", st.natsURL))
	return st.wait()
}

type stackOptions struct {
	cfg     config.Config
	dataDir string
	demo    bool
	log     *slog.Logger
}

// stack is the whole pipeline in one process: embedded NATS and chDB, and the three services,
// which still talk to each other only through NATS.
type stack struct {
	httpAddr net.Addr
	natsURL  string
	dataDir  string // where the NATS credentials of the embedded server are
	store    *store.Store
	ingest   *ingest.Service
	enrich   *enrich.Service

	group    *errgroup.Group
	cleanups []func()
	log      *slog.Logger
}

func startStack(parent context.Context, o stackOptions) (_ *stack, err error) {
	log := o.log
	cfg := o.cfg
	s := &stack{log: log}
	defer func() {
		if err != nil {
			s.cleanup()
		}
	}()
	if err := os.MkdirAll(o.dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if o.demo {
		if err := prepareDemo(&cfg, filepath.Join(o.dataDir, "demo"), log); err != nil {
			return nil, err
		}
	}
	ro, err := loadRoster(cfg, log)
	if err != nil {
		return nil, err
	}

	// NATS, embedded unless the config names a server.
	// The embedded server requires a user per service, with passwords generated at the first
	// start into DATA/nats/credentials.json (mode 0600), where the administration commands
	// find them (--data).
	natsURL := cfg.NATS.URL
	if natsURL == "" {
		dir := filepath.Join(o.dataDir, "nats")
		pw, err := bus.LoadOrCreatePasswords(filepath.Join(dir, bus.CredentialsFileName))
		if err != nil {
			return nil, err
		}
		srv, err := bus.StartServer(bus.ServerOptions{Dir: dir, Addr: cfg.NATS.ListenAddr, Passwords: pw,
			CertFile: cfg.Path(cfg.NATS.TLS.ServerCertFile), KeyFile: cfg.Path(cfg.NATS.TLS.ServerKeyFile)})
		if err != nil {
			return nil, err
		}
		s.cleanups = append(s.cleanups, srv.Shutdown)
		natsURL = srv.URL()
		cfg.NATS.CredentialsFile = filepath.Join(dir, bus.CredentialsFileName)
		cfg.NATS.User = ""
	}
	s.natsURL = natsURL
	s.dataDir = o.dataDir
	connect := func(name string) (*nats.Conn, jetstream.JetStream, error) {
		cr, err := busCredentials(cfg, name)
		if err != nil {
			return nil, nil, err
		}
		nc, js, err := bus.Connect(natsURL, name, cr)
		if err != nil {
			return nil, nil, err
		}
		s.cleanups = append(s.cleanups, func() { bus.Drain(nc, 10*time.Second) })
		if busUser(name) == bus.UserReport {
			return nc, js, nil
		}
		if err := bus.EnsureStreams(parent, js, bus.StreamOptions{Replicas: cfg.NATS.Replicas, RawMaxAge: cfg.Retention.RawStream.D()}); err != nil {
			return nil, nil, err
		}
		return nc, js, nil
	}

	// ClickHouse, embedded unless the config names a server.
	if cfg.ClickHouse.DSN == "" {
		abs, err := filepath.Abs(filepath.Join(o.dataDir, "clickhouse"))
		if err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		cfg.ClickHouse.DSN = "chdb://" + abs
	}
	st, err := openStore(parent, cfg, log)
	if err != nil {
		return nil, err
	}
	s.store = st
	s.cleanups = append(s.cleanups, func() {
		if err := st.Close(); err != nil {
			log.Warn("close store", slog.Any("err", err))
		}
	})
	if o.demo {
		if err := importDemoDependencies(parent, st, filepath.Join(o.dataDir, "demo", "manifests"), log); err != nil {
			return nil, err
		}
	}

	reg := ops.NewRegistry()
	_, jsIngest, err := connect("ingest")
	if err != nil {
		return nil, err
	}
	ncEnrich, jsEnrich, err := connect("enrich")
	if err != nil {
		return nil, err
	}
	if s.ingest, err = newIngest(parent, cfg, jsIngest, ro, reg, log); err != nil {
		return nil, err
	}
	s.enrich = enrich.New(st, jsEnrich, cfg.Company, ro, reg, log)
	s.enrich.SetIdentities(cfg.Identities)
	enrichRoster, gen, err := rosterFor(parent, cfg, jsEnrich, ro, log)
	if err != nil {
		return nil, err
	}
	s.enrich.SetRosterGeneration(enrichRoster, gen)
	_, jsReport, err := connect("report")
	if err != nil {
		return nil, err
	}
	cursors, err := jsReport.KeyValue(parent, events.BucketCursors)
	if err != nil {
		return nil, fmt.Errorf("cursor bucket: %w", err)
	}
	rep, err := newReport(cfg, st, cursors, log)
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/", rep.Handler())
	mux.Handle("/webhooks/github", s.ingest.WebhookHandler())
	ops.Handle(mux, reg,
		ops.Check{Name: "nats", Fn: func(context.Context) error { return connected(ncEnrich) }},
		ops.Check{Name: "clickhouse", Fn: rep.Ready},
	)

	g, ctx := errgroup.WithContext(parent)
	s.group = g
	guard, err := newGuard(ctx, cfg, cfg.HTTP.Addr, jsReport, log)
	if err != nil {
		return nil, err
	}
	cls, err := newClassifier(ctx, cfg, st, log)
	if err != nil {
		return nil, err
	}
	s.enrich.SetClassifier(cls)
	listening := make(chan net.Addr, 1)
	g.Go(func() error {
		return ops.ServeWith(ctx, cfg.HTTP.Addr, guard.Wrap(mux), ops.LimitsFor(cfg.Query.MaxTime.D()), log, func(a net.Addr) { listening <- a })
	})
	g.Go(func() error { return s.enrich.Run(ctx) })
	g.Go(func() error { return s.ingest.Run(ctx) })
	if o.demo {
		g.Go(func() error { return runDemoBackfill(ctx, s.ingest, filepath.Join(o.dataDir, "demo"), log) })
	}
	select {
	case a := <-listening:
		s.httpAddr = a
	case <-ctx.Done():
		return nil, g.Wait()
	}
	return s, nil
}

func connected(nc *nats.Conn) error {
	if nc.IsConnected() {
		return nil
	}
	return fmt.Errorf("nats: %s", nc.Status())
}

// wait blocks until the services stop (the context ended or one failed), then drains NATS,
// closes the store and stops the embedded servers.
func (s *stack) wait() error {
	err := s.group.Wait()
	s.cleanup()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	s.log.Info("giveback stopped")
	return err
}

func (s *stack) cleanup() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	s.cleanups = nil
}

// newReport builds the report service; a bad identities.affiliations file is an error.
func newReport(cfg config.Config, st *store.Store, sources jetstream.KeyValue, log *slog.Logger) (*report.Server, error) {
	opts := report.Options{Company: cfg.Company.Name, Query: cfg.Query, Sources: sources}
	if p := cfg.Identities.Affiliations; p != "" {
		af, err := report.LoadAffiliations(cfg.Path(p))
		if err != nil {
			return nil, err
		}
		log.Info("affiliations loaded", slog.String("file", cfg.Path(p)), slog.Int("logins", af.Len()))
		opts.Affiliations = af
	}
	return report.New(st, opts, log), nil
}

// importDemoDependencies makes the demo company's manifests its dependency list, unless a list
// was imported already (by an earlier start, or by hand with giveback deps import).
func importDemoDependencies(ctx context.Context, st *store.Store, dir string, log *slog.Logger) error {
	if _, _, ok, err := st.ListDependencies(ctx); err != nil || ok {
		return err
	}
	ms, errs := deps.Load([]string{dir})
	if len(errs) > 0 {
		return fmt.Errorf("demo: dependencies: %w", errors.Join(errs...))
	}
	id, ds, unmapped, err := replaceDependencies(ctx, st, ms)
	if err != nil {
		return fmt.Errorf("demo: dependencies: %w", err)
	}
	log.Info("demo dependency list imported", slog.String("import", id), slog.Int("services", len(ms)),
		slog.Int("repositories", len(ds)), slog.Int("unmapped", len(unmapped)))
	return nil
}

// prepareDemo writes the demo company's roster and GH Archive hours once, and points the
// configuration at them.
func prepareDemo(cfg *config.Config, dir string, log *slog.Logger) error {
	g := demo.NewGenerator(demo.Options{Seed: 1})
	co := g.Company()
	cfg.Company = config.Company{Name: co.Name, GitHubOrgs: co.Orgs, EmailDomains: co.EmailDomains}
	rosterPath := filepath.Join(dir, "roster.csv")
	cfg.Roster = rosterPath
	// The go.mod files of the demo company's services: its dependency list (written apart from
	// the hours, so a data directory from before they existed gets them too).
	if _, err := os.Stat(filepath.Join(dir, "manifests")); err != nil {
		if _, err := g.WriteManifests(filepath.Join(dir, "manifests")); err != nil {
			return err
		}
	}
	done := filepath.Join(dir, ".generated")
	if _, err := os.Stat(done); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "hours"), 0o750); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	f, err := os.Create(rosterPath)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := g.RosterCSV(f); err != nil {
		f.Close()
		return fmt.Errorf("demo: roster: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("demo: roster: %w", err)
	}
	start := time.Now()
	files, n, err := g.WriteHours(filepath.Join(dir, "hours"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	log.Info("demo data generated", slog.Int("hour_files", files), slog.Int("events", n), slog.Duration("took", time.Since(start)))
	return os.WriteFile(done, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o640)
}
