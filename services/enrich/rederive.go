package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
)

// A roster change re-attributes the stored history without collecting again. `giveback roster
// load` keeps the roster in the KV bucket (events.KeyRosterCurrent, events.KeyRosterGeneration)
// and announces it on events.SubjectRoster. Every enrich replica watches the KV key and swaps
// its roster; the one replica that gets the announcement from the shared durable consumer
// re-derives: it reads the raw records that mention a changed login or e-mail, maps and
// attributes them again with the new roster and generation, and stores the results, whose
// higher version replaces the old rows. An opt-out removes the person's rows and raw records.

// RosterDurable is the name of enrich's consumer of roster changes (events.DurableEnrichRoster);
// replicas share it, so one of them re-derives each change.
const RosterDurable = events.DurableEnrichRoster

// rederivePage is how many raw records one re-derivation step reads.
const rederivePage = 5000

// History is the part of the store a re-derivation needs besides Store.
type History interface {
	RawMentioning(ctx context.Context, needles []string, after store.RawKey, limit int) ([]events.Raw, error)
	DeleteRaw(ctx context.Context, keys []store.RawKey) error
	DeleteContributionsOf(ctx context.Context, identities []string) error
	DeleteUnmatched(ctx context.Context, identities []string) error
}

// setRosterGeneration replaces the roster (nil: an empty one) and the generation stored
// versions carry.
func (s *Service) setRosterGeneration(r *roster.Roster, generation uint32) {
	if r == nil {
		r = &roster.Roster{}
	}
	s.roster.Store(r)
	s.gen.Store(generation)
}

// runRoster watches the roster in the KV bucket and consumes roster changes until ctx ends.
func (s *Service) runRoster(ctx context.Context) error {
	kv, err := s.js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		return fmt.Errorf("enrich: roster: bucket %s: %w", events.BucketRoster, err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.watchRoster(ctx, kv) })
	g.Go(func() error {
		return bus.Consume(ctx, s.js, bus.ConsumerOptions{
			Stream: events.StreamControl, Durable: events.DurableEnrichRoster, FilterSubject: events.SubjectRoster,
			BatchSize: 1, Workers: 1, MaxDeliver: 5,
			HandleTimeout: time.Hour, // a re-derivation reads and rewrites history: give it time
		}, s.log, func(ctx context.Context, msgs []jetstream.Msg) ([]bus.Decision, error) {
			return s.handleRosterChange(ctx, kv, msgs)
		})
	})
	return g.Wait()
}

// watchRoster swaps the roster whenever its generation key changes, on every replica.
func (s *Service) watchRoster(ctx context.Context, kv jetstream.KeyValue) error {
	w, err := kv.Watch(ctx, events.KeyRosterGeneration, jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("enrich: watch roster: %w", err)
	}
	defer func() {
		if err := w.Stop(); err != nil {
			s.log.Debug("stop roster watch", slog.Any("err", err))
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			if err := s.reloadRoster(ctx, kv); err != nil {
				s.log.Error("roster not reloaded; keeping the previous one", slog.Any("err", err))
			}
		}
	}
}

// reloadRoster reads the roster from the KV bucket and uses it from now on.
func (s *Service) reloadRoster(ctx context.Context, kv jetstream.KeyValue) error {
	r, gen, found, err := roster.FromKV(ctx, kv)
	if err != nil || !found {
		return err
	}
	if cur := s.roster.Load(); cur.Digest == r.Digest && s.gen.Load() == gen {
		return nil
	}
	s.setRosterGeneration(r, gen)
	s.log.Info("roster reloaded", slog.Int("periods", len(r.Periods)), slog.Uint64("generation", uint64(gen)), slog.String("digest", r.Digest))
	return nil
}

func (s *Service) handleRosterChange(ctx context.Context, kv jetstream.KeyValue, msgs []jetstream.Msg) ([]bus.Decision, error) {
	out := make([]bus.Decision, len(msgs))
	for i, m := range msgs {
		var ch events.RosterChange
		if err := gojson.Unmarshal(m.Data(), &ch); err != nil {
			s.log.Warn("roster change dropped", slog.Any("err", err))
			out[i] = bus.Term
			continue
		}
		if err := s.reloadRoster(ctx, kv); err != nil {
			return nil, err
		}
		start := time.Now()
		n, err := s.Rederive(ctx, ch.Logins)
		if err != nil {
			return nil, err
		}
		s.log.Info("history re-derived after a roster change", slog.Int("identities", len(ch.Logins)), slog.Int("raw_records", n),
			slog.String("digest", ch.Digest), slog.Duration("took", time.Since(start)))
	}
	return out, nil
}

// Rederive re-attributes the stored history of identities (logins and e-mails) with the current
// roster and generation, and returns how many raw records it read. The contributions, raw
// records and unmatched records of those who opted out are deleted; the unmatched records of
// the identities are recomputed.
func (s *Service) Rederive(ctx context.Context, identities []string) (int, error) {
	h, ok := s.store.(History)
	if !ok {
		return 0, errors.New("enrich: re-derive: the store cannot read history")
	}
	if len(identities) == 0 {
		return 0, nil
	}
	ro := s.roster.Load()
	lower := make([]string, len(identities))
	for i, id := range identities {
		lower[i] = strings.ToLower(id)
	}
	needles := s.ids.needles(lower)
	var gone []string
	for _, n := range needles {
		if id := strings.Trim(n, `"`); strings.HasPrefix(n, `"`) && !strings.Contains(id, "@users.noreply.") && (ro.OptedOut(id) || ro.OptedOut(s.ids.login(id))) {
			gone = append(gone, id)
		}
	}
	if err := h.DeleteContributionsOf(ctx, gone); err != nil {
		return 0, fmt.Errorf("enrich: re-derive: %w", err)
	}
	if err := h.DeleteUnmatched(ctx, lower); err != nil {
		return 0, fmt.Errorf("enrich: re-derive: %w", err)
	}
	read := 0
	after := store.RawKey{}
	for {
		page, err := h.RawMentioning(ctx, needles, after, rederivePage)
		if err != nil {
			return read, fmt.Errorf("enrich: re-derive: %w", err)
		}
		if len(page) == 0 {
			return read, nil
		}
		read += len(page)
		datas := make([][]byte, len(page))
		for i := range page {
			if datas[i], err = gojson.Marshal(&page[i]); err != nil {
				return read, fmt.Errorf("enrich: re-derive: encode %s: %w", page[i].MsgID(), err)
			}
		}
		res := s.Process(datas)
		if err := s.insertContributions(ctx, res.Contributions); err != nil {
			return read, fmt.Errorf("enrich: re-derive: %w", err)
		}
		if err := s.store.InsertUnmatched(ctx, res.Unmatched); err != nil {
			return read, fmt.Errorf("enrich: re-derive: %w", err)
		}
		// The feed carries the re-attributed rows; a new hire's trimmed events get hydrated.
		if err := s.publish(ctx, res.Contributions, res.Hydrate); err != nil {
			return read, fmt.Errorf("enrich: re-derive: %w", err)
		}
		// What live enrich would not store now (an opted-out person's records) goes.
		kept := make(map[store.RawKey]bool, len(res.Raw))
		for _, r := range res.Raw {
			kept[store.RawKey{Source: r.Source, ID: r.ID}] = true
		}
		var drop []store.RawKey
		for i, r := range page {
			if k := (store.RawKey{Source: r.Source, ID: r.ID}); res.Decisions[i] != bus.Term && !kept[k] {
				drop = append(drop, k)
			}
		}
		if err := h.DeleteRaw(ctx, drop); err != nil {
			return read, fmt.Errorf("enrich: re-derive: %w", err)
		}
		last := page[len(page)-1]
		after = store.RawKey{Source: last.Source, ID: last.ID}
		if len(page) < rederivePage {
			return read, nil
		}
	}
}
