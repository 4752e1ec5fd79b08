package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/ops"
	"giveback.dev/platform/repoclass"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
)

// subcommand splits the arguments of a command group (reports, tokens, deadletter, deps) into
// its subcommand, one of subs, and that subcommand's arguments. No subcommand, or one not in
// subs, prints usage to stderr and returns an error naming the choices; a help flag prints
// usage to stdout and returns flag.ErrHelp.
func subcommand(group, usage string, subs []string, args []string, stdout, stderr io.Writer) (string, []string, error) {
	want := strings.Join(subs[:len(subs)-1], ", ") + " or " + subs[len(subs)-1]
	if len(args) == 0 {
		fmt.Fprintln(stderr, strings.TrimRight(usage, "\n"))
		return "", nil, fmt.Errorf("%s: give a subcommand: %s", group, want)
	}
	switch sub := args[0]; {
	case sub == "-h" || sub == "--help" || sub == "help":
		fmt.Fprintln(stdout, strings.TrimRight(usage, "\n"))
		return "", nil, flag.ErrHelp
	case slices.Contains(subs, sub):
		return sub, args[1:], nil
	default:
		fmt.Fprintln(stderr, strings.TrimRight(usage, "\n"))
		return "", nil, fmt.Errorf("%s: unknown subcommand %q: want %s", group, sub, want)
	}
}

// common are the flags every service command takes.
type common struct {
	configPath string
	logLevel   string
	logFormat  string
	natsURL    string
	clickhouse string
	natsData   string // data directory of a running `giveback up`, for its NATS credentials
}

func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("giveback "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: giveback %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func (c *common) register(fs *flag.FlagSet, withNATS, withClickHouse bool) {
	fs.StringVar(&c.configPath, "config", "", "configuration file (YAML); see giveback.example.yaml")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	if withNATS {
		fs.StringVar(&c.natsURL, "nats", "", "NATS URL, overriding nats.url of the config")
		fs.StringVar(&c.natsData, "data", "./data", "data directory of a running giveback up: its NATS credentials are used when the config names none")
	}
	if withClickHouse {
		fs.StringVar(&c.clickhouse, "clickhouse", "", "ClickHouse DSN, overriding clickhouse.dsn of the config")
	}
}

// parse parses the command line, then loads the configuration as load does.
func (c *common) parse(fs *flag.FlagSet, args []string) (config.Config, *slog.Logger, error) {
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, err
	}
	return c.load()
}

// load reads the config, applies the flag overrides and builds the logger.
func (c *common) load() (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return cfg, nil, err
	}
	if c.natsURL != "" {
		cfg.NATS.URL = c.natsURL
	}
	if c.clickhouse != "" {
		cfg.ClickHouse.DSN = c.clickhouse
	}
	if err := localCredentials(&cfg, c.natsData); err != nil {
		return cfg, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, err
	}
	log, err := ops.Logger(c.logFormat, c.logLevel)
	if err != nil {
		return cfg, nil, err
	}
	return cfg, log, nil
}

// openStore connects to ClickHouse as configured and applies the migrations.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, error) {
	if cfg.ClickHouse.DSN == "" {
		return nil, fmt.Errorf("clickhouse.dsn is not set: give clickhouse://host:9000/db (or chdb:///dir) in the config or --clickhouse")
	}
	password, err := config.Secret(cfg.ClickHouse.PasswordEnv, cfg.ClickHouse.PasswordFile)
	if err != nil {
		return nil, err
	}
	conn, err := dialStore(ctx, store.Options{DSN: cfg.ClickHouse.DSN, Database: cfg.ClickHouse.Database, DatabaseEngine: cfg.ClickHouse.DatabaseEngine, Password: password}, log)
	if err != nil {
		return nil, err
	}
	st := store.New(conn)
	if err := st.Migrate(ctx, log); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.SetRawRetention(ctx, cfg.Retention.RawEvents.D(), log); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// dialStore opens a connection, retrying for about a minute while a server starting beside
// this process does not answer yet.
func dialStore(ctx context.Context, o store.Options, log *slog.Logger) (store.Conn, error) {
	for attempt := 1; ; attempt++ {
		conn, err := store.Open(ctx, o)
		if err == nil || attempt == 10 || ctx.Err() != nil {
			return conn, err
		}
		log.Warn("clickhouse not reachable yet, retrying", slog.Int("attempt", attempt), slog.Any("err", err))
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
}

// openReader connects `giveback report` to ClickHouse. On a server with clickhouse.reader_user
// set it connects as that read-only user, with the reader's password only, and neither creates
// the database nor migrates it (the migrate job does, as the writer). Otherwise it is openStore.
func openReader(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, error) {
	if cfg.ClickHouse.ReaderUser == "" || strings.HasPrefix(cfg.ClickHouse.DSN, "chdb:") {
		return openStore(ctx, cfg, log)
	}
	password, err := config.Secret(cfg.ClickHouse.ReaderPasswordEnv, cfg.ClickHouse.ReaderPasswordFile)
	if err != nil {
		return nil, err
	}
	conn, err := dialStore(ctx, store.Options{DSN: cfg.ClickHouse.DSN, Database: cfg.ClickHouse.Database,
		User: cfg.ClickHouse.ReaderUser, Password: password, Reader: true}, log)
	if err != nil {
		return nil, fmt.Errorf("connect as clickhouse.reader_user %s: %w", cfg.ClickHouse.ReaderUser, err)
	}
	return store.New(conn), nil
}

// newClassifier builds the destination classifier and keeps its dependency list current from
// the store until ctx ends. After the first load and after each change of the list, the stored
// contributions are re-flagged against it (enrich, which calls this, owns the store's writes).
func newClassifier(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) (*repoclass.Classifier, error) {
	cls, err := repoclass.New(cfg.Company.GitHubOrgs, cfg.Dependencies.Foundations, nil)
	if err != nil {
		return nil, err
	}
	reclassify := func(ctx context.Context, deps map[string]int) error {
		start := time.Now()
		err := st.ReclassifyDependencies(ctx, deps)
		switch {
		case err == nil:
			log.Info("stored contributions re-flagged against the dependency list", slog.Int("repositories", len(deps)), slog.Duration("took", time.Since(start)))
		case ctx.Err() == nil:
			log.Warn("stored contributions not re-flagged against the dependency list; retrying at the next poll", slog.Any("err", err), slog.Duration("took", time.Since(start)))
		}
		return err
	}
	if err := cls.WatchFunc(ctx, st.CurrentDependencies, 5*time.Minute, log, reclassify); err != nil {
		log.Warn("dependency list not loaded; contributions are not flagged as dependencies until it is", slog.Any("err", err))
	}
	return cls, nil
}

// loadRoster reads the configured roster; none configured gives an empty roster.
func loadRoster(cfg config.Config, log *slog.Logger) (*roster.Roster, error) {
	if cfg.Roster == "" {
		log.Warn("no roster configured: no contribution is attributed to an employee (set roster in the config)")
		return &roster.Roster{}, nil
	}
	r, err := roster.Load(cfg.Path(cfg.Roster))
	if err != nil {
		return nil, err
	}
	log.Info("roster loaded", slog.Int("periods", len(r.Periods)), slog.Int("logins", len(r.Logins())))
	return r, nil
}
