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

	"giveback.dev/cmd/giveback/internal/demo"
	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/deps"
	"giveback.dev/platform/ops"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/services/ingest"
	"giveback.dev/services/ingest/webhook"
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
	embedded bool   // the NATS server is this process's

	group    *errgroup.Group
	cleanups []func()
	log      *slog.Logger
}

// startStack starts the stack and returns once its HTTP address listens: NATS and ClickHouse
// (embedded unless the config names servers), the roster and company seeded into NATS KV, and
// each service built as its own command builds it.
func startStack(parent context.Context, o stackOptions) (_ *stack, err error) {
	log, cfg := o.log, o.cfg
	s := &stack{log: log, dataDir: o.dataDir}
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
	if err := s.startNATS(&cfg); err != nil {
		return nil, err
	}
	st, err := s.openStore(parent, &cfg)
	if err != nil {
		return nil, err
	}
	if o.demo {
		if err := importDemoDependencies(parent, st, filepath.Join(o.dataDir, "demo", "manifests"), log); err != nil {
			return nil, err
		}
	}
	if err := s.seed(parent, cfg); err != nil {
		return nil, err
	}
	return s, s.run(parent, cfg, st, ro, o)
}

// startNATS starts the embedded NATS server unless the config names one, and points cfg at it.
// The embedded server requires a user per service, with passwords generated at the first start
// into DATA/nats/credentials.json (mode 0600), where the administration commands find them
// (--data).
func (s *stack) startNATS(cfg *config.Config) error {
	if cfg.NATS.URL != "" {
		s.natsURL = cfg.NATS.URL
		return nil
	}
	dir := filepath.Join(s.dataDir, "nats")
	pw, err := bus.LoadOrCreatePasswords(filepath.Join(dir, bus.CredentialsFileName))
	if err != nil {
		return err
	}
	srv, err := bus.StartServer(bus.ServerOptions{Dir: dir, Addr: cfg.NATS.ListenAddr, Passwords: pw,
		CertFile: cfg.Path(cfg.NATS.TLS.ServerCertFile), KeyFile: cfg.Path(cfg.NATS.TLS.ServerKeyFile)})
	if err != nil {
		return err
	}
	s.cleanups = append(s.cleanups, srv.Shutdown)
	s.embedded = true
	s.natsURL = srv.URL()
	cfg.NATS.URL = s.natsURL
	cfg.NATS.CredentialsFile = filepath.Join(dir, bus.CredentialsFileName)
	cfg.NATS.User = ""
	return nil
}

// connect connects to NATS as the user of name (connectBus), drained when the stack stops.
func (s *stack) connect(ctx context.Context, cfg config.Config, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, js, err := connectBus(ctx, cfg, name)
	if err != nil {
		return nil, nil, err
	}
	s.cleanups = append(s.cleanups, func() { bus.Drain(nc, 10*time.Second) })
	return nc, js, nil
}

// openStore opens ClickHouse, embedded under the data directory unless the config names a
// server, closed when the stack stops.
func (s *stack) openStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	if cfg.ClickHouse.DSN == "" {
		abs, err := filepath.Abs(filepath.Join(s.dataDir, "clickhouse"))
		if err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		cfg.ClickHouse.DSN = "chdb://" + abs
	}
	st, err := openStore(ctx, *cfg, s.log)
	if err != nil {
		return nil, err
	}
	s.cleanups = append(s.cleanups, func() {
		if err := st.Close(); err != nil {
			s.log.Warn("close store", slog.Any("err", err))
		}
	})
	return st, nil
}

// seed puts the roster file and the company into NATS KV (roster.Seed), as the administrator
// of the embedded server, so commands talking to this instance (a backfill) use what it
// attributes by. A roster stored by `giveback roster load` stays. Against a NATS server of its
// own the deployment's `giveback roster load` does it.
func (s *stack) seed(ctx context.Context, cfg config.Config) error {
	if !s.embedded {
		s.log.Info("roster and company not put into NATS KV by up on a NATS server of its own; `giveback roster load` does it")
		return nil
	}
	var data []byte
	if cfg.Roster != "" {
		var err error
		if data, err = os.ReadFile(cfg.Path(cfg.Roster)); err != nil {
			return fmt.Errorf("roster: %w", err)
		}
	}
	nc, _, kv, err := rosterBucket(ctx, cfg)
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 10*time.Second)
	return roster.Seed(ctx, kv, data, companyOf(cfg))
}

// run builds the three services on their own NATS users, mounts them on one HTTP address and
// runs them until ctx ends or one fails; it returns once the address listens.
func (s *stack) run(parent context.Context, cfg config.Config, st *store.Store, ro *roster.Roster, o stackOptions) error {
	log := s.log
	reg := ops.NewRegistry()
	_, jsIngest, err := s.connect(parent, cfg, "ingest")
	if err != nil {
		return err
	}
	ncEnrich, jsEnrich, err := s.connect(parent, cfg, "enrich")
	if err != nil {
		return err
	}
	_, jsReport, err := s.connect(parent, cfg, "report")
	if err != nil {
		return err
	}
	ing, err := ingest.FromConfig(parent, cfg, jsIngest, ro, reg, log)
	if err != nil {
		return err
	}
	enr, err := buildEnrich(parent, cfg, st, jsEnrich, ro, reg, log)
	if err != nil {
		return err
	}
	sources, err := report.OpenSources(parent, jsReport)
	if err != nil {
		return err
	}
	if o.demo && len(cfg.Reports) == 0 {
		capture, err := demoReport(&cfg, filepath.Join(o.dataDir, "demo"))
		if err != nil {
			return err
		}
		s.cleanups = append(s.cleanups, func() { capture.Close() })
	}
	scheduled, err := startReports(parent, cfg, st, jsReport, reg, log)
	if err != nil {
		return err
	}
	rep, err := buildReport(cfg, st, sources, reportRoster(jsReport, ro, log), log, withReports(scheduled))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", rep.Handler())
	mux.Handle(webhook.Path, ing.WebhookHandler())
	ops.Handle(mux, reg,
		ops.Check{Name: "nats", Fn: func(context.Context) error { return connected(ncEnrich) }},
		ops.Check{Name: "clickhouse", Fn: rep.Ready},
		ops.Check{Name: "enrich", Fn: enr.Ready},
	)
	actors := []func(context.Context) error{enr.Run, ing.Run, rep.Run}
	backfill := func(context.Context) error { return nil }
	if o.demo {
		dir := filepath.Join(o.dataDir, "demo")
		backfill = func(ctx context.Context) error { return runDemoBackfill(ctx, ing, dir, log) }
	}
	if scheduled != nil {
		// The demo's first report waits for the demo data.
		actors = append(actors, runReportsAfter(backfill, scheduled, settleFor(o.demo, st, log)))
	} else if o.demo {
		actors = append(actors, backfill)
	}
	return s.serve(parent, cfg, jsReport, mux, actors)
}

// serve runs the HTTP server and the actors in the stack's group and waits until the address
// listens.
func (s *stack) serve(parent context.Context, cfg config.Config, js jetstream.JetStream, mux *http.ServeMux, actors []func(context.Context) error) error {
	g, ctx := errgroup.WithContext(parent)
	s.group = g
	guard, err := newGuard(ctx, cfg, cfg.HTTP.Addr, js, s.log)
	if err != nil {
		return err
	}
	listening := make(chan net.Addr, 1)
	g.Go(func() error {
		return ops.ServeWith(ctx, cfg.HTTP.Addr, guard.Wrap(mux), ops.LimitsFor(cfg.Query.MaxTime.D()), s.log, func(a net.Addr) { listening <- a })
	})
	// The guard's token loops end with ctx; the group joins them.
	g.Go(func() error { <-ctx.Done(); guard.Wait(); return nil })
	for _, a := range actors {
		g.Go(func() error { return a(ctx) })
	}
	select {
	case a := <-listening:
		s.httpAddr = a
		return nil
	case <-ctx.Done():
		if err := g.Wait(); err != nil {
			return err
		}
		return ctx.Err()
	}
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
	id, ds, unmapped, err := st.ImportDependencies(ctx, ms)
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
