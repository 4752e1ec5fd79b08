package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/services/enrich"
)

// cmdRoster runs `giveback roster load`: it hands the configured roster to every enrich replica
// through the NATS KV bucket and announces what changed, so enrich re-attributes the history of
// those people without collecting again.
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
	nc, js, err := connectBus(ctx, cfg, "roster")
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 10*time.Second)
	ch, err := loadRosterKV(ctx, js, file)
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

// loadRosterKV reads the roster file (refused whole when a row is bad), compares it with the
// one in the KV bucket, and when it differs stores it, bumps the generation and publishes a
// RosterChange. It returns nil when the roster is unchanged.
func loadRosterKV(ctx context.Context, js jetstream.JetStream, file string) (*events.RosterChange, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	cur, err := roster.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("roster %s: %w", file, err)
	}
	kv, err := js.KeyValue(ctx, events.BucketCursors)
	if err != nil {
		return nil, fmt.Errorf("roster: bucket %s: %w", events.BucketCursors, err)
	}
	old, gen, found, err := enrich.RosterFromKV(ctx, kv)
	if err != nil {
		return nil, err
	}
	if found && old.Digest == cur.Digest {
		return nil, nil
	}
	if gen >= events.MaxGeneration {
		return nil, fmt.Errorf("roster: generation %d is the last one stored versions can carry", gen)
	}
	changed := roster.Changed(old, cur)
	// The roster first, then the generation enrich watches: a replica that sees the new
	// generation reads the new roster.
	if _, err := kv.Put(ctx, events.KeyRosterCurrent, data); err != nil {
		return nil, fmt.Errorf("roster: store in kv: %w", err)
	}
	if _, err := kv.Put(ctx, events.KeyRosterGeneration, []byte(strconv.FormatUint(uint64(gen+1), 10))); err != nil {
		return nil, fmt.Errorf("roster: store generation in kv: %w", err)
	}
	ch := &events.RosterChange{Schema: events.SchemaRoster, ChangedAt: time.Now().UTC(), Digest: cur.Digest, Logins: changed}
	msg, err := json.Marshal(ch)
	if err != nil {
		return nil, fmt.Errorf("roster: encode change: %w", err)
	}
	pub := bus.NewPublisher(js)
	if err := pub.PublishData(ctx, events.SubjectRoster, "roster:"+strconv.FormatUint(uint64(gen+1), 10)+":"+cur.Digest, msg); err != nil {
		return nil, fmt.Errorf("roster: announce: %w", err)
	}
	if err := pub.Flush(ctx); err != nil {
		return nil, fmt.Errorf("roster: announce: %w", err)
	}
	return ch, nil
}

// rosterFor returns the roster enrich starts with: the one in the KV bucket when
// `giveback roster load` put one there (so every replica has the same), else the file's.
func rosterFor(ctx context.Context, cfg config.Config, js jetstream.JetStream, file *roster.Roster, log *slog.Logger) (*roster.Roster, uint32, error) {
	kv, err := js.KeyValue(ctx, events.BucketCursors)
	if err != nil {
		return nil, 0, fmt.Errorf("roster: bucket %s: %w", events.BucketCursors, err)
	}
	r, gen, found, err := enrich.RosterFromKV(ctx, kv)
	if err != nil {
		return nil, 0, err
	}
	if !found {
		return file, 0, nil
	}
	if cfg.Roster != "" && file != nil && file.Digest != r.Digest {
		log.Warn("the roster file differs from the loaded roster; run `giveback roster load` to use it", slog.String("file", cfg.Path(cfg.Roster)))
	}
	log.Info("roster read from nats", slog.Int("periods", len(r.Periods)), slog.Uint64("generation", uint64(gen)))
	return r, gen, nil
}
