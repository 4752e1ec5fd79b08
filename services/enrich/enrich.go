// Package enrich turns raw records into canonical contributions: it maps each record (mapper),
// attributes it to an employee and team as of the contribution's date (roster), classifies the
// destination (the company's orgs vs upstream), writes raw records and contributions to
// ClickHouse in batches, acks only after the insert returned, and publishes what it stored.
package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/repoclass"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/services/enrich/mapper"
)

// Store is the part of the store enrich needs.
type Store interface {
	InsertRaw(ctx context.Context, rs []events.Raw) error
	// PlaceContributions and InsertPlaced are the only way enrich writes contributions, so each
	// version lands in the partition of its first (store.Placed).
	PlaceContributions(ctx context.Context, cs []events.Contribution) (store.Placed, error)
	InsertPlaced(ctx context.Context, p store.Placed) error
	InsertUnmatched(ctx context.Context, us []events.Unmatched) error
	InsertProjectActivity(ctx context.Context, hs []events.HourTotals) error
	Compact(ctx context.Context) (int, error)
	// Query answers the probe that tells an outage from a batch ClickHouse refuses.
	Query(ctx context.Context, q string, settings store.Settings) (*store.Result, error)
}

// Durable is the name of enrich's consumer on the raw stream (events.DurableEnrich).
const Durable = events.DurableEnrich

// Service is the enrich service.
type Service struct {
	store   Store
	js      jetstream.JetStream
	company config.Company
	log     *slog.Logger
	roster  atomic.Pointer[roster.Roster]
	classes atomic.Pointer[repoclass.Classifier]
	logins  personLogins
	stored  atomic.Bool // contributions stored since the last compaction
	pub     *bus.Publisher
	ids     *identities   // bots, aliases, company e-mails (identity.go)
	gen     atomic.Uint32 // roster generation, the low bits of stored versions (events.Version)
	watched watched       // repositories whose project totals ingest counts (totals.go)
	placing sync.Mutex    // one batch placed and stored at a time (partition.go)

	// BatchSize is how many raw records make one insert (default 4000).
	BatchSize int

	ackWait            time.Duration
	maxDeliver         int
	tries              uint64        // deliveries of a poison record before it is dead-lettered
	retryMin, retryMax time.Duration // backoff between them, and between attempts in an outage
	storeErr           atomic.Pointer[storeFailure]

	records       *prometheus.CounterVec
	contributions *prometheus.CounterVec
	batchSeconds  prometheus.Histogram
	hydrations    *prometheus.CounterVec
	deadLetters   *prometheus.CounterVec
	storeUp       prometheus.Gauge
}

// Options configures a Service. Store and JS are needed by Run (Process needs neither); every
// other field may be left zero.
type Options struct {
	Store Store
	JS    jetstream.JetStream
	// Company tells the company's repositories and e-mail domains; Identities its bots and aliases.
	Company    config.Company
	Identities config.Identities
	// Roster attributes contributions; nil attributes nobody until a roster is loaded. Generation
	// is the roster generation stored versions carry (roster.Starting returns both).
	Roster     *roster.Roster
	Generation uint32
	// Classifier classifies destinations (company orgs, foundations, dependencies); nil
	// classifies by the company's orgs and the built-in foundations, with no dependencies.
	Classifier *repoclass.Classifier
	// Registry, when set, receives the enrich metrics.
	Registry prometheus.Registerer
	// Log receives the service's logs; nil discards them.
	Log *slog.Logger
	// BatchSize is how many raw records make one insert (default 4000).
	BatchSize int
	// PoisonTries is how many deliveries a raw record that cannot be processed (undecodable, a
	// mapper failure, a row ClickHouse rejects) gets before it goes to the dead-letter stream
	// (default 5). RetryMin and RetryMax bound the backoff between them, which also spaces the
	// attempts to store a batch while ClickHouse is down (defaults 1s and 1m).
	PoisonTries        int
	RetryMin, RetryMax time.Duration
	// AckWait and MaxDeliver of the raw consumer (bus.ConsumerOptions; defaults 30s and 20).
	AckWait    time.Duration
	MaxDeliver int
}

// New returns the service configured by o.
func New(o Options) (*Service, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 4000
	}
	if o.PoisonTries <= 0 {
		o.PoisonTries = 5
	}
	if o.MaxDeliver > 0 && o.PoisonTries > o.MaxDeliver {
		o.PoisonTries = o.MaxDeliver // the server gives up at MaxDeliver: dead-letter before
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(time.Minute, o.RetryMin)
	}
	s := &Service{
		store: o.Store, js: o.JS, company: o.Company, log: log.With(slog.String("component", "enrich")),
		BatchSize: o.BatchSize, tries: uint64(o.PoisonTries), retryMin: o.RetryMin, retryMax: o.RetryMax,
		ackWait: o.AckWait, maxDeliver: o.MaxDeliver,
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "giveback_enrich_records_total", Help: "Raw records handled, by outcome (mapped, not_contribution, opted_out, poison, totals).",
		}, []string{"outcome"}),
		contributions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "giveback_enrich_contributions_total", Help: "Contributions stored, by kind and attribution (employee, unmatched, bot).",
		}, []string{"kind", "attribution"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "giveback_enrich_batch_seconds", Help: "Time to map, store and publish one batch.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		hydrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "giveback_enrich_hydration_requests_total", Help: "Trimmed GH Archive events sent to ingest to fill from the REST API, by kind (pull_request, push; invalid: not sent, a value GitHub would not have made).",
		}, []string{"kind"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "giveback_enrich_dead_letters_total", Help: "Raw records given up on and kept in the dead-letter stream, by the stage that failed (decode, map, panic, version, store).",
		}, []string{"stage"}),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "giveback_enrich_store_up", Help: "1 while ClickHouse takes enrich's writes, 0 during an outage (the consumer is paused, its backlog held).",
		}),
	}
	s.storeUp.Set(1)
	s.pub = bus.NewPublisher(o.JS)
	s.ids = newIdentities(o.Company, o.Identities)
	if o.Registry != nil {
		for _, c := range []prometheus.Collector{s.records, s.contributions, s.batchSeconds, s.hydrations, s.ids.bot, s.deadLetters, s.storeUp, s.backlogGauge()} {
			if err := o.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("enrich: register metrics: %w", err)
			}
		}
	}
	s.setRosterGeneration(o.Roster, o.Generation)
	cls := o.Classifier
	if cls == nil {
		var err error
		if cls, err = repoclass.New(o.Company.GitHubOrgs, nil, nil); err != nil {
			return nil, fmt.Errorf("enrich: classifier: %w", err)
		}
	}
	s.classes.Store(cls)
	return s, nil
}

// Run consumes the raw stream, and roster changes (rederive.go), and answers forget requests
// (forget.go), until ctx ends. It returns once all of it stopped, and the watch of the
// classifier given in Options (which must end with the same context) too.
func (s *Service) Run(ctx context.Context) error {
	if s.store == nil || s.js == nil {
		return errors.New("enrich: Run needs Options.Store and Options.JS")
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return bus.Consume(ctx, s.js, bus.ConsumerOptions{
			Stream: events.StreamRaw, Durable: events.DurableEnrich, FilterSubject: events.SubjectRawAll, BatchSize: s.BatchSize,
			RetryMin: s.retryMin, RetryMax: s.retryMax, AckWait: s.ackWait, MaxDeliver: s.maxDeliver,
		}, s.log, s.Handle)
	})
	g.Go(func() error { return s.runRoster(ctx) })
	g.Go(func() error { return s.runCompaction(ctx) })
	g.Go(func() error { return s.runForget(ctx) })
	err := g.Wait()
	// The classifier's watch of the dependency list reads the store, and may be re-flagging
	// stored contributions: it must be over before whoever closes the store does.
	s.classes.Load().Wait()
	return err
}

// Result is what Process made of a batch.
type Result struct {
	Decisions     []bus.Decision
	Raw           []events.Raw
	Contributions []events.Contribution
	Unmatched     []events.Unmatched  // unattributed contributions by identities that look like the company's
	Activity      []events.HourTotals // project totals (source gharchive_totals), not kept in raw_events
	Hydrate       []events.Hydrate    // trimmed GH Archive events of the company's people, to fill from the REST API
	// Failures says why each record decided Term failed, by its index in the batch.
	Failures map[int]Failure
}

// Failure is why a raw record could not be processed.
type Failure struct {
	Stage  string // decode, map, panic, version, store
	Err    error
	Source string // the record's source and origin, when it could be decoded
	Origin string
}

// mapRecord maps one raw record (mapper.Map; a test replaces it to make it fail).
var mapRecord = mapper.Map

// Process decodes, maps and attributes a batch of encoded raw records without storing it. A
// record that cannot be processed is decided Term, with why in Failures; a panic while processing
// one is such a failure (stage panic), and leaves nothing of the record in the result.
func (s *Service) Process(datas [][]byte) Result {
	ro, gen := s.roster.Load(), s.gen.Load()
	res := Result{Decisions: make([]bus.Decision, len(datas)), Raw: make([]events.Raw, 0, len(datas)), Contributions: make([]events.Contribution, 0, len(datas))}
	for i, data := range datas {
		s.processOne(ro, gen, &res, i, data)
	}
	return res
}

// processOne processes the record at index i into res, recovering from a panic.
func (s *Service) processOne(ro *roster.Roster, gen uint32, res *Result, i int, data []byte) {
	var r events.Raw
	lens := [5]int{len(res.Raw), len(res.Contributions), len(res.Unmatched), len(res.Activity), len(res.Hydrate)}
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		res.Raw, res.Contributions, res.Unmatched = res.Raw[:lens[0]], res.Contributions[:lens[1]], res.Unmatched[:lens[2]]
		res.Activity, res.Hydrate = res.Activity[:lens[3]], res.Hydrate[:lens[4]]
		s.poison(res, i, "panic", fmt.Errorf("enrich: panic processing the record: %v", p), &r)
	}()
	s.processRecord(ro, gen, res, i, data, &r)
}

// processRecord decodes data into r, maps and attributes it into res.
func (s *Service) processRecord(ro *roster.Roster, gen uint32, res *Result, i int, data []byte, r *events.Raw) {
	if err := mapper.DecodeJSON(data, r); err != nil {
		s.poison(res, i, "decode", err, nil)
		return
	}
	if r.Source == events.SourceGHArchiveTotals {
		h, err := decodeTotals(ro, r)
		if err != nil {
			s.poison(res, i, "decode", err, r)
			return
		}
		s.records.WithLabelValues("totals").Inc()
		res.Activity = append(res.Activity, h)
		return
	}
	cs, err := mapRecord(r)
	if errors.Is(err, mapper.ErrNotContribution) {
		s.records.WithLabelValues("not_contribution").Inc()
		if r.Source == events.SourceWebhook {
			res.Raw = append(res.Raw, *r) // unknown webhook types are kept raw, counted, not failed
		}
		return
	}
	if err != nil {
		s.poison(res, i, "map", err, r)
		return
	}
	if err := storedVersions(cs, gen); err != nil {
		s.poison(res, i, "version", err, r)
		return
	}
	if h, ok := s.hydration(ro, r, len(cs)); ok {
		res.Hydrate = append(res.Hydrate, h)
	}
	kept := 0
	for _, c := range cs {
		if s.ids.optedOut(ro, &c) {
			continue
		}
		s.attribute(ro, &c)
		res.Contributions = append(res.Contributions, c)
		res.Unmatched = append(res.Unmatched, s.ids.unmatched(&c)...)
		kept++
	}
	if kept == 0 && len(cs) > 0 {
		s.records.WithLabelValues("opted_out").Inc()
		return
	}
	s.records.WithLabelValues("mapped").Inc()
	res.Raw = append(res.Raw, *r)
}

// poison decides the record at index i Term, failed at stage; r is the record when it was
// decoded, else nil.
func (s *Service) poison(res *Result, i int, stage string, err error, r *events.Raw) {
	res.Decisions[i] = bus.Term
	f := Failure{Stage: stage, Err: err}
	if r != nil {
		f.Source, f.Origin = r.Source, r.Origin
	}
	if res.Failures == nil {
		res.Failures = map[int]Failure{}
	}
	res.Failures[i] = f
	s.records.WithLabelValues("poison").Inc()
	s.log.Warn("raw record cannot be processed", slog.String("stage", stage), slog.String("source", f.Source), slog.String("origin", f.Origin), slog.Any("err", err))
}

// storedVersions turns the mapper's versions (the state's ms) into the versions the
// contributions are stored with, which also carry the roster generation (events.Version).
func storedVersions(cs []events.Contribution, gen uint32) error {
	for i := range cs {
		v, err := events.NewVersion(cs[i].Version, gen)
		if err != nil {
			return fmt.Errorf("enrich: contribution %s: %w", cs[i].ID, err)
		}
		cs[i].Version = uint64(v)
	}
	return nil
}

// attribute fills the employee, team and destination of a contribution. The person comes
// first: a repository owned by any login of the matched person is their personal repository, not
// only one owned by the login that acted. is_upstream is the upstream destination: a
// third-party repository, neither the company's, nor the contributor's own, nor a fork.
func (s *Service) attribute(ro *roster.Roster, c *events.Contribution) {
	logins := []string{c.ActorLogin}
	if m, ok := s.ids.match(ro, c); ok {
		c.EmployeeID, c.Team = m.EmployeeID, m.Team
		logins = append(logins, s.logins.of(ro, m.EmployeeID)...)
	}
	public := c.Source == events.SourceGHArchive || (c.RepoPrivate != nil && !*c.RepoPrivate)
	k := s.classes.Load().Classify(repoclass.Repo{Name: c.Repo, Public: public, Fork: c.RepoFork}, logins...)
	c.Destination, c.Foundation, c.IsDependency, c.DependencyCriticality = k.Destination, k.Foundation, k.IsDependency, k.Criticality
	c.IsUpstream = c.Destination == repoclass.Upstream
}

// publish sends stored contributions on the enriched feed and hydration requests to ingest, and
// waits until the bus has them all.
func (s *Service) publish(ctx context.Context, cs []events.Contribution, hs []events.Hydrate) error {
	for i := range cs {
		c := &cs[i]
		data, err := gojson.Marshal(c)
		if err != nil {
			return fmt.Errorf("enrich: encode contribution %s: %w", c.ID, err)
		}
		if err := s.pub.PublishData(ctx, events.SubjectContribution, c.ID+"@"+strconv.FormatUint(c.Version, 10), data); err != nil {
			return fmt.Errorf("enrich: %w", err)
		}
	}
	for i := range hs {
		data, err := gojson.Marshal(&hs[i])
		if err != nil {
			return fmt.Errorf("enrich: encode hydration request %s: %w", hs[i].MsgID(), err)
		}
		if err := s.pub.PublishData(ctx, events.SubjectHydrate, hs[i].MsgID(), data); err != nil {
			return fmt.Errorf("enrich: %w", err)
		}
		s.hydrations.WithLabelValues(hs[i].Kind).Inc()
	}
	if err := s.pub.Flush(ctx); err != nil {
		return fmt.Errorf("enrich: publish: %w", err)
	}
	return nil
}
