// Package ingest is Giveback's collecting service: it reads GH Archive hours (backfill), receives
// GitHub webhooks and syncs the roster's logins through the REST API, and publishes everything
// unchanged as events.Raw on the bus for enrich.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/services/ingest/gharchive"
	"giveback.dev/services/ingest/githubsync"
	"giveback.dev/services/ingest/webhook"
)

// Options configures a Service.
type Options struct {
	Publisher *bus.Publisher     // required
	KV        jetstream.KeyValue // the events.BucketCursors bucket; required
	// Statuses (events.BucketStatus) keeps the REST sync's and hydration's statuses, HydrateWatch
	// (events.BucketHydrateWatch) the open pull requests hydration re-checks, WatchedRepos
	// (events.BucketWatchedRepos) the repositories enrich asks to count; OpenBuckets opens them.
	Statuses, HydrateWatch, WatchedRepos jetstream.KeyValue
	// Log receives the service's logs; nil discards them.
	Log *slog.Logger

	// WebhookSecret verifies deliveries; empty, the webhook refuses every one.
	WebhookSecret   []byte
	WebhookMaxBytes int64
	// WebhookReplays, when set, is the bucket of recent webhook body hashes
	// (webhook.OpenReplays): a signed body replayed under another delivery id is dropped.
	WebhookReplays jetstream.KeyValue
	// Registry, when set, receives the ingest metrics.
	Registry prometheus.Registerer

	// Parallel is how many GH Archive hours a backfill reads at once.
	Parallel int
	// Filter keeps GH Archive lines (gharchive.LoginFilter); nil keeps every event.
	Filter     func(line []byte) bool
	HTTPClient *http.Client
	// WatchRepos, when set, returns the repositories (owner/name) whose whole activity a
	// backfill counts (project totals, events.HourTotals). Nil reads the JSON array enrich keeps
	// in events.BucketWatchedRepos under events.KeyTotalsRepos at the start of each backfill.
	WatchRepos func() map[string]bool

	// Syncer runs the REST sync; nil disables it. Its REST client's Publish, Flush and KV
	// default to the service's, its Statuses to Statuses.
	Syncer       *githubsync.Syncer
	SyncInterval time.Duration // default 15m

	// Hydrator, when set, fills trimmed GH Archive events from the REST API: it takes the
	// requests enrich publishes (events.SubjectHydrate) and re-checks the open pull requests it
	// watches every SyncInterval. It may share the Syncer's REST client (tokens and ETags); the
	// client's Publish, Flush and KV default to the service's, its Statuses and Watch to
	// Statuses and HydrateWatch. JS is required with it.
	Hydrator *githubsync.Hydrator
	JS       jetstream.JetStream
}

// Service is the ingest service.
type Service struct {
	o       Options
	log     *slog.Logger
	webhook *webhook.Handler
	// hydrations counts hydration requests by outcome; watched is the number of open pull
	// requests hydration re-checks (hydrate.go).
	hydrations *prometheus.CounterVec
	watched    prometheus.Gauge

	// following stops the roster follower FromConfig started and waits for it (nil: none); Run
	// calls it on its way out.
	following func()
}

// New returns the service configured by o; FromConfig builds o from the configuration.
func New(o Options) (*Service, error) {
	if o.Publisher == nil || o.KV == nil {
		return nil, errors.New("ingest: a publisher and the cursor bucket are required")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{o: o, log: log.With(slog.String("component", "ingest"))}
	s.webhook = &webhook.Handler{Secret: o.WebhookSecret, MaxBytes: o.WebhookMaxBytes, Publish: o.Publisher.PublishSync, Replays: o.WebhookReplays, Log: log}
	s.hydrations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "giveback", Subsystem: "ingest", Name: "hydration_requests_total",
		Help: "Requests to fill trimmed GH Archive events from the REST API, by outcome (done, retry, given_up, malformed, invalid).",
	}, []string{"outcome"})
	s.watched = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "giveback", Subsystem: "ingest", Name: "hydration_watched_pull_requests",
		Help: "Open pull requests hydration re-checks until they close.",
	})
	if o.Registry != nil {
		m, err := webhook.NewMetrics(o.Registry)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		s.webhook.Metrics = m
		if err := o.Registry.Register(s.hydrations); err != nil {
			return nil, fmt.Errorf("ingest: register metrics: %w", err)
		}
		if err := o.Registry.Register(s.watched); err != nil {
			return nil, fmt.Errorf("ingest: register metrics: %w", err)
		}
	}
	var rests []*githubsync.REST
	if o.Syncer != nil {
		if o.Syncer.Statuses == nil {
			o.Syncer.Statuses = o.Statuses
		}
		if o.Syncer.REST == nil || o.Syncer.Statuses == nil {
			return nil, errors.New("ingest: the REST sync needs its REST client and the status bucket (Options.OpenBuckets)")
		}
		rests = append(rests, o.Syncer.REST)
	}
	if o.Hydrator != nil {
		if o.Hydrator.Statuses == nil {
			o.Hydrator.Statuses = o.Statuses
		}
		if o.Hydrator.Watch == nil {
			o.Hydrator.Watch = o.HydrateWatch
		}
		if o.Hydrator.REST == nil || o.Hydrator.Statuses == nil || o.Hydrator.Watch == nil {
			return nil, errors.New("ingest: hydration needs its REST client and the status and watch buckets (Options.OpenBuckets)")
		}
		rests = append(rests, o.Hydrator.REST)
	}
	for _, r := range rests {
		if r.Publish == nil {
			r.Publish = o.Publisher.Publish
			r.Flush = o.Publisher.Flush
		}
		if r.KV == nil {
			r.KV = o.KV
		}
		if r.Log == nil {
			r.Log = log
		}
	}
	if o.Hydrator != nil && o.JS == nil {
		return nil, errors.New("ingest: hydration needs the JetStream context (Options.JS)")
	}
	if len(o.WebhookSecret) == 0 {
		s.log.Warn("no webhook secret: the webhook receiver refuses every delivery")
	}
	return s, nil
}

// WebhookHandler returns the receiver of GitHub deliveries, to mount at webhook.Path.
func (s *Service) WebhookHandler() http.Handler { return s.webhook }

// Backfill reads the GH Archive hours from..to (both included) from source, a directory or an
// http(s) base URL, and publishes every event the filter keeps. Once every event of an hour is
// stored on the bus, the hour is marked in the cursor bucket, and a later backfill skips it.
// Missing hours are counted and not marked; failed hours are returned as errors and not marked.
func (s *Service) Backfill(ctx context.Context, source string, from, to time.Time, progress func(gharchive.Progress)) (gharchive.Stats, error) {
	hours := gharchive.Hours(from, to)
	watch, err := s.watchRepos(ctx)
	if err != nil {
		return gharchive.Stats{}, err
	}
	r := &gharchive.Reader{
		Watch:      watch,
		Totals:     s.publishTotals,
		Source:     source,
		Parallel:   s.o.Parallel,
		Filter:     s.o.Filter,
		HTTPClient: s.o.HTTPClient,
		Log:        s.o.Log,
		Done: func(ctx context.Context, h time.Time) bool {
			_, err := s.o.KV.Get(ctx, events.KeyHourDone(h))
			if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
				s.log.Warn("cannot tell whether an hour is done; reading it again", slog.String("hour", gharchive.HourKey(h)), slog.Any("err", err))
			}
			return err == nil
		},
		Finished: func(ctx context.Context, h time.Time) error {
			if err := s.o.Publisher.Flush(ctx); err != nil {
				return fmt.Errorf("publish: %w", err)
			}
			if _, err := s.o.KV.Put(ctx, events.KeyHourDone(h), []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
				return fmt.Errorf("mark %s done: %w", events.KeyHourDone(h), err)
			}
			return nil
		},
	}
	s.log.Info("backfill starting", slog.String("source", source), slog.Int("hours", len(hours)),
		slog.Time("from", from), slog.Time("to", to))
	st, err := r.Read(ctx, hours, s.o.Publisher.Publish, progress)
	if ferr := s.o.Publisher.Flush(context.WithoutCancel(ctx)); ferr != nil {
		err = errors.Join(err, fmt.Errorf("ingest: backfill: publish: %w", ferr))
	}
	s.log.Info("backfill done", slog.Int("hours", st.Hours), slog.Int("skipped", st.SkippedHours),
		slog.Int("missing", st.MissingHours), slog.Int("failed", st.FailedHours), slog.Int64("events", st.Events),
		slog.Int64("malformed", st.Malformed), slog.Int64("filtered", st.Filtered))
	return st, err
}

// Run runs the REST sync every SyncInterval, and hydration, until ctx ends; without either it
// only waits for ctx. It returns nil when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	interval := s.o.SyncInterval
	if interval <= 0 {
		interval = 15 * time.Minute
	}
	g, ctx := errgroup.WithContext(ctx)
	if s.o.Syncer == nil {
		s.log.Info("REST sync disabled")
	} else {
		s.log.Info("REST sync running", slog.Int("logins", len(s.o.Syncer.CurrentLogins())), slog.Duration("interval", interval))
		g.Go(func() error {
			s.o.Syncer.Run(ctx, interval)
			return nil
		})
	}
	if s.o.Hydrator == nil {
		s.log.Info("hydration of trimmed GH Archive events disabled (no GitHub token or app, or github.hydrate: false)")
	} else {
		g.Go(func() error { return s.runHydration(ctx, interval) })
	}
	<-ctx.Done()
	err := g.Wait()
	if s.following != nil {
		s.following()
	}
	return err
}

// SyncStatus returns the REST sync's status per login, nil when the sync is disabled.
func (s *Service) SyncStatus() []events.RESTStatus {
	if s.o.Syncer == nil {
		return nil
	}
	return s.o.Syncer.Status()
}
