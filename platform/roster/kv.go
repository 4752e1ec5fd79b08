package roster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// The roster-change protocol. A running instance keeps the roster it attributes by in a NATS KV
// bucket: the file's bytes under events.KeyRosterCurrent and a decimal generation under
// events.KeyRosterGeneration, which `giveback roster load` bumps (Store) before it announces an
// events.RosterChange. `giveback up` seeds the bucket with its roster file and company at start
// (Seed) until a roster is loaded, so the commands that talk to a running instance (a backfill)
// find what it attributes by. This file holds the protocol; Parse stays free of NATS.

// FromKV reads the roster kept in kv and its generation. found is false, with no error, when no
// roster is there; a roster seeded by Seed and never loaded has generation 0.
func FromKV(ctx context.Context, kv jetstream.KeyValue) (r *Roster, generation uint32, found bool, err error) {
	e, err := kv.Get(ctx, events.KeyRosterCurrent)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("roster: read from kv: %w", err)
	}
	if r, err = Parse(bytes.NewReader(e.Value())); err != nil {
		return nil, 0, false, fmt.Errorf("roster in kv: %w", err)
	}
	generation, _, err = generationIn(ctx, kv)
	if err != nil {
		return nil, 0, false, err
	}
	return r, generation, true, nil
}

// generationIn reads the roster generation; loaded is false when `giveback roster load` never
// stored one.
func generationIn(ctx context.Context, kv jetstream.KeyValue) (generation uint32, loaded bool, err error) {
	g, err := kv.Get(ctx, events.KeyRosterGeneration)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("roster: read generation from kv: %w", err)
	}
	n, err := strconv.ParseUint(string(g.Value()), 10, 32)
	if err != nil || n > events.MaxGeneration {
		return 0, false, fmt.Errorf("roster generation in kv: %q is not a number up to %d", g.Value(), events.MaxGeneration)
	}
	return uint32(n), true, nil
}

// Announce publishes a roster change on events.SubjectRoster under a message id.
type Announce func(ctx context.Context, msgID string, data []byte) error

// Store compares data, a roster file's bytes (refused whole when a row is bad), with the roster
// in kv and, when it differs, stores it, bumps the generation and announces the change. It
// returns nil when the roster is unchanged.
func Store(ctx context.Context, kv jetstream.KeyValue, data []byte, announce Announce) (*events.RosterChange, error) {
	cur, err := Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	old, gen, found, err := FromKV(ctx, kv)
	if err != nil {
		return nil, err
	}
	if found && old.Digest == cur.Digest {
		return nil, nil
	}
	if gen >= events.MaxGeneration {
		return nil, fmt.Errorf("roster: generation %d is the last one stored versions can carry", gen)
	}
	changed := Changed(old, cur)
	// The roster first, then the generation enrich watches: a replica that sees the new
	// generation reads the new roster.
	if _, err := kv.Put(ctx, events.KeyRosterCurrent, data); err != nil {
		return nil, fmt.Errorf("roster: store in kv: %w", err)
	}
	next := strconv.FormatUint(uint64(gen+1), 10)
	if _, err := kv.Put(ctx, events.KeyRosterGeneration, []byte(next)); err != nil {
		return nil, fmt.Errorf("roster: store generation in kv: %w", err)
	}
	ch := &events.RosterChange{Schema: events.SchemaRoster, ChangedAt: time.Now().UTC(), Digest: cur.Digest, Logins: changed}
	msg, err := json.Marshal(ch)
	if err != nil {
		return nil, fmt.Errorf("roster: encode change: %w", err)
	}
	if err := announce(ctx, "roster:"+next+":"+cur.Digest, msg); err != nil {
		return nil, fmt.Errorf("roster: announce: %w", err)
	}
	return ch, nil
}

// Seed puts a running instance's roster file (data; nil keeps the bucket's) and company into kv,
// so commands talking to the instance use them. A roster stored by `giveback roster load`
// (a generation is set) is left as it is: only a seeded roster follows the file. Nothing is
// announced: enrich starts with the same roster, so there is nothing to re-attribute.
func Seed(ctx context.Context, kv jetstream.KeyValue, data []byte, company events.Company) error {
	if data != nil {
		if _, err := Parse(bytes.NewReader(data)); err != nil {
			return err
		}
		_, loaded, err := generationIn(ctx, kv)
		if err != nil {
			return err
		}
		if !loaded {
			if _, err := kv.Put(ctx, events.KeyRosterCurrent, data); err != nil {
				return fmt.Errorf("roster: seed kv: %w", err)
			}
		}
	}
	return PutCompany(ctx, kv, company)
}

// PutCompany stores who the company is (its name, GitHub orgs and e-mail domains) beside the
// roster.
func PutCompany(ctx context.Context, kv jetstream.KeyValue, c events.Company) error {
	c.Schema = events.SchemaCompany
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("roster: encode company: %w", err)
	}
	if _, err := kv.Put(ctx, events.KeyRosterCompany, b); err != nil {
		return fmt.Errorf("roster: store company in kv: %w", err)
	}
	return nil
}

// CompanyFromKV reads the company a running instance stored beside its roster; found is false,
// with no error, when none is there.
func CompanyFromKV(ctx context.Context, kv jetstream.KeyValue) (c events.Company, found bool, err error) {
	e, err := kv.Get(ctx, events.KeyRosterCompany)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("roster: read company from kv: %w", err)
	}
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return c, false, fmt.Errorf("roster: company in kv: %w", err)
	}
	return c, true, nil
}

// Follow calls apply with the roster in kv (the one enrich attributes by), or fallback when there
// is none or it cannot be read, and again each time it changes, until ctx ends. A roster in kv
// that does not parse is logged and skipped: apply keeps the previous one. The returned wait
// returns once following has stopped (ctx ended and the last apply returned).
func Follow(ctx context.Context, kv jetstream.KeyValue, fallback *Roster, log *slog.Logger, apply func(*Roster)) (wait func()) {
	var wg sync.WaitGroup
	if r, _, found, err := FromKV(ctx, kv); err != nil {
		log.Warn("roster in NATS KV unreadable; collecting by the roster file", slog.Any("err", err))
		apply(fallback)
	} else if found {
		apply(r)
	} else {
		apply(fallback)
	}
	w, err := kv.Watch(ctx, events.KeyRosterCurrent, jetstream.UpdatesOnly())
	if err != nil {
		log.Warn("cannot follow roster changes; collection keeps the roster it started with", slog.Any("err", err))
		return wg.Wait
	}
	wg.Go(func() {
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
				r, err := Parse(bytes.NewReader(e.Value()))
				if err != nil {
					log.Warn("new roster in NATS KV refused; collection keeps the previous one", slog.Any("err", err))
					continue
				}
				apply(r)
				log.Info("collection follows the new roster", slog.Int("logins", len(r.Logins())))
			}
		}
	})
	return wg.Wait
}

// Starting returns the roster a service starts with: the one in kv when there is one (so every
// replica has the same), with its generation, else file with generation 0. A file that differs
// from a loaded roster is logged: `giveback roster load` makes it the roster.
func Starting(ctx context.Context, kv jetstream.KeyValue, file *Roster, log *slog.Logger) (*Roster, uint32, error) {
	r, gen, found, err := FromKV(ctx, kv)
	if err != nil {
		return nil, 0, err
	}
	if !found {
		return file, 0, nil
	}
	if file != nil && file.Digest != "" && file.Digest != r.Digest {
		log.Warn("the roster file differs from the loaded roster; run `giveback roster load` to use it")
	}
	log.Info("roster read from nats", slog.Int("periods", len(r.Periods)), slog.Uint64("generation", uint64(gen)))
	return r, gen, nil
}
