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
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192), jetstream.WithPublishAsyncTimeout(PublishAckWait))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	return nc, js, nil
}

// PublishAckWait bounds the wait for JetStream's ack of an asynchronous publish. A publish whose
// server stopped before it answered is otherwise never settled, and Publisher.Flush would wait
// for it forever; after PublishAckWait it fails, and the caller publishes it again (its message
// id makes a copy that did reach the stream a duplicate).
const PublishAckWait = 5 * time.Second

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
		// Dead letters wait for an operator; a message id per original message makes a second
		// attempt to dead-letter it a duplicate.
		{Name: events.StreamDeadLetter, Subjects: []string{events.SubjectDeadLetterAll}, MaxAge: 90 * 24 * time.Hour, Duplicates: 24 * time.Hour},
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
	// Retry: try again later, after a delay that doubles with each delivery (ConsumerOptions.RetryMin).
	Retry
)

// BatchHandler handles a batch of messages. An error means nothing in the batch was settled;
// an *Unavailable error (a store outage) keeps the batch in hand until it can be finished,
// any other error redelivers every message after a delay. Otherwise decisions has one entry per
// message.
type BatchHandler func(ctx context.Context, msgs []jetstream.Msg) (decisions []Decision, err error)

// Unavailable is the error of a batch handler that could not finish its batch because something
// it writes to is down, not because of the messages. The consume loop then stops fetching, keeps
// the batch and every message it holds in progress, so the outage costs no delivery, and calls
// Resume, backing off, until it succeeds; then it settles the batch as Resume decided and
// fetches again.
type Unavailable struct {
	Err error
	// Resume finishes the batch from where it stopped; nil calls the handler again.
	Resume func(ctx context.Context) ([]Decision, error)
}

func (u *Unavailable) Error() string { return "unavailable: " + u.Err.Error() }

func (u *Unavailable) Unwrap() error { return u.Err }

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
	// RetryMin is the delay before a message the handler gave back (Retry, or a failed batch) is
	// delivered again; it doubles with each delivery up to RetryMax. The same delays space the
	// attempts to finish a batch during an outage (Unavailable). Defaults: 1s and 1m.
	RetryMin, RetryMax time.Duration
}

// Backoff returns the delay before the next attempt after n attempts (n ≥ 1): lo doubled n-1
// times, at most hi.
func Backoff(n uint64, lo, hi time.Duration) time.Duration {
	d := lo
	for i := uint64(1); i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// outage is the consume loop's view of an Unavailable handler: while down is set, no batch is
// fetched; up is closed when it clears, and begun when the next one begins.
type outage struct {
	mu    sync.Mutex
	down  bool
	up    chan struct{}
	begun chan struct{}
}

func (o *outage) set(down bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if down == o.down {
		return
	}
	o.down = down
	if down {
		o.up = make(chan struct{})
		if o.begun != nil {
			close(o.begun)
			o.begun = nil
		}
	} else {
		close(o.up)
	}
}

// next returns a channel closed once an outage begins; it is closed already during one.
func (o *outage) next() chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down {
		c := make(chan struct{})
		close(c)
		return c
	}
	if o.begun == nil {
		o.begun = make(chan struct{})
	}
	return o.begun
}

// wait returns a channel closed once the outage is over, or nil when there is none.
func (o *outage) wait() chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.down {
		return nil
	}
	return o.up
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
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(time.Minute, o.RetryMin)
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
	l := &loop{o: o, cc: cc, js: js, cons: cons, log: log, h: h, beat: o.AckWait / 3, batches: make(chan []jetstream.Msg)}
	if l.it, err = l.messages(cons); err != nil {
		return fmt.Errorf("bus: consume %s: %w", o.Durable, err)
	}
	// On the way out, messages the client already pulled but no batch took are handed back at
	// once, so a restart (or another replica) gets them now rather than after AckWait.
	defer func() {
		for _, m := range append(l.held, l.drain()...) {
			if err := m.Nak(); err != nil {
				log.Debug("nak", slog.Any("err", err))
			}
		}
	}()

	// Workers handle batches while the next one is fetched: with two, one batch is decoded and
	// mapped while the previous one is being inserted. Whatever way fetch returns, a worker
	// waiting out an outage stops waiting (cancel), and Consume returns after the workers.
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Go(func() {
			for batch := range l.batches {
				l.settle(ctx, batch)
			}
		})
	}
	defer wg.Wait()
	defer close(l.batches)
	defer cancel()
	return l.fetch(ctx)
}

// pullExpiry is how long a pull request of the consume loop lasts. The server sends heartbeats
// every half of it while the request waits. A pull request can vanish without an answer: on a
// cluster, the node leading the consumer stops or is killed before the others learnt of the
// request, while the connection to another node stays up. The client then counts the messages it
// asked for as still coming and never pulls again; only two missed heartbeats within one wait
// for a message (loop.next) make it pull anew.
const pullExpiry = 5 * time.Second

// loop is one running Consume.
type loop struct {
	o       ConsumerOptions
	cc      jetstream.ConsumerConfig
	js      jetstream.JetStream
	cons    jetstream.Consumer
	it      jetstream.MessagesContext
	log     *slog.Logger
	h       BatchHandler
	beat    time.Duration
	batches chan []jetstream.Msg
	outage  outage
	// held are the messages the iterator had pulled when an outage stopped it (drained).
	held    []jetstream.Msg
	drained bool
}

// drain stops the iterator and returns the messages it had pulled and not handed out.
func (l *loop) drain() []jetstream.Msg {
	l.it.Drain()
	var held []jetstream.Msg
	for {
		m, err := l.it.Next(jetstream.NextMaxWait(100 * time.Millisecond))
		if err != nil {
			return held
		}
		held = append(held, m)
	}
}

// fetch gathers batches and hands them to the workers until ctx ends. During an outage it
// stops pulling and keeps what it holds in progress, so no message is redelivered meanwhile.
func (l *loop) fetch(ctx context.Context) error {
	for {
		if l.outage.wait() != nil || l.drained {
			l.pause()
			l.log.Warn("consumer paused: the handler's store is unavailable", slog.String("consumer", l.o.Durable), slog.Int("held", len(l.held)))
			held := l.held
			l.held = nil
			if !l.hold(ctx, held) {
				nakAll(held, l.log)
				return nil
			}
			l.log.Info("consumer resumed", slog.String("consumer", l.o.Durable))
			it, err := l.messages(l.cons)
			if err != nil {
				nakAll(held, l.log)
				return fmt.Errorf("bus: consume %s: %w", l.o.Durable, err)
			}
			l.it, l.drained = it, false
			for len(held) > 0 {
				n := min(len(held), l.o.BatchSize)
				if !l.hand(ctx, held[:n]) {
					nakAll(held[n:], l.log)
					return nil
				}
				held = held[n:]
			}
			continue
		}
		batch := make([]jetstream.Msg, 0, l.o.BatchSize)
		// Wait for the first message until ctx ends or an outage begins.
		for len(batch) == 0 {
			if ctx.Err() != nil {
				return nil
			}
			if l.outage.wait() != nil {
				break
			}
			m, err := l.next(ctx)
			if err != nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) && l.js.Conn().IsClosed() {
					return nil // the connection was closed: the service is stopping
				}
				l.restart(ctx, err)
				continue
			}
			if m != nil {
				batch = append(batch, m)
			}
		}
		if len(batch) == 0 {
			continue
		}
		deadline := time.Now().Add(l.o.Linger)
		for len(batch) < l.o.BatchSize {
			wait := time.Until(deadline)
			if wait <= 0 {
				break
			}
			m, err := l.it.Next(jetstream.NextMaxWait(wait))
			if err != nil {
				break
			}
			batch = append(batch, m)
		}
		if !l.hand(ctx, batch) {
			return nil
		}
	}
}

// messages starts pulling from cons.
func (l *loop) messages(cons jetstream.Consumer) (jetstream.MessagesContext, error) {
	return cons.Messages(jetstream.PullMaxMessages(l.o.BatchSize*2), jetstream.PullExpiry(pullExpiry))
}

// next waits for the iterator's next message until ctx ends or an outage begins (nil, nil then).
// One wait spans several heartbeats, so that the client notices a pull request that died
// without an answer (pullExpiry): it reports ErrNoHeartbeat, forgets what it asked for, and next
// returns nil, nil, so that the following call pulls again. Any other error means the iterator
// stopped.
func (l *loop) next(ctx context.Context) (jetstream.Msg, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	begun := l.outage.next()
	go func() {
		select {
		case <-begun:
			cancel()
		case <-wctx.Done():
		}
	}()
	m, err := l.it.Next(jetstream.NextContext(wctx))
	switch {
	case err == nil:
		return m, nil
	case wctx.Err() != nil:
		return nil, nil
	case errors.Is(err, jetstream.ErrNoHeartbeat):
		l.log.Warn("consumer's pull request went unanswered (no heartbeat): pulling again", slog.String("consumer", l.o.Durable))
		return nil, nil
	}
	return nil, err
}

// restart replaces an iterator that stopped with err (its consumer deleted, a request the
// server refused): it declares the consumer again and pulls from it, backing off between
// attempts, until one succeeds or ctx ends. The messages the old iterator had pulled come back
// after AckWait.
func (l *loop) restart(ctx context.Context, err error) {
	l.it.Stop()
	for n := uint64(1); ; n++ {
		wait := Backoff(n, l.o.RetryMin, l.o.RetryMax)
		l.log.Warn("consumer stopped receiving: starting it again", slog.String("consumer", l.o.Durable),
			slog.Uint64("attempt", n), slog.Duration("retry_in", wait), slog.Any("err", err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		cons, cerr := l.js.CreateOrUpdateConsumer(ctx, l.o.Stream, l.cc)
		if cerr == nil {
			it, merr := l.messages(cons)
			if merr == nil {
				l.cons, l.it = cons, it
				l.log.Info("consumer receiving again", slog.String("consumer", l.o.Durable))
				return
			}
			cerr = merr
		}
		err = cerr
	}
}

// pause stops the iterator, once per outage, and keeps what it had pulled in held.
func (l *loop) pause() {
	if !l.drained {
		l.held = append(l.held, l.drain()...)
		l.drained = true
	}
}

// hand gives a batch to a worker, keeping it in progress while every worker is busy; should an
// outage begin meanwhile, it stops the iterator too (pause) and keeps what that had pulled in
// progress. When ctx ends first, it naks the batch (another consumer, or the next start, gets it
// at once) and returns false.
func (l *loop) hand(ctx context.Context, batch []jetstream.Msg) bool {
	t := time.NewTicker(l.beat)
	defer t.Stop()
	for {
		select {
		case l.batches <- batch:
			return true
		case <-ctx.Done():
			nakAll(batch, l.log)
			return false
		case <-t.C:
			if l.outage.wait() != nil {
				l.pause()
			}
			inProgress(batch, l.log)
			inProgress(l.held, l.log)
		}
	}
}

// hold keeps msgs in progress until the outage is over (true) or ctx ends (false).
func (l *loop) hold(ctx context.Context, msgs []jetstream.Msg) bool {
	t := time.NewTicker(l.beat)
	defer t.Stop()
	for {
		up := l.outage.wait()
		if up == nil {
			return true
		}
		select {
		case <-up:
		case <-ctx.Done():
			return false
		case <-t.C:
			inProgress(msgs, l.log)
		}
	}
}

func inProgress(msgs []jetstream.Msg, log *slog.Logger) {
	for _, m := range msgs {
		if err := m.InProgress(); err != nil {
			log.Debug("in progress", slog.Any("err", err))
		}
	}
}

func nakAll(msgs []jetstream.Msg, log *slog.Logger) {
	for _, m := range msgs {
		if err := m.Nak(); err != nil {
			log.Debug("nak", slog.Any("err", err))
		}
	}
}

// settle hands a batch to the handler, keeping its messages in progress every beat meanwhile,
// and acks, terminates or naks each as the handler decided. An Unavailable handler pauses the
// loop and is resumed, backing off, until it finishes the batch; a batch in hand is finished even
// when ctx ends meanwhile (stopping drains, never abandons an insert half-way), each attempt
// within HandleTimeout, unless it is waiting out an outage, which stopping ends.
func (l *loop) settle(ctx context.Context, batch []jetstream.Msg) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(l.beat)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				inProgress(batch, l.log)
			}
		}
	})
	defer wg.Wait()
	defer close(stop)

	attempt := func(f func(context.Context) ([]Decision, error)) ([]Decision, error) {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.o.HandleTimeout)
		defer cancel()
		return f(hctx)
	}
	decisions, err := attempt(func(c context.Context) ([]Decision, error) { return l.h(c, batch) })
	for n := uint64(1); ; n++ {
		var u *Unavailable
		if !errors.As(err, &u) {
			break
		}
		l.outage.set(true)
		wait := Backoff(n, l.o.RetryMin, l.o.RetryMax)
		l.log.Warn("batch waits for its store", slog.Int("messages", len(batch)), slog.Uint64("attempt", n), slog.Duration("retry_in", wait), slog.Any("err", u.Err))
		select {
		case <-ctx.Done():
			nakAll(batch, l.log)
			return
		case <-time.After(wait):
		}
		resume := u.Resume
		if resume == nil {
			resume = func(c context.Context) ([]Decision, error) { return l.h(c, batch) }
		}
		decisions, err = attempt(resume)
	}
	l.outage.set(false)
	if err == nil && len(decisions) != len(batch) {
		err = fmt.Errorf("bus: handler returned %d decisions for %d messages", len(decisions), len(batch))
	}
	if err != nil {
		l.log.Warn("batch failed, redelivering", slog.Int("messages", len(batch)), slog.Any("err", err))
		for _, m := range batch {
			if e := m.NakWithDelay(l.retryDelay(m)); e != nil {
				l.log.Debug("nak", slog.Any("err", e))
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
			e = m.NakWithDelay(l.retryDelay(m))
		}
		if e != nil {
			l.log.Debug("settle", slog.Any("err", e))
		}
	}
}

// retryDelay is the delay before m is delivered again: RetryMin doubled with each delivery.
func (l *loop) retryDelay(m jetstream.Msg) time.Duration {
	n := uint64(1)
	if md, err := m.Metadata(); err == nil {
		n = md.NumDelivered
	}
	return Backoff(n, l.o.RetryMin, l.o.RetryMax)
}
