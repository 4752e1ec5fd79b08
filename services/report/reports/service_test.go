package reports

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// targets are the real receivers of a test's deliveries: an SMTP server (go-smtp) in the
// process, Slack and Teams incoming webhooks and a signed webhook as httptest servers, each
// checking the shape of what it receives, and a directory.
type targets struct {
	smtp                 *Capture
	slack, teams, hook   *httptest.Server
	slackOK, teamsOK     atomic.Int32 // well-formed payloads answered 2xx
	hookOK               atomic.Int32
	slackFail, teamsFail atomic.Int32 // answer 500 to this many requests first
	slackGate            chan struct{}
	slackEntered         chan struct{}
	slackAborted         chan struct{}
	dir                  string
	errs                 chan error
}

const hookSecret = "4be1f0c2a9d3e7f1"

func newTargets(t *testing.T) *targets {
	t.Helper()
	tg := &targets{dir: t.TempDir(), errs: make(chan error, 100)}
	var err error
	if tg.smtp, err = StartCapture(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.smtp.Close() })
	bad := func(format string, args ...any) { tg.errs <- fmt.Errorf(format, args...) }
	tg.slack = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does the server notice a client that goes away.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if tg.slackEntered != nil {
			select {
			case tg.slackEntered <- struct{}{}:
			default:
			}
		}
		if tg.slackGate != nil {
			select {
			case <-tg.slackGate:
			case <-r.Context().Done():
				tg.slackAborted <- struct{}{}
				return
			}
		}
		if tg.slackFail.Add(-1) >= 0 {
			http.Error(w, "internal_error", http.StatusInternalServerError)
			return
		}
		var m struct {
			Text   string `json:"text"`
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"text"`
			} `json:"blocks"`
		}
		if err := json.Unmarshal(body, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			bad("slack: not JSON: %v", err)
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		if m.Text == "" || len(m.Blocks) < 2 || m.Blocks[0].Type != "header" || m.Blocks[0].Text.Type != "plain_text" ||
			m.Blocks[1].Type != "section" || m.Blocks[1].Text.Type != "mrkdwn" || !strings.Contains(m.Blocks[1].Text.Text, "42") {
			bad("slack: payload shape %+v", m)
			http.Error(w, "invalid_blocks", http.StatusBadRequest)
			return
		}
		tg.slackOK.Add(1)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(tg.slack.Close)
	tg.teams = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tg.teamsFail.Add(-1) >= 0 {
			http.Error(w, "server error", http.StatusInternalServerError)
			return
		}
		var m struct {
			Type        string `json:"type"`
			Attachments []struct {
				ContentType string `json:"contentType"`
				Content     struct {
					Type    string `json:"type"`
					Version string `json:"version"`
					Body    []struct {
						Type string `json:"type"`
						Text string `json:"text"`
					} `json:"body"`
					Actions []struct {
						Type string `json:"type"`
						URL  string `json:"url"`
					} `json:"actions"`
				} `json:"content"`
			} `json:"attachments"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			bad("teams: not JSON: %v", err)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
			bad("teams: payload shape %+v", m)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		c := m.Attachments[0].Content
		if c.Type != "AdaptiveCard" || c.Version == "" || len(c.Body) < 2 || c.Body[0].Type != "TextBlock" || !strings.Contains(c.Body[1].Text, "42") ||
			len(c.Actions) != 1 || c.Actions[0].Type != "Action.OpenUrl" || !strings.HasPrefix(c.Actions[0].URL, "https://giveback.example.com/reports/") {
			bad("teams: card shape %+v", c)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		tg.teamsOK.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(tg.teams.Close)
	tg.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(hookSecret))
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get(SignatureHeader)), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
			bad("webhook: bad signature %q", r.Header.Get(SignatureHeader))
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil || p.Report == "" || p.Period == "" || p.Hash == "" || p.Numbers == nil {
			bad("webhook: payload %s: %v", body, err)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		tg.hookOK.Add(1)
	}))
	t.Cleanup(tg.hook.Close)
	return tg
}

// check fails the test for any malformed payload a receiver saw.
func (tg *targets) check(t *testing.T) {
	t.Helper()
	for {
		select {
		case err := <-tg.errs:
			t.Error(err)
		default:
			return
		}
	}
}

// deliveries are one of each kind, to tg.
func (tg *targets) deliveries() []Delivery {
	host, port := tg.smtp.Addr()
	return []Delivery{
		{Kind: "smtp", Name: "smtp", Host: host, Port: port, TLS: "none", From: "Giveback <reports@example.com>", To: []string{"cto@example.com"}, Cc: []string{"ospo@example.com"}},
		{Kind: "slack", Name: "slack", URL: tg.slack.URL},
		{Kind: "teams", Name: "teams", URL: tg.teams.URL},
		{Kind: "webhook", Name: "webhook", URL: tg.hook.URL, Secret: hookSecret},
		{Kind: "directory", Name: "directory", Path: tg.dir},
	}
}

// built records the reports a BuildFunc was asked for.
type built struct {
	mu    sync.Mutex
	calls []buildCall
	hash  string // the hash of the numbers built; empty is 9c1e
}

type buildCall struct {
	period string
	now    time.Time
	late   bool
	due    time.Time
}

func (b *built) list() []buildCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]buildCall(nil), b.calls...)
}

// chartPNG is a small real PNG.
func chartPNG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// build returns a BuildFunc that renders a small fixed report (42 pull requests merged), so
// that these tests exercise the schedule, the claims and the deliveries; the content itself is
// tested with the real metrics in build_test.go.
func (b *built) build(t testing.TB) BuildFunc {
	pngBytes := chartPNG(t)
	return func(ctx context.Context, def Definition, p Period, now time.Time, opt Options) (*Report, error) {
		b.mu.Lock()
		b.calls = append(b.calls, buildCall{period: p.Label, now: now, late: opt.Late, due: opt.Due})
		hash := b.hash
		b.mu.Unlock()
		n := &Numbers{Report: def.Name, Title: def.Title, Late: opt.Late}
		n.Links.Archive = opt.BaseURL + "/reports/" + def.Name + "/" + p.Label
		return &Report{
			Name: def.Name, Period: p, Subject: def.Title + " " + p.Label, Numbers: n,
			Summary:  "Upstream pull requests merged: 42",
			HTML:     []byte(`<html><body><p style="color:#222">42 pull requests merged upstream</p><img src="cid:trend-prs" alt="trend"></body></html>`),
			WebHTML:  []byte(`<html><body><p>42 pull requests merged upstream</p><svg></svg></body></html>`),
			Text:     []byte("42 pull requests merged upstream\n"),
			Markdown: []byte("# " + def.Title + "\n\n42 pull requests merged upstream\n"),
			CSV:      []byte("section,metric,value\nheadline,upstream_prs_merged,42\n"),
			PDF:      []byte("%PDF-1.4\n% a4\n%%EOF\n"), PDFLetter: []byte("%PDF-1.4\n% letter\n%%EOF\n"),
			Images: map[string][]byte{"trend-prs": pngBytes},
			Hash:   cmp.Or(hash, "9c1e"), MetricsVersion: "m1",
		}, nil
	}
}

// replica starts one report service on its own NATS connection to srv.
func replica(t *testing.T, srv *bus.Embedded, name string, defs []Definition, b BuildFunc, tweak func(*ServiceOptions)) *Service {
	t.Helper()
	_, js, err := bus.Connect(srv.URL(), name, bus.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := OpenClaims(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	o := ServiceOptions{Definitions: defs, Claims: kv, Replica: name, Build: b, BaseURL: "https://giveback.example.com",
		Senders: Senders{SMTP: SMTPClient{Timeout: 2 * time.Second}}, Attempts: 3, Backoff: 5 * time.Millisecond,
		MaxBackoff: 20 * time.Millisecond, ClaimTTL: time.Minute}
	if tweak != nil {
		tweak(&o)
	}
	s, err := NewService(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func monthly(d []Delivery) Definition {
	return Definition{Name: "monthly", Title: "Monthly give-back report", Owner: "ospo-lead@example.com",
		Schedule: "CRON_TZ=Europe/Berlin 0 8 1 * *", Period: PeriodPreviousMonth, Grace: 6 * time.Hour, Deliveries: d}
}

// due is 1 November 2026, 08:00 in Berlin.
var due = time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC)

func (tg *targets) counts() string {
	files, _ := filepath.Glob(filepath.Join(tg.dir, "monthly", "*", "report.pdf"))
	return fmt.Sprintf("smtp=%d slack=%d teams=%d webhook=%d directory=%d", len(tg.smtp.Messages()), tg.slackOK.Load(), tg.teamsOK.Load(), tg.hookOK.Load(), len(files))
}

func claimState(t *testing.T, kv jetstream.KeyValue, report, period, delivery string) events.ReportClaim {
	t.Helper()
	c, err := readClaim(kv, report, period, delivery)
	if err != nil {
		t.Fatalf("claim %s/%s/%s: %v", report, period, delivery, err)
	}
	return c
}

// readClaim reads one claim from the bucket.
func readClaim(kv jetstream.KeyValue, report, period, delivery string) (events.ReportClaim, error) {
	var c events.ReportClaim
	e, err := kv.Get(context.Background(), events.KeyReportClaim(report, period, delivery))
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(e.Value(), &c)
}

// Two and three replicas on one NATS fire the same tick: each target receives the report once.
// A restart after success sends nothing again; a re-run sends again only with Force.
func TestReplicasDeliverOnce(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) {
			srv, _, js := testkit.NATS(t)
			tg := newTargets(t)
			defs := []Definition{monthly(tg.deliveries())}
			var b built
			var reps []*Service
			for i := range n {
				reps = append(reps, replica(t, srv, fmt.Sprintf("r%d", i+1), defs, b.build(t), nil))
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, r := range reps {
				wg.Go(func() {
					<-start
					if err := r.Tick(context.Background(), due); err != nil {
						t.Error(err)
					}
				})
			}
			close(start)
			wg.Wait()
			tg.check(t)
			if got := tg.counts(); got != "smtp=1 slack=1 teams=1 webhook=1 directory=1" {
				t.Fatalf("after one tick of %d replicas: %s", n, got)
			}
			kv, err := OpenClaims(context.Background(), js, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range defs[0].Deliveries {
				if c := claimState(t, kv, "monthly", "2026-10", d.Name); c.State != events.ClaimDone || c.Attempts != 1 {
					t.Errorf("claim of %s: %+v", d.Name, c)
				}
			}
			if calls := b.list(); len(calls) == 0 || calls[0].period != "2026-10" || calls[0].late {
				t.Errorf("builds %+v", calls)
			}

			// A replica started afterwards (a restart) finds every delivery done.
			again := replica(t, srv, "r-restarted", defs, b.build(t), nil)
			if err := again.Tick(context.Background(), due.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			res, err := again.RunNow(context.Background(), RunRequest{Name: "monthly", Period: "2026-10"})
			if err != nil {
				t.Fatal(err)
			}
			if got := tg.counts(); got != "smtp=1 slack=1 teams=1 webhook=1 directory=1" || res.Generated {
				t.Fatalf("after a restart and a re-run without force: %s (generated %v)", got, res.Generated)
			}
			for _, d := range res.Deliveries {
				if d.Outcome != "skipped" {
					t.Errorf("re-run without force: %+v", d)
				}
			}
			res, err = again.RunNow(context.Background(), RunRequest{Name: "monthly", Period: "2026-10", Force: true, Delivery: "slack"})
			if err != nil || len(res.Deliveries) != 1 || res.Deliveries[0].Outcome != OutcomeSent {
				t.Fatalf("forced re-send of slack: %+v, %v", res, err)
			}
			if got := tg.counts(); got != "smtp=1 slack=2 teams=1 webhook=1 directory=1" {
				t.Fatalf("after a forced re-send of slack: %s", got)
			}
		})
	}
}

// Replicas that claimed different deliveries of one period each build the report, and the run is
// archived once; a run with other numbers (the data changed) and a forced run are archived too.
func TestReplicasArchiveOnce(t *testing.T) {
	srv, _, js := testkit.NATS(t)
	st := testkit.Store(t)
	tg := newTargets(t)
	defs := []Definition{monthly(tg.deliveries())}
	var b built
	var reps []*Service
	for i := range len(defs[0].Deliveries) {
		reps = append(reps, replica(t, srv, fmt.Sprintf("r%d", i+1), defs, b.build(t), func(o *ServiceOptions) { o.Store = st }))
	}
	runs := func() []string {
		t.Helper()
		res, err := st.Query(context.Background(), "SELECT replica, hash, trigger FROM report_runs WHERE name = 'monthly' AND period = '2026-10' ORDER BY generated_at, replica", nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range res.Rows {
			out = append(out, fmt.Sprintf("%s %s %s", r...))
		}
		return out
	}
	// Each replica sends one delivery, all at once.
	results := make([]RunResult, len(reps))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range reps {
		wg.Go(func() {
			<-start
			res, err := r.RunNow(context.Background(), RunRequest{Name: "monthly", Period: "2026-10", Delivery: defs[0].Deliveries[i].Name})
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	close(start)
	wg.Wait()
	tg.check(t)
	if got := tg.counts(); got != "smtp=1 slack=1 teams=1 webhook=1 directory=1" {
		t.Fatalf("deliveries: %s", got)
	}
	archived := 0
	for _, res := range results {
		if !res.Generated || len(res.Deliveries) != 1 || res.Deliveries[0].Outcome != OutcomeSent {
			t.Errorf("run %+v", res)
		}
		if res.Archived {
			archived++
		}
	}
	if got := runs(); len(b.list()) != len(reps) || archived != 1 || len(got) != 1 {
		t.Fatalf("%d builds, %d runs said they archived, archive %q; want %d builds and one run archived", len(b.list()), archived, got, len(reps))
	}
	kv, err := OpenClaims(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), events.KeyReportArchived("monthly", "2026-10"))
	if err != nil || !strings.Contains(string(e.Value()), `"state":"done"`) || !strings.Contains(string(e.Value()), `"hash":"9c1e"`) {
		t.Fatalf("archive marker %v: %v", e, err)
	}

	// The data changed: a forced re-send of one delivery has other numbers, and is archived.
	b.mu.Lock()
	b.hash = "77aa"
	b.mu.Unlock()
	res, err := reps[1].RunNow(context.Background(), RunRequest{Name: "monthly", Period: "2026-10", Delivery: "slack", Force: true})
	if err != nil || !res.Archived {
		t.Fatalf("forced re-send with other numbers: %+v, %v", res, err)
	}
	// The same numbers again, forced: archived again, as a forced re-send is an admin's act the
	// archive records.
	res, err = reps[2].RunNow(context.Background(), RunRequest{Name: "monthly", Period: "2026-10", Delivery: "teams", Force: true})
	if err != nil || !res.Archived {
		t.Fatalf("forced re-send: %+v, %v", res, err)
	}
	if got := runs(); len(got) != 3 || !strings.Contains(got[1], "r2 77aa manual") || !strings.Contains(got[2], "r3 77aa manual") {
		t.Fatalf("archive after two forced re-sends: %q", got)
	}
}

// A replica that dies holding a claim (here: stopped while its Slack post hangs) leaves the
// delivery to another replica once the claim expires; the deliveries it finished are not sent
// again.
func TestReplicaKilledAfterClaim(t *testing.T) {
	srv, _, js := testkit.NATS(t)
	tg := newTargets(t)
	tg.slackGate = make(chan struct{})
	tg.slackEntered = make(chan struct{}, 1)
	tg.slackAborted = make(chan struct{}, 1)
	defs := []Definition{monthly(tg.deliveries())}
	var b built
	a := replica(t, srv, "a", defs, b.build(t), nil)
	ctxA, killA := context.WithCancel(context.Background())
	doneA := make(chan struct{})
	go func() {
		defer close(doneA)
		_ = a.Tick(ctxA, due)
	}()
	select {
	case <-tg.slackEntered:
	case <-time.After(10 * time.Second):
		t.Fatal("replica a never posted to Slack")
	}
	// Give a's other deliveries time to finish (sent and settled: a target that has the
	// report while its claim is not yet marked done is the moment no replica can tell from a
	// failure), then kill it mid-post.
	kv, err := OpenClaims(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	settled := func() bool {
		for _, d := range []string{"smtp", "teams", "webhook", "directory"} {
			if c, err := readClaim(kv, "monthly", "2026-10", d); err != nil || c.State != events.ClaimDone {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(10 * time.Second)
	for !settled() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	killA()
	<-doneA
	<-tg.slackAborted // Slack saw the connection go
	close(tg.slackGate)
	if c := claimState(t, kv, "monthly", "2026-10", "slack"); c.State != events.ClaimSending || c.Owner != "a" {
		t.Fatalf("slack claim after a died: %+v", c)
	}
	bRep := replica(t, srv, "b", defs, b.build(t), nil)
	// Before the claim expires, b leaves it alone.
	if err := bRep.Tick(context.Background(), due.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := tg.counts(); got != "smtp=1 slack=0 teams=1 webhook=1 directory=1" {
		t.Fatalf("b sent while a's claim held: %s", got)
	}
	// After it expires, b takes it over and finishes the send, and only that one.
	if err := bRep.Tick(context.Background(), due.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	tg.check(t)
	if got := tg.counts(); got != "smtp=1 slack=1 teams=1 webhook=1 directory=1" {
		t.Fatalf("after b took over: %s", got)
	}
	if c := claimState(t, kv, "monthly", "2026-10", "slack"); c.State != events.ClaimDone || c.Owner != "b" {
		t.Fatalf("slack claim after b: %+v", c)
	}
}

// stopOnAnswer is a transport that stops the replica (cancels its context) as soon as the
// target has answered, before the sender returns: the moment between a send that went out and
// its claim being settled.
type stopOnAnswer struct {
	stop func()
}

func (s stopOnAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	s.stop()
	return resp, nil
}

// A replica stopped just after the target took the report still records the send: the claim is
// settled, and no other replica sends the report again once its lease would have run out.
func TestStopJustAfterSendIsNotSentAgain(t *testing.T) {
	srv, _, js := testkit.NATS(t)
	tg := newTargets(t)
	defs := []Definition{monthly(tg.deliveries()[2:3])} // Teams
	var b built
	ctxA, stopA := context.WithCancel(context.Background())
	defer stopA()
	a := replica(t, srv, "a", defs, b.build(t), func(o *ServiceOptions) {
		o.Senders.HTTP = &http.Client{Transport: stopOnAnswer{stop: stopA}}
	})
	_ = a.Tick(ctxA, due)
	if ctxA.Err() == nil {
		t.Fatal("the replica was not stopped during the send")
	}
	kv, err := OpenClaims(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := claimState(t, kv, "monthly", "2026-10", "teams"); c.State != events.ClaimDone || c.Owner != "a" {
		t.Fatalf("teams claim after a stopped just after its send: %+v, want done by a", c)
	}
	bRep := replica(t, srv, "b", defs, b.build(t), nil)
	if err := bRep.Tick(context.Background(), due.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	tg.check(t)
	if got := tg.teamsOK.Load(); got != 1 {
		t.Fatalf("teams received the report %d times, want once", got)
	}
}

// A run missed while every replica was down is done once at start, for the last due period
// only, and says it is late.
func TestCatchUpOnce(t *testing.T) {
	srv, _, _ := testkit.NATS(t)
	tg := newTargets(t)
	def := monthly(tg.deliveries()[4:]) // the directory
	var b built
	s := replica(t, srv, "r1", []Definition{def}, b.build(t), nil)
	// Down from 20 September to 20 December: the runs of 1 October, November and December
	// were missed.
	start := time.Date(2026, 12, 20, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.Tick(context.Background(), start.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	calls := b.list()
	if len(calls) != 1 {
		t.Fatalf("%d builds, want one: %+v", len(calls), calls)
	}
	c := calls[0]
	if c.period != "2026-11" || !c.late || !c.due.Equal(time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("catch-up built %+v; want 2026-11, late, due 1 December 08:00 Berlin", c)
	}
	if _, err := os.Stat(filepath.Join(tg.dir, "monthly", "2026-11", "report.html")); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(tg.dir, "monthly", "*")); len(files) != 1 {
		t.Fatalf("periods written: %v", files)
	}
}

// With CRON_TZ=America/New_York across the November change, a daily report at 01:30 runs once
// a day, at 01:30 EDT on 1 November (not again at 01:30 EST), for the right days.
func TestDSTFiresOnceWithTheRightPeriod(t *testing.T) {
	srv, _, _ := testkit.NATS(t)
	tg := newTargets(t)
	def := Definition{Name: "daily", Title: "Daily", Schedule: "CRON_TZ=America/New_York 30 1 * * *", Period: "trailing_1d",
		Grace: time.Hour, Deliveries: tg.deliveries()[4:]}
	var b built
	s := replica(t, srv, "r1", []Definition{def}, b.build(t), nil)
	for now := time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC); now.Before(time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)); now = now.Add(10 * time.Minute) {
		if err := s.Tick(context.Background(), now); err != nil {
			t.Fatal(err)
		}
	}
	calls := b.list()
	want := []buildCall{
		// The first tick, at 18:00 on 31 October, catches up the run of that morning, late.
		{period: "2026-10-30..2026-10-30", now: time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC), due: time.Date(2026, 10, 31, 5, 30, 0, 0, time.UTC), late: true},
		{period: "2026-10-31..2026-10-31", now: time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), due: time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)}, // 01:30 EDT
		{period: "2026-11-01..2026-11-01", now: time.Date(2026, 11, 2, 6, 30, 0, 0, time.UTC), due: time.Date(2026, 11, 2, 6, 30, 0, 0, time.UTC)}, // 01:30 EST
	}
	if len(calls) != len(want) {
		t.Fatalf("builds %+v, want %+v", calls, want)
	}
	for i, w := range want {
		if calls[i].period != w.period || !calls[i].now.Equal(w.now) || !calls[i].due.Equal(w.due) || calls[i].late != w.late {
			t.Errorf("build %d: %+v, want %+v", i, calls[i], w)
		}
	}
}

// A definition the service cannot schedule stops it, naming the report and the key.
func TestBadDefinitionStopsTheService(t *testing.T) {
	_, _, js := testkit.NATS(t)
	kv, err := OpenClaims(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	var b built
	for _, c := range []struct {
		def  Definition
		want string
	}{
		{Definition{Name: "m", Schedule: "0 8 32 * *", Period: PeriodPreviousMonth, Deliveries: []Delivery{{Kind: "directory", Name: "directory"}}}, `report "m": schedule:`},
		{Definition{Name: "m", Schedule: "@monthly", Period: "fortnight", Deliveries: []Delivery{{Kind: "directory", Name: "directory"}}}, `report "m": period: period "fortnight"`},
		{Definition{Name: "m", Schedule: "@monthly", Period: PeriodPreviousMonth}, `report "m": deliveries: must list`},
	} {
		_, err := NewService(ServiceOptions{Definitions: []Definition{c.def}, Claims: kv, Build: b.build(t)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewService(%+v): %v; want %q", c.def, err, c.want)
		}
	}
}
