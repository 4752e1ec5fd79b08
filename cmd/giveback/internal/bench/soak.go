package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"giveback.dev/cmd/giveback/internal/demo"
	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/services/ingest"
	"giveback.dev/services/ingest/webhook"
	"giveback.dev/services/report"
)

// SoakOptions are the load of a soak and where it writes.
type SoakOptions struct {
	Duration time.Duration // how long the load runs
	Rate     int           // GH Archive events a second the demo backfill publishes; 0 means 400
	Webhooks int           // webhook deliveries a second; 0 means 10
	Clients  int           // dashboard clients; 0 means 8
	Think    time.Duration // how long a dashboard client reads a page before it asks for the next; 0 means 5s
	Every    time.Duration // sampling interval; 0 means 10s
	// PageStaleness is the report service's http.page_staleness: how long a page from older
	// data may be served while new data arrives; 0 renders a page again after every write.
	PageStaleness time.Duration
	// HeapProfile, when set, is the file a heap profile is written to at the end of the load.
	HeapProfile string
	// DedupWindow, when set, replaces the raw stream's one-hour message-id window: NATS keeps
	// every id of the window, so with the hour a soak shorter than that sees that table grow.
	DedupWindow time.Duration
	Dir         string // working directory; empty: a temporary one, removed afterwards
	Out         io.Writer
	Log         *slog.Logger // nil discards
}

// The query loop waits soakQueryPause between statements.
const (
	soakQueryPause = time.Second
	soakTimeout    = 2 * time.Minute // of one request
	soakDrainLimit = 15 * time.Minute
	// soakDemoDays is the span of the demo backfill: two years, as `giveback up --demo` has.
	soakDemoDays = 730
)

// soakQueries are the ad hoc statements the query loop runs in turn.
var soakQueries = []string{
	"SELECT team, count() AS n FROM contributions FINAL WHERE occurred_at >= now() - INTERVAL 1 YEAR GROUP BY team ORDER BY n DESC",
	"SELECT repo, count() AS n FROM contributions FINAL WHERE is_upstream = 1 GROUP BY repo ORDER BY n DESC LIMIT 20",
	"SELECT kind, count() AS n, uniqExact(actor_login) AS people FROM contributions FINAL GROUP BY kind ORDER BY kind",
	"SELECT toStartOfMonth(occurred_at) AS month, uniqExact(employee_id) AS employees FROM contributions FINAL WHERE employee_id != '' GROUP BY month ORDER BY month",
	"SELECT source, count() FROM raw_events GROUP BY source ORDER BY source",
}

// Soak runs the whole embedded pipeline under a steady load for o.Duration: the demo backfill
// through ingest, NATS, enrich and the store at o.Rate events a second, signed webhooks at
// o.Webhooks a second to the receiver, o.Clients dashboard clients and an ad hoc query loop
// over loopback HTTP. It samples the process every o.Every, and at the end checks that every
// published record was stored once and that memory and goroutines stayed flat. It returns an
// error when a check fails.
func Soak(ctx context.Context, o SoakOptions) error {
	if o.Duration <= 0 {
		return errors.New("soak: the duration must be positive (--soak 10m)")
	}
	if o.Rate <= 0 {
		o.Rate = 400
	}
	if o.Webhooks <= 0 {
		o.Webhooks = 10
	}
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if o.Think <= 0 {
		o.Think = 5 * time.Second
	}
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	work := o.Dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "giveback-soak-"); err != nil {
			return fmt.Errorf("soak: %w", err)
		}
		defer os.RemoveAll(work)
	}
	b := &bench{out: o.Out, log: o.Log, work: work, dedupWindow: o.DedupWindow}
	defer func() {
		if b.close != nil {
			b.close()
		}
	}()
	s := &soak{bench: b, o: o, lat: map[string]*latencies{}}
	for _, l := range soakLoops {
		s.lat[l] = &latencies{}
	}
	return s.run(ctx)
}

type soak struct {
	*bench
	o SoakOptions

	gen     *demo.Generator
	hourDir string
	hours   []time.Time
	roster  *roster.Roster

	ing    *ingest.Service
	secret []byte
	lat    map[string]*latencies

	backfilled atomic.Int64 // GH Archive events published
	accepted   atomic.Int64 // webhook deliveries accepted
	samples    []soakSample
}

func (s *soak) run(ctx context.Context) error {
	s.printf("giveback bench --soak %s: demo backfill at %d events/s, %d webhooks/s, %d dashboard clients reading each page %s (pages from older data for up to %s), one ad hoc query loop; a sample every %s\n",
		s.o.Duration, s.o.Rate, s.o.Webhooks, s.o.Clients, s.o.Think, s.o.PageStaleness, s.o.Every)
	if err := s.generateDemo(); err != nil {
		return err
	}
	if err := s.start(ctx); err != nil {
		return err
	}
	enr, err := s.enrichFor(s.gen)
	if err != nil {
		return err
	}
	s.secret = []byte(randomHex(16))
	iopts := ingest.Options{Publisher: bus.NewPublisher(s.js), WebhookSecret: s.secret, Parallel: 2, Log: s.log}
	if err := iopts.OpenBuckets(ctx, s.js); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	if iopts.WebhookReplays, err = webhook.OpenReplays(ctx, s.js, 1); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	if s.ing, err = ingest.New(iopts); err != nil {
		return err
	}
	rep, err := report.New(report.Options{Store: s.store, Log: s.log, Company: s.gen.Company().Name, Prewarm: true, PageStaleness: s.o.PageStaleness,
		Roster: func() *roster.Roster { return s.roster }})
	if err != nil {
		return err
	}

	// The services run until the backlog is drained after the load.
	svcCtx, stopServices := context.WithCancel(ctx)
	services, svcCtx := errgroup.WithContext(svcCtx)
	services.Go(func() error { return enr.Run(svcCtx) })
	services.Go(func() error { return rep.Run(svcCtx) })
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stopServices()
		return services.Wait()
	}
	defer stop()

	mux := http.NewServeMux()
	mux.Handle("/", rep.Handler())
	mux.Handle(webhook.Path, s.ing.WebhookHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	pages, err := s.dashboardURLs(rep)
	if err != nil {
		return err
	}
	s.printf("%d dashboard URLs (%d pages × filters); %d GH Archive hours to backfill\n", len(pages), len(pages)/len(soakFilters(time.Now())), len(s.hours))
	client := &http.Client{Timeout: soakTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: s.o.Clients + 2}}
	defer client.CloseIdleConnections()

	// The load, with the sampler beside it.
	start := time.Now()
	loadCtx, stopLoad := context.WithTimeout(svcCtx, s.o.Duration)
	defer stopLoad()
	load, lctx := errgroup.WithContext(loadCtx)
	load.Go(func() error { return s.backfill(lctx, start) })
	load.Go(func() error { return s.webhooks(lctx, client, srv.URL) })
	load.Go(func() error { return s.queryLoop(lctx, client, srv.URL) })
	for i := range s.o.Clients {
		load.Go(func() error { return s.dashboard(lctx, client, srv.URL, pages, i) })
	}
	printSoakTable(s.out, nil, nil)
	if err := s.sample(ctx, start); err != nil {
		stopLoad()
		return errors.Join(err, load.Wait())
	}
	tick := time.NewTicker(s.o.Every)
	for lctx.Err() == nil {
		select {
		case <-lctx.Done():
		case <-tick.C:
			if err := s.sample(ctx, start); err != nil {
				tick.Stop()
				stopLoad()
				return errors.Join(err, load.Wait())
			}
		}
	}
	tick.Stop()
	if err := load.Wait(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if svcCtx.Err() != nil {
		return fmt.Errorf("soak: a service stopped during the load: %w", stop())
	}
	if err := s.sample(ctx, start); err != nil {
		return err
	}
	inRun := len(s.samples)
	if s.o.HeapProfile != "" {
		if err := writeHeapProfile(s.o.HeapProfile); err != nil {
			return err
		}
	}

	// Drain: enrich stores what is still in the stream.
	drainStart := time.Now()
	dctx, cancel := context.WithTimeout(ctx, soakDrainLimit)
	err = s.drained(dctx)
	cancel()
	if err != nil {
		return fmt.Errorf("soak: the backlog did not drain in %s: %w", soakDrainLimit, errors.Join(err, stop()))
	}
	drainTook := time.Since(drainStart)
	if err := s.sample(ctx, start); err != nil {
		return err
	}
	if err := stop(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("soak: %w", err)
	}
	counts, err := s.counts(ctx)
	if err != nil {
		return err
	}
	return s.verdict(counts, inRun, drainTook)
}

// generateDemo writes the demo company's two years of GH Archive hours, sized so that the backfill
// lasts the soak at the rate.
func (s *soak) generateDemo() error {
	perDay := int(int64(s.o.Rate) * int64(s.o.Duration/time.Second) / soakDemoDays)
	to := time.Now().UTC().Truncate(time.Hour)
	s.gen = demo.NewGenerator(demo.Options{Seed: 1, From: to.AddDate(0, 0, -soakDemoDays), To: to, EventsPerDay: max(perDay, 1)})
	s.hourDir = filepath.Join(s.work, "hours")
	if err := os.MkdirAll(s.hourDir, 0o750); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	start := time.Now()
	files, n, err := s.gen.WriteHours(s.hourDir)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	s.printf("generated the demo backfill: %d events in %d hour files in %s\n", n, files, time.Since(start).Round(time.Millisecond))
	if s.hours, err = demo.HoursIn(s.hourDir); err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	var rbuf bytes.Buffer
	if err := s.gen.RosterCSV(&rbuf); err != nil {
		return fmt.Errorf("soak: roster: %w", err)
	}
	if s.roster, err = roster.Parse(&rbuf); err != nil {
		return fmt.Errorf("soak: roster: %w", err)
	}
	return nil
}

// soakFilters are the filters the dashboard clients cycle through: the default period, upstream
// only, and two of the demo company's teams.
func soakFilters(now time.Time) []url.Values {
	to := now.UTC().Format(time.DateOnly)
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -11, 0).Format(time.DateOnly)
	return []url.Values{
		{"from": {from}, "to": {to}},
		{"from": {from}, "to": {to}, "upstream": {"1"}},
		{"from": {from}, "to": {to}, "team": {"Platform"}},
		{"from": {from}, "to": {to}, "team": {"Data"}, "upstream": {"1"}},
	}
}

// dashboardURLs returns the URLs the dashboard clients load: every page of data with each filter.
func (s *soak) dashboardURLs(rep *report.Server) ([]string, error) {
	var out []string
	for _, f := range soakFilters(time.Now()) {
		us, err := pageURLs(rep, f)
		if err != nil {
			return nil, err
		}
		out = append(out, us...)
	}
	return out, nil
}

// backfill publishes the demo's hours through ingest a day at a time, keeping to the rate.
func (s *soak) backfill(ctx context.Context, start time.Time) error {
	const day = 24
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for next := 0; next < len(s.hours); {
		target := int64(float64(s.o.Rate) * time.Since(start).Seconds())
		for s.backfilled.Load() < target && next < len(s.hours) {
			last := min(next+day, len(s.hours)) - 1
			st, err := s.ing.Backfill(ctx, s.hourDir, s.hours[next], s.hours[last], nil)
			s.backfilled.Add(st.Events)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				return fmt.Errorf("soak: backfill: %w", err)
			}
			next = last + 1
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
	s.printf("  (the demo backfill is complete after %s)\n", time.Since(start).Round(time.Second))
	return nil
}

// webhooks delivers signed issue comments to the receiver at the rate, one at a time; a
// delivery refused with 503 is delivered again under the same id after a second, as GitHub does.
// The delivery under way when ctx ends is finished, so what was accepted is known.
func (s *soak) webhooks(ctx context.Context, client *http.Client, base string) error {
	logins := ingest.CollectedLogins(s.roster)
	repos := []string{"kubernetes/kubernetes", "prometheus/prometheus", "nats-io/nats-server", "northwind-oss/nwctl"}
	tick := time.NewTicker(time.Second / time.Duration(s.o.Webhooks))
	defer tick.Stop()
	l := s.lat["webhook"]
	for i := int64(1); ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		login, repo := logins[int(i)%len(logins)], repos[int(i)%len(repos)]
		body := fmt.Appendf(nil, `{"action":"created","issue":{"number":%d,"title":"Soak issue %d"},`+
			`"comment":{"id":%d,"user":{"login":%q},"created_at":%q,"html_url":"https://github.com/%s/issues/%d#issuecomment-%d","body":"soak"},`+
			`"repository":{"full_name":%q,"owner":{"login":%q}},"sender":{"login":%q}}`,
			1000+i%500, 1000+i%500, 9_000_000_000+i, login, time.Now().UTC().Format(time.RFC3339), repo, 1000+i%500, 9_000_000_000+i,
			repo, strings.Split(repo, "/")[0], login)
		delivery := uuid()
		for try := 0; ; try++ {
			t0 := time.Now()
			code, err := s.deliver(ctx, client, base, delivery, body)
			if err == nil && code == http.StatusAccepted {
				l.add(time.Since(t0))
				s.accepted.Add(1)
				break
			}
			l.fail()
			if code != http.StatusServiceUnavailable || try == 4 {
				return fmt.Errorf("soak: webhook %s: status %d: %v", delivery, code, err)
			}
			time.Sleep(time.Second)
		}
	}
}

func (s *soak) deliver(ctx context.Context, client *http.Client, base, delivery string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, base+webhook.Path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(s.secret, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// dashboard is one client loading the pages in turn, from its own place in the list.
func (s *soak) dashboard(ctx context.Context, client *http.Client, base string, pages []string, first int) error {
	for i := first * 7; ctx.Err() == nil; i++ {
		l := s.lat["pages"]
		if strings.HasPrefix(pages[i%len(pages)], "/api/") {
			l = s.lat["api"]
		}
		t0 := time.Now()
		if err := s.get(ctx, client, base+pages[i%len(pages)], http.MethodGet, "", nil); err != nil {
			l.fail()
			s.log.Warn("soak: dashboard request failed", slog.String("url", pages[i%len(pages)]), slog.Any("err", err))
		} else {
			l.add(time.Since(t0))
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.o.Think):
		}
	}
	return nil
}

// queryLoop runs the ad hoc statements in turn through POST /api/v1/query.
func (s *soak) queryLoop(ctx context.Context, client *http.Client, base string) error {
	l := s.lat["query"]
	for i := 0; ctx.Err() == nil; i++ {
		q := soakQueries[i%len(soakQueries)]
		t0 := time.Now()
		if err := s.get(ctx, client, base+"/api/v1/query?format=json", http.MethodPost, "application/sql", []byte(q)); err != nil {
			l.fail()
			s.log.Warn("soak: query failed", slog.String("sql", q), slog.Any("err", err))
		} else {
			l.add(time.Since(t0))
		}
		select {
		case <-ctx.Done():
		case <-time.After(soakQueryPause):
		}
	}
	return nil
}

// get sends one request and reads the whole answer, an error unless it is 200. A request under
// way when ctx ends goes on until it is answered or times out (the client's timeout).
func (s *soak) get(ctx context.Context, client *http.Client, u, method, contentType string, body []byte) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), method, u, rd)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, data)
	}
	return nil
}

// sample records and prints one sample.
func (s *soak) sample(ctx context.Context, start time.Time) error {
	smp := soakSample{At: time.Since(start), Goroutines: runtime.NumGoroutine(), Loops: map[string]window{}}
	var err error
	if smp.RSS, err = readRSS(); err != nil {
		return fmt.Errorf("soak: rss: %w", err)
	}
	if smp.Files, err = countFiles(); err != nil {
		return fmt.Errorf("soak: open files: %w", err)
	}
	// The Go runtime's own figures: the heap live at the last collection, and the memory it
	// holds from the system (what RSS holds beyond it is chDB's).
	rm := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(rm)
	for _, m := range rm {
		if m.Value.Kind() != metrics.KindUint64 {
			return fmt.Errorf("soak: runtime metric %s is not supported", m.Name)
		}
	}
	smp.Heap, smp.GoMem = rm[0].Value.Uint64(), rm[1].Value.Uint64()-rm[2].Value.Uint64()
	if smp.Pending, smp.AckPending, smp.Acked, err = s.backlog(ctx); err != nil {
		return err
	}
	smp.Published = s.backfilled.Load() + s.accepted.Load()
	if smp.Stored, err = s.count(ctx, "SELECT count() FROM raw_events"); err != nil {
		return err
	}
	for _, l := range soakLoops {
		smp.Loops[l] = s.lat[l].take()
	}
	s.samples = append(s.samples, smp)
	s.printf("%s", soakRow("", smp))
	return nil
}

// backlog returns enrich's pending and unacknowledged raw records, and the stream sequence up
// to which it acknowledged every record; before enrich declared its consumer, the whole stream
// is pending.
func (s *soak) backlog(ctx context.Context) (pending uint64, ackPending int, acked uint64, err error) {
	c, err := s.js.Consumer(ctx, events.StreamRaw, events.DurableEnrich)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		st, err := s.js.Stream(ctx, events.StreamRaw)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("soak: raw stream: %w", err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("soak: raw stream: %w", err)
		}
		return info.State.Msgs, 0, 0, nil
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("soak: enrich consumer: %w", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("soak: enrich consumer: %w", err)
	}
	return info.NumPending, info.NumAckPending, info.AckFloor.Stream, nil
}

// drained waits until enrich has acknowledged every record of the raw stream.
func (s *soak) drained(ctx context.Context) error {
	st, err := s.js.Stream(ctx, events.StreamRaw)
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	return waitDrained(ctx, s.js, int64(info.State.LastSeq))
}

func (s *soak) count(ctx context.Context, q string) (int64, error) {
	res, err := s.store.Query(ctx, q, nil)
	if err != nil {
		return 0, fmt.Errorf("soak: %s: %w", q, err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return 0, fmt.Errorf("soak: %s: %d rows", q, len(res.Rows))
	}
	return store.AsInt(res.Rows[0][0]), nil
}

// counts gathers what the end of the soak compares. What enrich should have stored is what a
// service of its own, with the same roster, makes of every record in the raw stream
// (Process, which stores nothing).
func (s *soak) counts(ctx context.Context) (soakCounts, error) {
	c := soakCounts{BackfillEvents: s.backfilled.Load(), WebhooksAccepted: s.accepted.Load()}
	st, err := s.js.Stream(ctx, events.StreamRaw)
	if err != nil {
		return c, fmt.Errorf("soak: raw stream: %w", err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(events.SubjectRawAll))
	if err != nil {
		return c, fmt.Errorf("soak: raw stream: %w", err)
	}
	c.StreamGHArchive = int64(info.State.Subjects[events.SubjectRawPrefix+events.SourceGHArchive])
	c.StreamWebhook = int64(info.State.Subjects[events.SubjectRawPrefix+events.SourceWebhook])
	if c.Pending, c.AckPending, _, err = s.backlog(ctx); err != nil {
		return c, err
	}
	if cons, err := s.js.Consumer(ctx, events.StreamRaw, events.DurableEnrich); err != nil {
		return c, fmt.Errorf("soak: enrich consumer: %w", err)
	} else if ci, err := cons.Info(ctx); err != nil {
		return c, fmt.Errorf("soak: enrich consumer: %w", err)
	} else {
		c.Redelivered = ci.NumRedelivered
	}
	dl, err := s.js.Stream(ctx, events.StreamDeadLetter)
	if err != nil {
		return c, fmt.Errorf("soak: dead-letter stream: %w", err)
	}
	dinfo, err := dl.Info(ctx)
	if err != nil {
		return c, fmt.Errorf("soak: dead-letter stream: %w", err)
	}
	c.DeadLetters = int64(dinfo.State.Msgs)

	ref, err := s.enrichFor(s.gen)
	if err != nil {
		return c, err
	}
	ids := map[string]struct{}{}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return c, fmt.Errorf("soak: read the raw stream: %w", err)
	}
	total := info.State.Msgs
	for read := uint64(0); read < total; {
		batch, err := cons.Fetch(4000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return c, fmt.Errorf("soak: read the raw stream: %w", err)
		}
		var datas [][]byte
		for m := range batch.Messages() {
			datas = append(datas, m.Data())
		}
		if err := batch.Error(); err != nil {
			return c, fmt.Errorf("soak: read the raw stream: %w", err)
		}
		if len(datas) == 0 {
			return c, fmt.Errorf("soak: read the raw stream: %d of %d records", read, total)
		}
		read += uint64(len(datas))
		res := ref.Process(datas)
		c.WantRaw += int64(len(res.Raw))
		for _, ct := range res.Contributions {
			ids[ct.ID] = struct{}{}
		}
	}
	c.WantContributions = int64(len(ids))
	for _, q := range []struct {
		dst *int64
		sql string
	}{
		{&c.RawRows, "SELECT count() FROM raw_events"},
		{&c.RawKeys, "SELECT uniqExact(source, id) FROM raw_events"},
		{&c.RawPartKeys, "SELECT sum(n) FROM (SELECT uniqExact(source, id) AS n FROM raw_events GROUP BY _partition_id)"},
		{&c.RawFinal, "SELECT count() FROM raw_events FINAL"},
		{&c.ContribIDs, "SELECT uniqExact(id) FROM contributions"},
		{&c.ContribPartIDs, "SELECT sum(n) FROM (SELECT uniqExact(id) AS n FROM contributions GROUP BY _partition_id)"},
		{&c.ContribFinal, "SELECT count() FROM contributions FINAL"},
	} {
		if *q.dst, err = s.count(ctx, q.sql); err != nil {
			return c, err
		}
	}
	if c.RawRows > c.RawKeys {
		res, err := s.store.Query(ctx, "SELECT source, id, count(), groupArray(toString(stored_at)), groupArray(_partition_id) FROM raw_events GROUP BY source, id HAVING count() > 1 ORDER BY id LIMIT 5", nil)
		if err != nil {
			return c, fmt.Errorf("soak: raw records stored twice: %w", err)
		}
		for _, r := range res.Rows {
			c.Doubled = append(c.Doubled, fmt.Sprint(r...))
		}
	}
	return c, nil
}

// verdict prints the start, middle and end of the run, what was published and stored, the
// trends, and returns an error naming every check that failed.
func (s *soak) verdict(c soakCounts, inRun int, drainTook time.Duration) error {
	run := s.samples[:inRun]
	mid := len(run) / 2
	s.printf("\nsoak of %s: start, middle, end, and after the backlog drained (%s)\n", s.o.Duration, drainTook.Round(time.Second))
	printSoakTable(s.out, []soakSample{run[0], run[mid], run[len(run)-1], s.samples[len(s.samples)-1]},
		[]string{"start", "middle", "end", "drained"})
	s.printf("\nwhole run, p50 / p99 ms (requests, errors):\n")
	var problems []string
	for _, l := range soakLoops {
		w := s.lat[l].total()
		s.printf("  %-9s %8.1f / %8.1f   (%d, %d errors)\n", l, ms(w.P50), ms(w.P99), w.N, w.Errors)
		if w.Errors > 0 {
			problems = append(problems, fmt.Sprintf("%d %s requests failed", w.Errors, l))
		}
		if w.N == 0 {
			problems = append(problems, fmt.Sprintf("no %s request succeeded", l))
		}
	}
	s.printf("\npublished: %d GH Archive events (stream: %d), %d webhooks accepted (stream: %d); dead letters %d\n",
		c.BackfillEvents, c.StreamGHArchive, c.WebhooksAccepted, c.StreamWebhook, c.DeadLetters)
	s.printf("raw_events: %d rows without FINAL, %d distinct (%d summed per partition), %d FINAL; enrich keeps %d of the stream's records\n",
		c.RawRows, c.RawKeys, c.RawPartKeys, c.RawFinal, c.WantRaw)
	s.printf("contributions: %d distinct ids without FINAL (%d summed per partition), %d FINAL; enrich makes %d\n",
		c.ContribIDs, c.ContribPartIDs, c.ContribFinal, c.WantContributions)
	s.printf("redelivered by JetStream to enrich: %d records; raw records stored twice: %d\n", c.Redelivered, c.RawRows-c.RawKeys)
	for _, d := range c.Doubled {
		s.printf("  stored twice: %s\n", d)
	}
	problems = append(problems, c.problems()...)

	at := make([]time.Duration, len(run))
	rss, gor, files := make([]float64, len(run)), make([]float64, len(run)), make([]float64, len(run))
	goMem, other := make([]float64, len(run)), make([]float64, len(run))
	for i, smp := range run {
		at[i], rss[i], gor[i], files[i] = smp.At, mib(smp.RSS), float64(smp.Goroutines), float64(smp.Files)
		goMem[i], other[i] = mib(int64(smp.GoMem)), mib(smp.RSS)-mib(int64(smp.GoMem))
	}
	rt := trendOf(at, rss, flatRatio, mib(flatRSSSlack))
	gt := trendOf(at, gor, flatRatio, flatGoroutineSlack)
	ft := trendOf(at, files, flatRatio, flatGoroutineSlack)
	s.printf("\nmiddle third → last third (means), slope over the last two thirds:\n")
	s.printf("  RSS        %8.0f → %8.0f MiB  %+7.1f MiB/min  %s\n", rt.Middle, rt.Last, rt.PerMinute, flatWord(rt.Flat))
	gm, ot := trendOf(at, goMem, flatRatio, mib(flatRSSSlack)), trendOf(at, other, flatRatio, mib(flatRSSSlack))
	s.printf("    of which Go %7.0f → %8.0f MiB  %+7.1f MiB/min  %s\n", gm.Middle, gm.Last, gm.PerMinute, flatWord(gm.Flat))
	s.printf("    beyond Go   %7.0f → %8.0f MiB  %+7.1f MiB/min  %s (chDB)\n", ot.Middle, ot.Last, ot.PerMinute, flatWord(ot.Flat))
	s.printf("  goroutines %8.0f → %8.0f      %+7.1f /min      %s\n", gt.Middle, gt.Last, gt.PerMinute, flatWord(gt.Flat))
	s.printf("  open files %8.0f → %8.0f      %+7.1f /min      %s\n", ft.Middle, ft.Last, ft.PerMinute, flatWord(ft.Flat))
	if !rt.Flat {
		problems = append(problems, fmt.Sprintf("RSS grew from %.0f to %.0f MiB (middle to last third)", rt.Middle, rt.Last))
	}
	if !gt.Flat {
		problems = append(problems, fmt.Sprintf("goroutines grew from %.0f to %.0f (middle to last third)", gt.Middle, gt.Last))
	}
	if len(problems) > 0 {
		s.printf("\nverdict: FAIL\n")
		for _, p := range problems {
			s.printf("  - %s\n", p)
		}
		return fmt.Errorf("soak failed: %s", strings.Join(problems, "; "))
	}
	s.printf("\nverdict: PASS: nothing lost, nothing doubled, RSS and goroutines flat\n")
	return nil
}

// writeHeapProfile writes the heap profile of the process to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("soak: heap profile: %w", err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("soak: heap profile: %w", err)
	}
	return f.Close()
}

func flatWord(flat bool) string {
	if flat {
		return "flat"
	}
	return "GROWING"
}

// uuid returns a random delivery id in GitHub's GUID form.
func uuid() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
