package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
)

// cmdRoster runs `giveback roster load`: it hands the configured roster to every enrich replica
// through the NATS KV bucket and announces what changed (roster.Store), so enrich re-attributes
// the history of those people without collecting again. With --config it also stores the
// company beside the roster.
func cmdRoster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "load" {
		fmt.Fprintln(stderr, "Usage: giveback roster load --config FILE [--nats URL] [--roster FILE]")
		return errors.New("roster: the subcommand is load")
	}
	var c common
	fs := newFlags("roster load", "roster load --config FILE [--nats URL] [--roster FILE]", stderr)
	c.register(fs, true, false)
	path := fs.String("roster", "", "roster CSV, overriding roster of the config")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	file := cfg.Path(cfg.Roster)
	if *path != "" {
		file = *path
	}
	if file == "" {
		return errors.New("roster: no roster file: set roster in the config or give --roster")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("roster: %w", err)
	}
	if _, err := roster.Parse(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("roster %s: %w", file, err)
	}
	nc, js, kv, err := rosterBucket(ctx, cfg)
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 10*time.Second)
	if c.configPath != "" {
		if err := roster.PutCompany(ctx, kv, companyOf(cfg)); err != nil {
			return err
		}
	}
	ch, err := roster.Store(ctx, kv, data, announcer(js))
	if err != nil {
		return err
	}
	if ch == nil {
		fmt.Fprintln(stdout, "roster unchanged")
		return nil
	}
	log.Info("roster loaded", slog.String("digest", ch.Digest), slog.Int("changed", len(ch.Logins)))
	fmt.Fprintf(stdout, "roster loaded: %d logins and e-mails changed; enrich re-attributes their history\n", len(ch.Logins))
	return nil
}

// announcer publishes roster changes on events.SubjectRoster and waits until the stream has them.
func announcer(js jetstream.JetStream) roster.Announce {
	return func(ctx context.Context, msgID string, data []byte) error {
		pub := bus.NewPublisher(js)
		if err := pub.PublishData(ctx, events.SubjectRoster, msgID, data); err != nil {
			return err
		}
		return pub.Flush(ctx)
	}
}

// companyOf returns the company section of the configuration as stored beside the roster.
func companyOf(cfg config.Config) events.Company {
	return events.Company{Name: cfg.Company.Name, GitHubOrgs: cfg.Company.GitHubOrgs, EmailDomains: cfg.Company.EmailDomains}
}

// kvRoster returns the roster a running instance attributes by, the one in its NATS KV bucket,
// with its generation; file (the configured roster) when the bucket holds none.
func kvRoster(ctx context.Context, cfg config.Config, js jetstream.JetStream, file *roster.Roster, log *slog.Logger) (*roster.Roster, uint32, error) {
	kv, err := js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		return nil, 0, fmt.Errorf("roster: bucket %s: %w", events.BucketRoster, err)
	}
	if cfg.Roster != "" {
		log = log.With(slog.String("file", cfg.Path(cfg.Roster)))
	}
	return roster.Starting(ctx, kv, file, log)
}

// rosterBucket connects to NATS as the administrator, who alone writes the roster, and opens the
// roster bucket. The caller drains nc.
func rosterBucket(ctx context.Context, cfg config.Config) (*nats.Conn, jetstream.JetStream, jetstream.KeyValue, error) {
	nc, js, err := connectBus(ctx, cfg, "roster")
	if err != nil {
		return nil, nil, nil, err
	}
	kv, err := js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		nc.Close()
		return nil, nil, nil, fmt.Errorf("roster: bucket %s: %w", events.BucketRoster, err)
	}
	return nc, js, kv, nil
}

// rosterTTL is how long the report service keeps the roster it read from NATS KV.
const rosterTTL = 30 * time.Second

// reportRoster returns the roster the report service reads (report.Options.Roster): the one the
// running instance attributes by, in the NATS KV bucket (a `giveback roster load` shows within
// rosterTTL), else file, the configured one, when there is no NATS or the bucket holds none or
// cannot be read.
func reportRoster(js jetstream.JetStream, file *roster.Roster, log *slog.Logger) func() *roster.Roster {
	if js == nil {
		return func() *roster.Roster { return file }
	}
	var mu sync.Mutex
	cur, at := file, time.Time{}
	return func() *roster.Roster {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) < rosterTTL {
			return cur
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		at = time.Now()
		kv, err := js.KeyValue(ctx, events.BucketRoster)
		if err != nil {
			log.Warn("report: roster bucket; using the configured roster", slog.Any("err", err))
			return cur
		}
		r, _, found, err := roster.FromKV(ctx, kv)
		switch {
		case err != nil:
			log.Warn("report: roster in NATS KV; keeping the last one read", slog.Any("err", err))
		case found:
			cur = r
		}
		return cur
	}
}
