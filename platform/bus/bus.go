// Package bus is Giveback's NATS layer: the embedded server for the one-process mode, the
// JetStream streams and KV buckets every service declares at start, an async publisher with
// message-id deduplication, and a batching consume loop that acks only what its handler settled.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// Connect opens a NATS connection named after the service, authenticated with cr, and its
// JetStream context. It keeps reconnecting forever, so a NATS restart does not end the service.
func Connect(url, name string, cr Credentials) (*nats.Conn, jetstream.JetStream, error) {
	opts := []nats.Option{nats.Name("giveback-" + name), nats.MaxReconnects(-1), nats.ReconnectWait(500 * time.Millisecond)}
	if cr.User != "" || cr.Password != "" {
		opts = append(opts, nats.UserInfo(cr.User, cr.Password))
	}
	if cr.CAFile != "" {
		opts = append(opts, nats.RootCAs(cr.CAFile))
	}
	if cr.CertFile != "" || cr.KeyFile != "" {
		opts = append(opts, nats.ClientCert(cr.CertFile, cr.KeyFile))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) {
			who := "anonymously"
			if cr.User != "" {
				who = "as user " + cr.User
			}
			return nil, nil, fmt.Errorf("bus: connect %s: the server refused %s: give the user's password "+
				"(nats.password_env, nats.password_file or nats.credentials_file; for a local giveback up, --data of its data directory): %w", url, who, err)
		}
		return nil, nil, fmt.Errorf("bus: connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	return nc, js, nil
}

// Drain drains the connection and waits, at most d, for it to close.
func Drain(nc *nats.Conn, d time.Duration) {
	if nc == nil || nc.IsClosed() {
		return
	}
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-closed:
	case <-time.After(d):
		nc.Close()
	}
}

// StreamOptions sizes the streams.
type StreamOptions struct {
	Replicas    int           // 1 on one machine, 3 on a cluster
	RawMaxAge   time.Duration // how long raw records stay in NATS (they are also in raw_events)
	DedupWindow time.Duration // JetStream's message-id duplicate window
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	if o.RawMaxAge <= 0 {
		o.RawMaxAge = 7 * 24 * time.Hour
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = time.Hour
	}
	return o
}

// EnsureStreams declares the streams and the KV buckets (events.Buckets), creating or updating
// them, and waits until the keys an earlier version kept in the cursor bucket are copied to the
// buckets that hold them now (buckets.go).
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) error {
	o = o.withDefaults()
	streams := []jetstream.StreamConfig{
		{Name: events.StreamRaw, Subjects: []string{events.SubjectRawAll}, MaxAge: o.RawMaxAge, Duplicates: o.DedupWindow},
		{Name: events.StreamEnriched, Subjects: []string{events.SubjectContribution}, MaxAge: 24 * time.Hour, Duplicates: 2 * time.Minute},
		{Name: events.StreamControl, Subjects: []string{events.SubjectControlAll}, MaxAge: 30 * 24 * time.Hour, Duplicates: 2 * time.Minute},
	}
	for _, sc := range streams {
		sc.Storage = jetstream.FileStorage
		sc.Replicas = o.Replicas
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("bus: stream %s: %w", sc.Name, err)
		}
	}
	return ensureBuckets(ctx, js, o.Replicas)
}

// Decision is what a batch handler decided about one message.
type Decision int

const (
	// Ack: handled (stored, or deliberately ignored).
	Ack Decision = iota
	// Term: poison (cannot be decoded or mapped, ever); never redelivered.
	Term
	// Retry: try again later.
	Retry
)

// BatchHandler handles a batch of messages. An error means nothing in the batch was settled
// (the store was down, say): every message is redelivered after a delay. Otherwise decisions
// has one entry per message.
type BatchHandler func(ctx context.Context, msgs []jetstream.Msg) (decisions []Decision, err error)

// ConsumerOptions configures a durable pull consumer and its batching.
type ConsumerOptions struct {
	Stream        string
	Durable       string
	FilterSubject string
	BatchSize     int           // messages per handler call (default 1000)
	Linger        time.Duration // how long a partial batch waits for more (default 100ms)
	// AckWait is how long the server waits for a settlement before it redelivers (default 30s).
	// While a handler runs, its batch is marked in progress every AckWait/3, so a handler may
	// take longer; a message lost on the way to a consumer that stopped comes back after it.
	AckWait time.Duration
	// HandleTimeout bounds one handler call, also when stopping (default 10 × AckWait).
	HandleTimeout time.Duration
	MaxDeliver    int  // default 20
	DeliverNew    bool // start at new messages only (a live feed) instead of all
	Workers       int  // batches handled at once (default 2)
}

// Consume runs a durable pull consumer until ctx ends, handing batches to h. Explicit acks,
// each only after h returned, so several replicas may share the consumer.
func Consume(ctx context.Context, js jetstream.JetStream, o ConsumerOptions, log *slog.Logger, h BatchHandler) error {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Linger <= 0 {
		o.Linger = 100 * time.Millisecond
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.HandleTimeout <= 0 {
		o.HandleTimeout = 10 * o.AckWait
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = 20
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	cc := jetstream.ConsumerConfig{
		Durable:       o.Durable,
		FilterSubject: o.FilterSubject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		MaxDeliver:    o.MaxDeliver,
		MaxAckPending: o.BatchSize * 20,
	}
	if o.DeliverNew {
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, o.Stream, cc)
	if err != nil {
		return fmt.Errorf("bus: consumer %s on %s: %w", o.Durable, o.Stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(o.BatchSize * 2))
	if err != nil {
		return fmt.Errorf("bus: consume %s: %w", o.Durable, err)
	}
	// On the way out, messages the client already pulled but no batch took are handed back at
	// once, so a restart (or another replica) gets them now rather than after AckWait.
	defer func() {
		it.Drain()
		for {
			m, err := it.Next(jetstream.NextMaxWait(100 * time.Millisecond))
			if err != nil {
				return
			}
			if err := m.Nak(); err != nil {
				log.Debug("nak", slog.Any("err", err))
			}
		}
	}()

	// Workers handle batches while the next one is fetched: with two, one batch is decoded and
	// mapped while the previous one is being inserted.
	batches := make(chan []jetstream.Msg)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Go(func() {
			for batch := range batches {
				// A batch in hand is finished even when ctx ends meanwhile: stopping drains,
				// never abandons an insert half-way. It gets HandleTimeout to do so.
				hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.HandleTimeout)
				settle(hctx, batch, h, o.AckWait/3, log)
				cancel()
			}
		})
	}
	defer wg.Wait()
	defer close(batches)

	for {
		batch := make([]jetstream.Msg, 0, o.BatchSize)
		// Wait for the first message, waking up now and then to notice ctx ending.
		for len(batch) == 0 {
			if ctx.Err() != nil {
				return nil
			}
			m, err := it.Next(jetstream.NextMaxWait(500 * time.Millisecond))
			if err != nil {
				if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
					continue
				}
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return nil
				}
				return fmt.Errorf("bus: consume %s: %w", o.Durable, err)
			}
			batch = append(batch, m)
		}
		deadline := time.Now().Add(o.Linger)
		for len(batch) < o.BatchSize {
			wait := time.Until(deadline)
			if wait <= 0 {
				break
			}
			m, err := it.Next(jetstream.NextMaxWait(wait))
			if err != nil {
				break
			}
			batch = append(batch, m)
		}
		select {
		case batches <- batch:
		case <-ctx.Done():
			// Not handed to a worker: these are redelivered after AckWait; nak them now so
			// another consumer (or the next start) gets them at once.
			for _, m := range batch {
				if err := m.Nak(); err != nil {
					log.Debug("nak", slog.Any("err", err))
				}
			}
			return nil
		}
	}
}

// settle hands a batch to h, keeping its messages in progress every beat meanwhile, and acks,
// terminates or naks each as h decided.
func settle(ctx context.Context, batch []jetstream.Msg, h BatchHandler, beat time.Duration, log *slog.Logger) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(beat)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				for _, m := range batch {
					if err := m.InProgress(); err != nil {
						log.Debug("in progress", slog.Any("err", err))
					}
				}
			}
		}
	})
	decisions, err := h(ctx, batch)
	close(stop)
	wg.Wait()
	if err == nil && len(decisions) != len(batch) {
		err = fmt.Errorf("bus: handler returned %d decisions for %d messages", len(decisions), len(batch))
	}
	if err != nil {
		log.Warn("batch failed, redelivering", slog.Int("messages", len(batch)), slog.Any("err", err))
		for _, m := range batch {
			nakErr := m.NakWithDelay(2 * time.Second)
			if nakErr != nil {
				log.Debug("nak", slog.Any("err", nakErr))
			}
		}
		return
	}
	for i, m := range batch {
		var e error
		switch decisions[i] {
		case Ack:
			e = m.Ack()
		case Term:
			e = m.Term()
		case Retry:
			e = m.NakWithDelay(2 * time.Second)
		}
		if e != nil {
			log.Debug("settle", slog.Any("err", e))
		}
	}
}
