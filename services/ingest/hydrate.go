package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
)

// hydrateMaxDeliver is how often a request is tried before it is given up (and logged).
const hydrateMaxDeliver = 20

// runHydration takes hydration requests until ctx ends, and re-checks the watched open pull
// requests every interval.
func (s *Service) runHydration(ctx context.Context, interval time.Duration) error {
	// The re-check loop ends with ctx, as the consumer does, and is joined before returning.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx) // the loop also ends when the consumer fails
	defer cancel()
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := s.o.Hydrator.RecheckOpen(ctx)
			if ctx.Err() != nil {
				return
			}
			s.watched.Set(float64(n))
			if err != nil {
				s.log.Warn("re-checking open pull requests", slog.Any("err", err))
			}
			s.log.Info("open pull requests re-checked", slog.Int("still_open", n))
		}
	})
	return bus.Consume(ctx, s.o.JS, bus.ConsumerOptions{
		Stream: events.StreamControl, Durable: events.DurableIngestHydrate, FilterSubject: events.SubjectHydrate,
		// A request may wait for a rate limit to reset (githubsync.Syncer.MaxWait, 1h): the
		// batch is small, and may take longer than that wait (kept in progress meanwhile).
		BatchSize: 20, Workers: 1, HandleTimeout: 90 * time.Minute, MaxDeliver: hydrateMaxDeliver,
	}, s.log, func(hctx context.Context, msgs []jetstream.Msg) ([]bus.Decision, error) {
		// Stopping the service stops a rate-limit wait: the batch is redelivered on the next start.
		hctx, cancel := context.WithCancel(hctx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		return s.hydrateBatch(hctx, msgs)
	})
}

func (s *Service) hydrateBatch(ctx context.Context, msgs []jetstream.Msg) ([]bus.Decision, error) {
	out := make([]bus.Decision, len(msgs))
	for i, m := range msgs {
		var h events.Hydrate
		if err := json.Unmarshal(m.Data(), &h); err != nil || h.Schema != events.SchemaHydrate {
			s.log.Warn("hydration request dropped: not a "+events.SchemaHydrate+" message", slog.Any("err", err), slog.String("data", fmt.Sprintf("%.200s", m.Data())))
			out[i] = bus.Term
			s.hydrations.WithLabelValues("malformed").Inc()
			continue
		}
		err := s.o.Hydrator.Hydrate(ctx, h)
		if err == nil {
			s.hydrations.WithLabelValues("done").Inc()
			continue
		}
		if errors.Is(err, events.ErrInvalid) {
			// Logged and counted by the hydrator; asking again would not make it valid.
			out[i] = bus.Term
			s.hydrations.WithLabelValues("invalid").Inc()
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out[i] = bus.Retry
		if md, merr := m.Metadata(); merr == nil && md.NumDelivered >= hydrateMaxDeliver {
			s.log.Error("hydration request given up", slog.String("request", h.MsgID()), slog.Uint64("tries", md.NumDelivered), slog.Any("err", err))
			out[i] = bus.Term
			s.hydrations.WithLabelValues("given_up").Inc()
			continue
		}
		s.hydrations.WithLabelValues("retry").Inc()
		s.log.Warn("hydration request failed; retrying", slog.String("request", h.MsgID()), slog.Any("err", err))
	}
	return out, nil
}

// HydrationStatus returns what hydration did, false when it is disabled.
func (s *Service) HydrationStatus() (events.HydrationStatus, bool) {
	if s.o.Hydrator == nil {
		return events.HydrationStatus{}, false
	}
	return s.o.Hydrator.HydrationStatus(), true
}
