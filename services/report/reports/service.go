package reports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/services/report/metrics"
)

// BuildFunc builds a definition's report for a period; BuildWith over the store is the one the
// service uses unless told otherwise.
type BuildFunc func(ctx context.Context, def Definition, p Period, now time.Time, opt Options) (*Report, error)

// ServiceOptions configure a Service. Definitions and Claims are required; the rest have
// defaults.
type ServiceOptions struct {
	Definitions []Definition
	// Store is where the metrics are read and the reports archived; nil archives nothing (and
	// needs Build).
	Store *store.Store
	// Claims is the claims bucket (OpenClaims), shared by every replica.
	Claims jetstream.KeyValue
	// Replica names this replica in claims and the archive; empty draws host-random.
	Replica string
	// Build builds a report; nil is BuildWith over Store.
	Build BuildFunc
	// Senders send the deliveries.
	Senders Senders
	// Now is the clock; nil is time.Now. Tests drive the service with Tick and their own times.
	Now func() time.Time
	Log *slog.Logger
	// Registry receives the service's Prometheus metrics; nil registers none.
	Registry prometheus.Registerer
	// BaseURL is the dashboard's public address, for the links of the reports.
	BaseURL string
	// Affiliate tells the organizations of outside contributors, as the dashboard's does, so a
	// report's Elephant Factors and organization counts equal the dashboard's; nil leaves them
	// all of unknown organization.
	Affiliate metrics.Affiliate
	// ClaimTTL is how long a claim holds without being renewed before another replica may take
	// it over (default 10m); every attempt renews it.
	ClaimTTL time.Duration
	// Attempts is how many times a delivery is tried before it is marked failed (default 4).
	Attempts int
	// Backoff is the wait before the first retry, doubled after each (default 30s), up to
	// MaxBackoff (default 5m).
	Backoff, MaxBackoff time.Duration
	// LateAfter is how long after its due time a run counts as a catch-up and says it was late
	// (default 5m).
	LateAfter time.Duration
	// Rescan is how often the service looks again for deliveries left undone, e.g. by a replica
	// that died holding a claim (default 1m).
	Rescan time.Duration
}

// Service runs the scheduled reports inside `giveback report` and `giveback up`: at each due
// time of a definition's schedule, and at start for the last due period that was missed, it
// builds the report, archives it and sends each delivery exactly once across replicas.
type Service struct {
	opts    ServiceOptions
	defs    []Definition
	sched   map[string]cronSchedule
	claims  *claims
	archive *Archive
	log     *slog.Logger

	generated  *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	overdue    *prometheus.GaugeVec

	mu          sync.Mutex
	lastSuccess map[string]time.Time // report → newest delivery done
	isOverdue   map[string]bool
}

// NewService checks the definitions (a bad one is an error naming the report, the key and the
// reason) and returns the service.
func NewService(o ServiceOptions) (*Service, error) {
	if o.Claims == nil {
		return nil, errors.New("reports: the service needs the claims bucket")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Replica == "" {
		host, _ := os.Hostname()
		var r [3]byte
		_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
		o.Replica = host + "-" + hex.EncodeToString(r[:])
	}
	if o.ClaimTTL <= 0 {
		o.ClaimTTL = 10 * time.Minute
	}
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.LateAfter <= 0 {
		o.LateAfter = 5 * time.Minute
	}
	if o.Rescan <= 0 {
		o.Rescan = time.Minute
	}
	if o.MaxBackoff >= o.ClaimTTL {
		return nil, fmt.Errorf("reports: the longest backoff %s must be shorter than the claim TTL %s", o.MaxBackoff, o.ClaimTTL)
	}
	if o.Build == nil {
		if o.Store == nil {
			return nil, errors.New("reports: the service needs a store or a build function")
		}
		st := o.Store
		o.Build = func(ctx context.Context, def Definition, p Period, now time.Time, opt Options) (*Report, error) {
			return BuildWith(ctx, st, def, p, now, opt)
		}
	}
	s := &Service{
		opts: o, defs: o.Definitions, sched: map[string]cronSchedule{},
		claims:      &claims{kv: o.Claims, replica: o.Replica, ttl: o.ClaimTTL},
		log:         o.Log.With(slog.String("component", "reports"), slog.String("replica", o.Replica)),
		lastSuccess: map[string]time.Time{}, isOverdue: map[string]bool{},
	}
	if o.Store != nil {
		s.archive = NewArchive(o.Store)
	}
	var errs []error
	seen := map[string]bool{}
	for _, d := range o.Definitions {
		sc, _, err := d.schedule()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := PeriodFor(d.Period, time.Now(), time.UTC); err != nil {
			errs = append(errs, fmt.Errorf("report %q: period: %w", d.Name, err))
		}
		if seen[d.Name] {
			errs = append(errs, fmt.Errorf("report %q: name: is used by another report", d.Name))
		}
		seen[d.Name] = true
		if len(d.Deliveries) == 0 {
			errs = append(errs, fmt.Errorf("report %q: deliveries: must list at least one delivery", d.Name))
		}
		s.sched[d.Name] = sc
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.generated = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "giveback_reports_generated_total",
		Help: "Reports generated, by report."}, []string{"report"})
	s.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "giveback_report_deliveries_total",
		Help: "Delivery attempts of reports, by report, delivery and outcome (sent, failed)."}, []string{"report", "delivery", "outcome"})
	s.overdue = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "giveback_report_overdue",
		Help: "1 when the report's last due period was not delivered within its grace period."}, []string{"report"})
	if o.Registry != nil {
		for _, c := range []prometheus.Collector{s.generated, s.deliveries, s.overdue, ageCollector{s}} {
			if err := o.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("reports: metrics: %w", err)
			}
		}
	}
	return s, nil
}

// ageCollector exports the age of the last successful send of each report.
type ageCollector struct{ s *Service }

var ageDesc = prometheus.NewDesc("giveback_report_last_success_age_seconds",
	"Seconds since a delivery of the report last succeeded (any replica); absent before the first.", []string{"report"}, nil)

func (a ageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- ageDesc }

func (a ageCollector) Collect(ch chan<- prometheus.Metric) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	now := a.s.opts.Now()
	for name, t := range a.s.lastSuccess {
		ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, now.Sub(t).Seconds(), name)
	}
}

// Definitions returns the service's definitions.
func (s *Service) Definitions() []Definition { return s.defs }

// Definition returns the definition named name.
func (s *Service) Definition(name string) (Definition, bool) {
	for _, d := range s.defs {
		if d.Name == name {
			return d, true
		}
	}
	return Definition{}, false
}

// Archive returns the archive, nil without a store.
func (s *Service) Archive() *Archive { return s.archive }

// The triggers of a run.
const (
	TriggerSchedule = "schedule"
	TriggerCatchUp  = "catch-up"
	TriggerManual   = "manual"
)

// Run ticks at start (catching up the last due period of each report that was missed) and then
// at each due time, and every Rescan for deliveries another replica left undone, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	s.log.Info("reports scheduled", slog.Int("reports", len(s.defs)))
	for {
		if err := s.Tick(ctx, s.opts.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("reports", slog.Any("err", err))
		}
		now := s.opts.Now()
		next := now.Add(s.opts.Rescan)
		for _, sc := range s.sched {
			if n := sc.Next(now); !n.IsZero() && n.Before(next) {
				next = n
			}
		}
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Tick does what is due at now: for each report, the period of its latest due time at or
// before now is built and sent to each delivery no replica has sent it to (a run more than
// LateAfter after its due time is a catch-up, and says so), and a report still undelivered
// after its grace period is flagged overdue and its owner told once.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.defs))
	for i, def := range s.defs {
		due := LastDue(s.sched[def.Name], now)
		if due.IsZero() {
			continue
		}
		wg.Go(func() {
			p, err := PeriodFor(def.Period, due, def.Location())
			if err != nil {
				errs[i] = err
				return
			}
			trigger := TriggerSchedule
			if now.Sub(due) > s.opts.LateAfter {
				trigger = TriggerCatchUp
			}
			if _, err := s.runPeriod(ctx, def, p, due, now, trigger, false, ""); err != nil {
				errs[i] = err
			}
			if err := s.checkOverdue(ctx, def, p, due, now); err != nil {
				errs[i] = errors.Join(errs[i], err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// RunRequest asks for a run of one report outside its schedule.
type RunRequest struct {
	Name string
	// Period is a period label (ParsePeriod); empty is the period of the last due time.
	Period string
	// Force sends again to deliveries that were sent (or given up) already.
	Force bool
	// Delivery restricts the run to one delivery; empty is every delivery.
	Delivery string
}

// RunResult is what a run did.
type RunResult struct {
	Name      string `json:"name"`
	Period    string `json:"period"`
	Trigger   string `json:"trigger"`
	Late      bool   `json:"late"`
	Generated bool   `json:"generated"`
	// Archived is true when this run was written to the archive; false when another replica
	// archived the same numbers for the period (or there is no archive).
	Archived   bool             `json:"archived"`
	Deliveries []DeliveryResult `json:"deliveries"`
}

// DeliveryResult is what became of one delivery in a run.
type DeliveryResult struct {
	Delivery string `json:"delivery"`
	Kind     string `json:"kind"`
	// Outcome is sent, failed, skipped (sent or given up before; --force sends again), or busy
	// (another replica holds the claim), or lost (another replica took the claim over).
	Outcome  string `json:"outcome"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
}

// Resolve returns the definition and period a request names.
func (s *Service) Resolve(req RunRequest) (Definition, Period, time.Time, error) {
	def, ok := s.Definition(req.Name)
	if !ok {
		return def, Period{}, time.Time{}, fmt.Errorf("no report named %q", req.Name)
	}
	if req.Delivery != "" && !slices.ContainsFunc(def.Deliveries, func(d Delivery) bool { return d.Name == req.Delivery }) {
		return def, Period{}, time.Time{}, fmt.Errorf("report %q has no delivery %q", req.Name, req.Delivery)
	}
	now := s.opts.Now()
	if req.Period == "" {
		due := LastDue(s.sched[def.Name], now)
		if due.IsZero() {
			return def, Period{}, time.Time{}, fmt.Errorf("report %q has not been due yet; give a period", def.Name)
		}
		p, err := PeriodFor(def.Period, due, def.Location())
		return def, p, due, err
	}
	p, err := ParsePeriod(def.Period, req.Period, def.Location())
	return def, p, p.To, err
}

// RunNow runs one report for a period at once, delivering to each delivery not yet sent (all
// of them again with Force).
func (s *Service) RunNow(ctx context.Context, req RunRequest) (RunResult, error) {
	def, p, due, err := s.Resolve(req)
	if err != nil {
		return RunResult{}, err
	}
	return s.runPeriod(ctx, def, p, due, s.opts.Now(), TriggerManual, req.Force, req.Delivery)
}

// elapsedFrom returns a clock that starts at now and advances as real time does: the time a run
// stamps on its claims and attempts, so that a run at a given instant (a tick, or a test's
// chosen time) keeps its claims alive as long as it works.
func elapsedFrom(now time.Time) func() time.Time {
	start := time.Now()
	return func() time.Time { return now.Add(time.Since(start)) }
}

// held is a delivery this replica claimed.
type held struct {
	d  Delivery
	cl *claim
}

// runPeriod claims the deliveries of (def, p) it may send, builds the report once if it holds
// any, archives it and sends them.
func (s *Service) runPeriod(ctx context.Context, def Definition, p Period, due, now time.Time, trigger string, force bool, only string) (RunResult, error) {
	clock := elapsedFrom(now)
	res := RunResult{Name: def.Name, Period: p.Label, Trigger: trigger, Late: trigger == TriggerCatchUp}
	var mine []held
	for _, d := range def.Deliveries {
		if only != "" && d.Name != only {
			continue
		}
		cl, ok, err := s.claims.take(ctx, events.KeyReportClaim(def.Name, p.Label, d.Name), now, force)
		if err != nil {
			return res, err
		}
		if !ok {
			out := DeliveryResult{Delivery: d.Name, Kind: d.Kind, Outcome: "busy"}
			if v, _, found, err := s.claims.get(ctx, events.KeyReportClaim(def.Name, p.Label, d.Name)); err == nil && found && v.State != events.ClaimSending {
				out.Outcome, out.Attempts, out.Error = "skipped", v.Attempts, v.Error
			}
			res.Deliveries = append(res.Deliveries, out)
			continue
		}
		mine = append(mine, held{d, cl})
	}
	if len(mine) == 0 {
		return res, nil
	}
	log := s.log.With(slog.String("report", def.Name), slog.String("period", p.Label), slog.String("trigger", trigger))
	rep, err := s.opts.Build(ctx, def, p, now, Options{BaseURL: s.opts.BaseURL, Affiliate: s.opts.Affiliate, Late: res.Late, Due: due})
	if err != nil {
		// Give the claims back, so that the next tick of any replica tries again.
		for _, h := range mine {
			if rerr := s.claims.release(context.WithoutCancel(ctx), h.cl); rerr != nil {
				log.Warn("release claim", slog.Any("err", rerr))
			}
		}
		return res, fmt.Errorf("report %q %s: build: %w", def.Name, p.Label, err)
	}
	// The deliveries file and name the report by its definition and period.
	rep.Name, rep.Period = def.Name, p
	res.Generated = true
	s.generated.WithLabelValues(def.Name).Inc()
	if s.archive != nil {
		res.Archived = s.archiveRun(ctx, def, p, due, now, trigger, rep, force, clock, log)
	}
	log.Info("report generated", slog.String("hash", rep.Hash), slog.Int("deliveries", len(mine)))
	results := make([]DeliveryResult, len(mine))
	var wg sync.WaitGroup
	for i, h := range mine {
		wg.Go(func() { results[i] = s.deliver(ctx, def, p, h, rep, clock, log) })
	}
	wg.Wait()
	res.Deliveries = append(res.Deliveries, results...)
	return res, nil
}

// archiveRun archives the run unless another replica archived the same numbers for the period
// (replicas that claimed different deliveries each build the report), and reports whether it
// did. A failure to archive is logged and does not stop the sends.
func (s *Service) archiveRun(ctx context.Context, def Definition, p Period, due, now time.Time, trigger string, rep *Report, force bool, clock func() time.Time, log *slog.Logger) bool {
	mine, rev, err := s.claims.archiveTurn(ctx, def.Name, p.Label, rep.Hash, clock, force)
	if err != nil {
		log.Error("archive", slog.Any("err", err))
		return false
	}
	if !mine {
		log.Info("report archived already by another replica", slog.String("hash", rep.Hash))
		return false
	}
	if err := s.archive.RecordRun(ctx, s.runRecord(def, p, due, now, trigger, rep)); err != nil {
		log.Error("archive", slog.Any("err", err))
		if rerr := s.claims.archiveFailed(context.WithoutCancel(ctx), def.Name, p.Label, rev); rerr != nil {
			log.Warn("release archive marker", slog.Any("err", rerr))
		}
		return false
	}
	if err := s.claims.archived(context.WithoutCancel(ctx), def.Name, p.Label, rep.Hash, rev, clock()); err != nil {
		log.Warn("archive marker", slog.Any("err", err))
	}
	return true
}

func (s *Service) runRecord(def Definition, p Period, due, now time.Time, trigger string, rep *Report) Run {
	numbers, err := json.Marshal(rep.Numbers)
	if err != nil {
		numbers = nil
	}
	return Run{
		Name: def.Name, Period: p.Label, PeriodFrom: p.From, PeriodTo: p.To, TimeZone: p.TZ.String(), Title: def.Title,
		Subject: rep.Subject, Due: due, GeneratedAt: now, Late: trigger == TriggerCatchUp, Trigger: trigger, Replica: s.opts.Replica,
		Hash: rep.Hash, Metrics: rep.MetricsVersion, Empty: rep.Empty, Numbers: numbers, Summary: rep.Summary,
		HTML: rep.HTML, WebHTML: rep.WebHTML, Text: rep.Text, Markdown: rep.Markdown, CSV: rep.CSV, PDF: rep.PDF, PDFLetter: rep.PDFLetter,
	}
}

// deliver sends to one claimed delivery, retrying with a bounded exponential backoff; every
// attempt is archived and counted. If ctx ends mid-way (the replica stops) before a send went
// out, the claim is left to expire, and another replica finishes the send. A send that went out
// is recorded and its claim settled even while the replica stops (within recordTimeout): left
// to expire, the claim would have another replica send the report a second time.
func (s *Service) deliver(ctx context.Context, def Definition, p Period, h held, rep *Report, clock func() time.Time, log *slog.Logger) DeliveryResult {
	out := DeliveryResult{Delivery: h.d.Name, Kind: h.d.Kind}
	log = log.With(slog.String("delivery", h.d.Name))
	wait := s.opts.Backoff
	for attempt := 1; ; attempt++ {
		if err := s.claims.renew(ctx, h.cl, clock()); err != nil {
			out.Outcome, out.Error = "lost", err.Error()
			return out
		}
		out.Attempts = h.cl.value.Attempts
		start := time.Now()
		err := s.opts.Senders.Send(ctx, h.d, rep)
		if err != nil && ctx.Err() != nil {
			out.Outcome, out.Error = "stopped", ctx.Err().Error()
			return out
		}
		if s.recordAttempt(ctx, def, p, h, &out, attempt, start, err, clock, log) {
			return out
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			out.Outcome = "stopped"
			return out
		case <-t.C:
		}
		wait = min(2*wait, s.opts.MaxBackoff)
	}
}

// recordTimeout bounds the archiving and settling of an attempt that ended while the replica
// stops.
const recordTimeout = 10 * time.Second

// recordAttempt archives and counts the attempt-th attempt of deliver, sets out, and settles the
// claim when the send went out (sendErr nil), or when it failed for the last time; it reports
// whether deliver is done. It works on a context that outlives ctx by recordTimeout: the attempt
// happened, whether the replica stops or not.
func (s *Service) recordAttempt(ctx context.Context, def Definition, p Period, h held, out *DeliveryResult, attempt int,
	start time.Time, sendErr error, clock func() time.Time, log *slog.Logger) (done bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	at := clock()
	a := Attempt{Name: def.Name, Period: p.Label, Delivery: h.d.Name, Kind: h.d.Kind, Attempt: out.Attempts, At: at,
		Outcome: OutcomeSent, Took: time.Since(start).Milliseconds(), Replica: s.opts.Replica}
	if sendErr != nil {
		a.Outcome, a.Error = OutcomeFailed, sendErr.Error()
	}
	s.deliveries.WithLabelValues(def.Name, h.d.Name, a.Outcome).Inc()
	if s.archive != nil {
		if aerr := s.archive.RecordAttempt(ctx, a); aerr != nil {
			log.Error("archive attempt", slog.Any("err", aerr))
		}
	}
	if sendErr == nil {
		if serr := s.claims.settle(ctx, h.cl, at, nil); serr != nil {
			log.Error("mark sent", slog.Any("err", serr))
		}
		s.mu.Lock()
		if at.After(s.lastSuccess[def.Name]) {
			s.lastSuccess[def.Name] = at
		}
		s.mu.Unlock()
		log.Info("report delivered", slog.Int("attempt", out.Attempts))
		out.Outcome, out.Error = OutcomeSent, ""
		return true
	}
	out.Error = sendErr.Error()
	log.Warn("delivery failed", slog.Int("attempt", out.Attempts), slog.Any("err", sendErr))
	if attempt >= s.opts.Attempts {
		if serr := s.claims.settle(ctx, h.cl, at, sendErr); serr != nil {
			log.Error("mark failed", slog.Any("err", serr))
		}
		out.Outcome = OutcomeFailed
		return true
	}
	return false
}

// DeliveryState is the state of one delivery of a period, from its claim.
type DeliveryState struct {
	Delivery string    `json:"delivery"`
	Kind     string    `json:"kind"`
	State    string    `json:"state"` // pending, sending, done, failed
	Attempts int       `json:"attempts"`
	Done     time.Time `json:"done,omitzero"`
	Error    string    `json:"error,omitempty"`
}

// Status is the state of one report: its schedule, its last due period and the state of each
// of its deliveries.
type Status struct {
	Name       string          `json:"name"`
	Title      string          `json:"title"`
	Schedule   string          `json:"schedule"`
	TimeZone   string          `json:"time_zone"`
	Next       time.Time       `json:"next"`
	LastDue    time.Time       `json:"last_due,omitzero"`
	Period     string          `json:"period,omitempty"`
	Overdue    bool            `json:"overdue"`
	Deliveries []DeliveryState `json:"deliveries"`
}

// States returns the state of each delivery of (def, p).
func (s *Service) States(ctx context.Context, def Definition, p Period) ([]DeliveryState, error) {
	out := make([]DeliveryState, 0, len(def.Deliveries))
	for _, d := range def.Deliveries {
		st := DeliveryState{Delivery: d.Name, Kind: d.Kind, State: "pending"}
		v, _, ok, err := s.claims.get(ctx, events.KeyReportClaim(def.Name, p.Label, d.Name))
		if err != nil {
			return nil, err
		}
		if ok {
			st.State, st.Attempts, st.Done, st.Error = v.State, v.Attempts, v.Done, v.Error
		}
		out = append(out, st)
	}
	return out, nil
}

// Statuses returns the status of every report at now.
func (s *Service) Statuses(ctx context.Context) ([]Status, error) {
	now := s.opts.Now()
	out := make([]Status, 0, len(s.defs))
	for _, def := range s.defs {
		loc := def.Location()
		st := Status{Name: def.Name, Title: def.Title, Schedule: def.Schedule, TimeZone: loc.String(), Next: s.sched[def.Name].Next(now).In(loc)}
		if due := LastDue(s.sched[def.Name], now); !due.IsZero() {
			p, err := PeriodFor(def.Period, due, loc)
			if err != nil {
				return nil, err
			}
			st.LastDue, st.Period = due.In(loc), p.Label
			if st.Deliveries, err = s.States(ctx, def, p); err != nil {
				return nil, err
			}
			st.Overdue = overdue(def, due, now, st.Deliveries)
		}
		out = append(out, st)
	}
	return out, nil
}

// overdue reports whether a period due at due is still not delivered everywhere at now, after
// the grace period.
func overdue(def Definition, due, now time.Time, states []DeliveryState) bool {
	if !now.After(due.Add(def.Grace)) {
		return false
	}
	for _, st := range states {
		if st.State != events.ClaimDone {
			return true
		}
	}
	return false
}

// keyOverdueNotice is the claim of the overdue notice to a report's owner, sent once per period.
const keyOverdueNotice = "overdue-notice"

// checkOverdue sets the overdue gauge of def, and tells the owner once when its period is
// overdue.
func (s *Service) checkOverdue(ctx context.Context, def Definition, p Period, due, now time.Time) error {
	states, err := s.States(ctx, def, p)
	if err != nil {
		return err
	}
	late := overdue(def, due, now, states)
	var newest time.Time
	for _, st := range states {
		if st.State == events.ClaimDone && st.Done.After(newest) {
			newest = st.Done
		}
	}
	s.mu.Lock()
	s.isOverdue[def.Name] = late
	if newest.After(s.lastSuccess[def.Name]) {
		s.lastSuccess[def.Name] = newest
	}
	s.mu.Unlock()
	v := 0.0
	if late {
		v = 1
	}
	s.overdue.WithLabelValues(def.Name).Set(v)
	if !late || def.Owner == "" {
		return nil
	}
	cl, ok, err := s.claims.take(ctx, events.KeyReportClaim(def.Name, p.Label, keyOverdueNotice), now, false)
	if err != nil || !ok {
		return err
	}
	if err := s.claims.renew(ctx, cl, now); err != nil {
		return nil
	}
	sendErr := s.notifyOwner(ctx, def, p, due, states)
	if sendErr != nil {
		s.log.Warn("overdue notice", slog.String("report", def.Name), slog.Any("err", sendErr))
	}
	return s.claims.settle(ctx, cl, now, sendErr)
}

// notifyOwner mails the owner that the period is overdue, through the report's first smtp
// delivery's server.
func (s *Service) notifyOwner(ctx context.Context, def Definition, p Period, due time.Time, states []DeliveryState) error {
	i := slices.IndexFunc(def.Deliveries, func(d Delivery) bool { return d.Kind == "smtp" })
	if i < 0 {
		return errNoSMTP
	}
	d := def.Deliveries[i]
	text := fmt.Sprintf("The report %q (%s) for %s was due at %s and is not delivered everywhere after its grace period of %s.\r\n\r\n",
		def.Title, def.Name, p.Label, due.In(def.Location()).Format(time.RFC1123), def.Grace)
	for _, st := range states {
		text += fmt.Sprintf("- %s (%s): %s after %d attempts %s\r\n", st.Delivery, st.Kind, st.State, st.Attempts, st.Error)
	}
	if s.opts.BaseURL != "" {
		text += "\r\n" + s.opts.BaseURL + "/reports/" + def.Name + "/" + p.Label + "\r\n"
	}
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s",
		d.From, def.Owner, mime.QEncoding.Encode("utf-8", "Overdue: "+def.Title+" "+p.Label), s.opts.Now().Format(time.RFC1123Z), text)
	return s.opts.Senders.SMTP.send(ctx, d, []string{def.Owner}, []byte(msg))
}

// Overdue reports whether a report's last due period was flagged overdue at the last tick.
func (s *Service) Overdue(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isOverdue[name]
}
