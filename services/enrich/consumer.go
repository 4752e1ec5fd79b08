package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
)

// The stages of storing a batch, in order. A batch that fails at one is resumed there, so an
// outage never writes a row twice.
const (
	stageContributions = iota
	stageUnmatched
	stageActivity
	stageRaw
	stagePublish
	stagesDone
)

// storeFailure is the failure that made the store unavailable, and since when.
type storeFailure struct {
	since time.Time
	err   error
}

// batch is a batch of raw messages on its way to the store, kept across the attempts of an
// outage.
type batch struct {
	msgs []jetstream.Msg
	res  Result
	done int // stages of res done
	// When the whole batch fails while the store answers, its records are stored one at a
	// time from stage from, to tell the record ClickHouse rejects from the rest.
	isolating bool
	from      int
	pending   []int   // records still to store alone
	cur       *Result // the first of pending, processed, and its stages done
	curDone   int
}

// Handle is the batch handler: process, store the contributions, unmatched identities, project
// totals and raw records, publish the contributions, and only then let the messages be acked.
//
// While ClickHouse is down, it returns bus.Unavailable: the consume loop holds the batch (no
// delivery is spent) and resumes it at the stage that failed once the store answers. A record
// that cannot be processed (undecodable, a mapper failure or panic, a row ClickHouse rejects)
// is retried with backoff and, at its PoisonTries-th delivery, kept in the dead-letter stream
// with why, while the rest of the batch is stored.
func (s *Service) Handle(ctx context.Context, msgs []jetstream.Msg) ([]bus.Decision, error) {
	start := time.Now()
	datas := make([][]byte, len(msgs))
	for i, m := range msgs {
		datas[i] = m.Data()
	}
	b := &batch{msgs: msgs, res: s.Process(datas)}
	d, err := s.finish(ctx, b)
	if err == nil {
		s.batchSeconds.Observe(time.Since(start).Seconds())
	}
	return d, err
}

// finish stores what remains of b.
func (s *Service) finish(ctx context.Context, b *batch) ([]bus.Decision, error) {
	if !b.isolating {
		err := s.storeStages(ctx, &b.res, &b.done)
		if err == nil {
			s.storeAnswered()
			return s.settle(ctx, b), nil
		}
		if perr := s.probe(ctx); perr != nil {
			return nil, s.unavailable(b, err)
		}
		s.log.Warn("batch refused while the store answers: storing its records one at a time", slog.Int("records", len(b.msgs)), slog.Any("err", err))
		b.isolating, b.from = true, b.done
		for i := range b.msgs {
			if b.res.Decisions[i] == bus.Ack {
				b.pending = append(b.pending, i)
			}
		}
	}
	for len(b.pending) > 0 {
		i := b.pending[0]
		if b.cur == nil {
			one := s.Process([][]byte{b.msgs[i].Data()})
			b.cur, b.curDone = &one, b.from
		}
		if err := s.storeStages(ctx, b.cur, &b.curDone); err != nil {
			if perr := s.probe(ctx); perr != nil {
				return nil, s.unavailable(b, err)
			}
			var r *events.Raw
			if len(b.cur.Raw) > 0 {
				r = &b.cur.Raw[0]
			}
			s.poison(&b.res, i, "store", err, r)
		}
		b.pending, b.cur = b.pending[1:], nil
	}
	s.storeAnswered()
	return s.settle(ctx, b), nil
}

// unavailable marks the store down and returns the error that has the consume loop hold b and
// resume it.
func (s *Service) unavailable(b *batch, err error) error {
	f := &storeFailure{since: time.Now(), err: err}
	if old := s.storeErr.Load(); old != nil {
		f.since = old.since
	}
	s.storeErr.Store(f)
	s.storeUp.Set(0)
	return &bus.Unavailable{Err: err, Resume: func(ctx context.Context) ([]bus.Decision, error) { return s.finish(ctx, b) }}
}

func (s *Service) storeAnswered() {
	if s.storeErr.Swap(nil) != nil {
		s.log.Info("store answers again")
	}
	s.storeUp.Set(1)
}

// probe tells an outage from a batch ClickHouse refuses: it reads nothing from each table enrich
// writes, which fails while the server is down or a table is missing.
func (s *Service) probe(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, t := range []string{"contributions", "unmatched_identities", "project_activity", "raw_events"} {
		if _, err := s.store.Query(pctx, "SELECT 1 FROM "+t+" LIMIT 0", nil); err != nil {
			return err
		}
	}
	return nil
}

// settle turns the failures of b into decisions: a retry with backoff until the record's
// PoisonTries-th delivery, then the dead-letter stream.
func (s *Service) settle(ctx context.Context, b *batch) []bus.Decision {
	for i, f := range b.res.Failures {
		m := b.msgs[i]
		md, err := m.Metadata()
		if err == nil && md.NumDelivered < s.tries {
			b.res.Decisions[i] = bus.Retry
			continue
		}
		dl := bus.DeadLetterFrom(m, f.Stage, f.Err.Error(), f.Source, f.Origin)
		if err := bus.PublishDeadLetter(ctx, s.js, dl); err != nil {
			s.log.Error("dead-letter failed; retrying the record", slog.String("origin", f.Origin), slog.Any("err", err))
			b.res.Decisions[i] = bus.Retry
			continue
		}
		b.res.Decisions[i] = bus.Term
		s.deadLetters.WithLabelValues(f.Stage).Inc()
		s.log.Error("raw record dead-lettered", slog.String("stage", f.Stage), slog.String("source", f.Source),
			slog.String("origin", f.Origin), slog.Uint64("deliveries", dl.Deliveries), slog.Any("err", f.Err))
	}
	return b.res.Decisions
}

// Store writes a processed batch and publishes its contributions on the enriched stream.
func (s *Service) Store(ctx context.Context, res Result) error {
	done := 0
	return s.storeStages(ctx, &res, &done)
}

// storeStages runs the stages of storing res from *done on, advancing *done past each one that
// succeeded.
func (s *Service) storeStages(ctx context.Context, res *Result, done *int) error {
	for *done < stagesDone {
		var err error
		switch *done {
		case stageContributions:
			err = s.insertContributions(ctx, res.Contributions)
			if err == nil && len(res.Contributions) > 0 {
				s.stored.Store(true)
			}
		case stageUnmatched:
			err = s.store.InsertUnmatched(ctx, res.Unmatched)
		case stageActivity:
			err = s.store.InsertProjectActivity(ctx, res.Activity)
		case stageRaw:
			err = s.store.InsertRaw(ctx, res.Raw)
		case stagePublish:
			s.count(res.Contributions)
			if err = s.publish(ctx, res.Contributions, res.Hydrate); err != nil {
				return err
			}
			s.watch(ctx, res.Contributions)
		}
		if err != nil {
			return fmt.Errorf("enrich: %w", err)
		}
		*done++
	}
	return nil
}

// count counts stored contributions by kind and attribution.
func (s *Service) count(cs []events.Contribution) {
	for i := range cs {
		c := &cs[i]
		attribution := "employee"
		if c.EmployeeID == "" {
			attribution = "unmatched"
			if s.ids.isBot(c.ActorLogin) {
				attribution = "bot"
				s.ids.bot.WithLabelValues(c.Kind).Inc()
			}
		}
		s.contributions.WithLabelValues(c.Kind, attribution).Inc()
	}
}

// Ready reports whether enrich can store: an error, naming since when, while ClickHouse refuses
// its writes (the consumer is paused meanwhile).
func (s *Service) Ready(context.Context) error {
	if f := s.storeErr.Load(); f != nil {
		return fmt.Errorf("enrich: store unavailable since %s: %w", f.since.UTC().Format(time.RFC3339), f.err)
	}
	return nil
}

// backlogGauge reports the raw messages enrich has not stored yet: those not delivered and those
// delivered but not acknowledged (held during an outage, or being handled).
func (s *Service) backlogGauge() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "giveback_enrich_backlog_messages", Help: "Raw messages not yet stored: pending in the stream and delivered but not acknowledged.",
	}, func() float64 {
		n, err := s.Backlog(context.Background())
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	})
}

// Backlog returns how many raw messages enrich has not stored yet: pending in the stream and
// delivered but not acknowledged.
func (s *Service) Backlog(ctx context.Context) (uint64, error) {
	if s.js == nil {
		return 0, errors.New("enrich: no bus")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := s.js.Consumer(ctx, events.StreamRaw, events.DurableEnrich)
	if err != nil {
		return 0, fmt.Errorf("enrich: backlog: %w", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("enrich: backlog: %w", err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

var _ Store = (*store.Store)(nil)
