package report

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/events"
	"giveback.dev/services/report/web"
)

// The live feed: the contributions enrich stores, as it stores them, read from the
// GIVEBACK_ENRICHED stream by one hub per process and pushed to each browser as server-sent
// events. The hub starts an ordered (ephemeral, flow-controlled) consumer when its first client
// comes, primed with the last liveRing contributions, and stops it a minute after its last
// client left. A client that cannot keep up with its buffer is dropped with a message saying
// so; its browser reconnects and resumes from the ring.

const (
	// liveRing is how many recent contributions the hub keeps for the page and for resuming.
	liveRing = 200
	// liveBuffer is how many contributions a client may fall behind before it is dropped.
	liveBuffer = 256
	// liveIdle is how long the hub's consumer outlives its last client.
	liveIdle = time.Minute
	// liveKeepAlive is the interval of the comments that keep an idle stream open.
	liveKeepAlive = 15 * time.Second
	// livePage is how many contributions the page shows.
	livePage = 50
)

// LiveContribution is one contribution of the live feed, as GET /api/v1/live sends it. Login
// and URL are set only for callers who may see individuals; for the others a repository that
// names a person (their own, or a fork) is shown as its destination only.
type LiveContribution struct {
	Seq          uint64    `json:"seq"` // the stream sequence, also the event's id
	Kind         string    `json:"kind"`
	OccurredAt   time.Time `json:"occurred_at"`
	Repo         string    `json:"repo"`
	Destination  string    `json:"destination"`
	Foundation   string    `json:"foundation,omitempty"`
	Team         string    `json:"team,omitempty"`
	Employee     bool      `json:"employee"` // on the roster; false for an outside contributor
	IsDependency bool      `json:"is_dependency"`
	Number       int       `json:"number,omitempty"`
	Title        string    `json:"title,omitempty"`
	State        string    `json:"state,omitempty"`
	Merged       bool      `json:"merged"`
	Source       string    `json:"source"`
	Login        string    `json:"login,omitempty"`
	URL          string    `json:"url,omitempty"`
}

// liveItem is one contribution the hub received, with its stream sequence.
type liveItem struct {
	seq uint64
	c   events.Contribution
}

// view returns the contribution as a caller sees it.
func (it liveItem) view(people bool) LiveContribution {
	c := it.c
	v := LiveContribution{Seq: it.seq, Kind: c.Kind, OccurredAt: c.OccurredAt.UTC(), Repo: c.Repo, Destination: c.Destination,
		Foundation: c.Foundation, Team: c.Team, Employee: c.EmployeeID != "", IsDependency: c.IsDependency, Number: c.Number,
		Title: c.Title, State: c.State, Merged: c.Merged, Source: c.Source}
	if people {
		v.Login, v.URL = c.ActorLogin, c.URL
		return v
	}
	switch c.Destination {
	case "personal", "fork":
		// The owner of a personal repository or of a fork is a person.
		v.Repo, v.Number, v.Title = "", 0, ""
	}
	return v
}

// liveClient is one subscriber: its buffer, closed by the hub when it drops the client.
type liveClient struct {
	ch     chan liveItem
	reason string // why the hub closed ch
}

// liveHub fans the enriched stream out to the clients of this process.
type liveHub struct {
	js  jetstream.JetStream
	log *slog.Logger

	mu      sync.Mutex
	clients map[*liveClient]struct{}
	ring    []liveItem
	running bool
	closed  bool
	stop    func()        // stops the consumer
	primed  chan struct{} // closed once the ring holds what the stream had at start
	target  uint64        // the last sequence of the stream when the consumer started
	idle    *time.Timer
	gen     uint64 // counts the consumers started
	dropped int64
}

func newLiveHub(js jetstream.JetStream, log *slog.Logger) *liveHub {
	return &liveHub{js: js, log: log, clients: map[*liveClient]struct{}{}}
}

// errLiveClosed answers a subscription to a hub that was closed.
var errLiveClosed = errors.New("the live feed is stopping")

// ensure starts the consumer unless it runs; h.mu is held.
func (h *liveHub) ensure(ctx context.Context) error {
	if h.closed {
		return errLiveClosed
	}
	if h.idle != nil {
		h.idle.Stop()
		h.idle = nil
	}
	if h.running {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := h.js.Stream(ctx, events.StreamEnriched)
	if err != nil {
		return fmt.Errorf("report: live: stream %s: %w", events.StreamEnriched, err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{events.SubjectContribution}, DeliverPolicy: jetstream.DeliverNewPolicy}
	state := st.CachedInfo().State
	last := state.LastSeq
	h.target = 0
	if state.Msgs > 0 {
		// Prime the ring with the last contributions, then follow the new ones.
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, uint64(max(1, int64(last)-liveRing+1))
		h.target = last
	}
	cons, err := h.js.OrderedConsumer(ctx, events.StreamEnriched, cfg)
	if err != nil {
		return fmt.Errorf("report: live: consumer: %w", err)
	}
	h.primed = make(chan struct{})
	if h.target == 0 {
		close(h.primed)
	}
	h.gen++
	gen := h.gen
	cc, err := cons.Consume(func(m jetstream.Msg) { h.receive(gen, m) })
	if err != nil {
		return fmt.Errorf("report: live: consume: %w", err)
	}
	h.stop, h.running, h.ring = cc.Stop, true, h.ring[:0]
	return nil
}

// receive hands one message of the stream to every client, dropping those whose buffer is full.
// Messages of an earlier consumer (gen) that arrive after it was stopped are left out.
func (h *liveHub) receive(gen uint64, m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		h.log.Warn("live: message without metadata", slog.Any("err", err))
		return
	}
	var c events.Contribution
	if err := json.Unmarshal(m.Data(), &c); err != nil {
		h.log.Warn("live: skipping a malformed contribution", slog.Uint64("seq", md.Sequence.Stream), slog.Any("err", err))
		return
	}
	it := liveItem{seq: md.Sequence.Stream, c: c}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running || gen != h.gen {
		return
	}
	if len(h.ring) == liveRing {
		copy(h.ring, h.ring[1:])
		h.ring = h.ring[:liveRing-1]
	}
	h.ring = append(h.ring, it)
	if h.target != 0 && it.seq >= h.target {
		close(h.primed)
		h.target = 0
	}
	for cl := range h.clients {
		select {
		case cl.ch <- it:
		default:
			cl.reason = "dropped: this connection fell behind the live feed by " + strconv.Itoa(liveBuffer) + " contributions"
			delete(h.clients, cl)
			close(cl.ch)
			h.dropped++
		}
	}
}

// subscribe adds a client that receives every contribution after seq (the ring's ones first,
// as far as it reaches back).
func (h *liveHub) subscribe(ctx context.Context, after uint64) (*liveClient, []liveItem, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.ensure(ctx); err != nil {
		return nil, nil, err
	}
	var backlog []liveItem
	for _, it := range h.ring {
		if it.seq > after {
			backlog = append(backlog, it)
		}
	}
	cl := &liveClient{ch: make(chan liveItem, liveBuffer)}
	h.clients[cl] = struct{}{}
	return cl, backlog, nil
}

// unsubscribe removes a client; the consumer stops liveIdle after the last one left.
func (h *liveHub) unsubscribe(cl *liveClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, cl)
	h.idleLocked()
}

// idleLocked arms the stop of an idle consumer; h.mu is held.
func (h *liveHub) idleLocked() {
	if len(h.clients) > 0 || !h.running || h.idle != nil {
		return
	}
	h.idle = time.AfterFunc(liveIdle, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.clients) == 0 && h.running && h.idle != nil {
			h.halt()
		}
	})
}

// halt stops the consumer; h.mu is held.
func (h *liveHub) halt() {
	if h.idle != nil {
		h.idle.Stop()
		h.idle = nil
	}
	if h.running {
		h.stop()
		h.running = false
	}
}

// recent returns the ring, newest first, after waiting (at most until ctx ends) for it to hold
// what the stream had when the consumer started.
func (h *liveHub) recent(ctx context.Context) ([]liveItem, error) {
	h.mu.Lock()
	err := h.ensure(ctx)
	primed := h.primed
	if err == nil {
		h.idleLocked()
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case <-primed:
	case <-ctx.Done():
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]liveItem, len(h.ring))
	for i, it := range h.ring {
		out[len(h.ring)-1-i] = it
	}
	return out, nil
}

// clientCount returns how many clients are subscribed.
func (h *liveHub) clientCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// close stops the consumer and ends every client's stream.
func (h *liveHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.halt()
	for cl := range h.clients {
		cl.reason = "closed: the server is stopping"
		delete(h.clients, cl)
		close(cl.ch)
	}
}

// peopleAllowed reports whether the caller of r may see individuals, as the authorisation
// table's people routes decide: an analyst with privacy.people, an admin, and no one under
// privacy.aggregate_only. A request that did not pass through the guard sees none.
func (s *Server) peopleAllowed(r *http.Request) bool {
	id, ok := auth.FromContext(r.Context())
	if !ok {
		return false
	}
	policy := auth.Policy{People: s.opts.Privacy.People, AggregateOnly: s.opts.Privacy.AggregateOnly}
	return policy.Min(auth.Rule{Min: auth.Analyst, People: true}) <= id.Role
}

// errNoLive answers the live routes when the server has no NATS connection.
var errNoLive = errors.New("the live feed is not available: the report service was started without NATS (nats.url)")

// liveAPI serves GET /api/v1/live, a text/event-stream of the contributions as enrich stores
// them: each an event "contribution" whose id is its stream sequence and whose data is a
// LiveContribution. after=SEQ (or the Last-Event-ID header of a reconnecting browser) resumes
// after that sequence, as far back as the last 200 contributions. A comment every 15 s keeps
// the stream open. A client that falls 256 contributions behind gets an event "dropped" and the
// stream ends (a browser reconnects and resumes). Without NATS it answers 503.
func (s *Server) liveAPI(w http.ResponseWriter, r *http.Request) {
	if s.live == nil {
		s.writeJSON(w, r, http.StatusServiceUnavailable, apiError{Error: errNoLive.Error()})
		return
	}
	q := r.URL.Query()
	if err := checkParams(q, "after"); err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	var after uint64
	for _, p := range []struct{ name, v string }{{"after", q.Get("after")}, {"Last-Event-ID", r.Header.Get("Last-Event-ID")}} {
		if p.v == "" {
			continue
		}
		n, err := strconv.ParseUint(p.v, 10, 64)
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, "", badParam(p.name, "%q is not a stream sequence (a whole number)", p.v))
			return
		}
		after = max(after, n)
	}
	cl, backlog, err := s.live.subscribe(r.Context(), after)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "", err)
		return
	}
	defer s.live.unsubscribe(cl)
	people := s.peopleAllowed(r)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		// The server's write timeout is meant for answers, not for a stream: each write gets its own.
		_ = rc.SetWriteDeadline(time.Now().Add(2 * liveKeepAlive))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	event := func(it liveItem) bool {
		data, err := json.Marshal(it.view(people))
		if err != nil {
			s.log.Warn("live: encode", slog.Any("err", err))
			return true
		}
		return write([]byte("id: " + strconv.FormatUint(it.seq, 10) + "\nevent: contribution\ndata: " + string(data) + "\n\n"))
	}
	if !write([]byte("retry: 3000\n: the contributions Giveback stores, as it stores them\n\n")) {
		return
	}
	for _, it := range backlog {
		if !event(it) {
			return
		}
	}
	tick := time.NewTicker(liveKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		case it, ok := <-cl.ch:
			if !ok {
				msg, _ := json.Marshal(map[string]string{"error": cl.reason})
				write([]byte("event: dropped\ndata: " + string(msg) + "\n\n"))
				return
			}
			if !event(it) {
				return
			}
		}
	}
}

//go:embed web/assets/live.html
var liveHTML string

//go:embed web/assets/live.js
var liveJS []byte

var liveTmpl = web.NewPage("live", liveHTML, pageFuncs)

type liveView struct {
	Chrome web.Chrome
	Items  []LiveContribution
	After  uint64
	People bool
}

// liveCSP is the page CSP with one script, live.js from this server, allowed to open the event
// stream: EventSource has no form without a script. Every other page stays script-free.
const liveCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// livePage serves GET /live: the 50 newest contributions of the feed, rendered on the server,
// and live.js, which adds each new one as it arrives. Without scripts the page reloads itself
// every 15 seconds instead.
func (s *Server) livePage(w http.ResponseWriter, r *http.Request) {
	v := liveView{Chrome: web.Chrome{Company: s.opts.Company, Title: "Live activity", Active: "live", Base: "./", Nav: s.nav(),
		Subtitle: "Contributions as Giveback stores them, newest first · times in UTC"}, People: s.peopleAllowed(r)}
	status := http.StatusOK
	if err := checkParams(r.URL.Query()); err != nil {
		v.Chrome.Error, status = err.Error(), http.StatusBadRequest
	} else if s.live == nil {
		v.Chrome.Error, status = errNoLive.Error(), http.StatusServiceUnavailable
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		items, err := s.live.recent(ctx)
		cancel()
		if err != nil {
			s.log.Error("live page", slog.Any("err", err))
			v.Chrome.Error, status = "the live feed did not answer; the server log has the detail", http.StatusServiceUnavailable
		}
		for i, it := range items {
			if i == 0 {
				v.After = it.seq
			}
			if i < livePage {
				v.Items = append(v.Items, it.view(v.People))
			}
		}
	}
	var buf bytes.Buffer
	if err := liveTmpl.Execute(&buf, v); err != nil {
		s.log.Error("live page", slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", liveCSP)
	w.WriteHeader(status)
	if _, err := buf.WriteTo(w); err != nil {
		s.log.Warn("live page: write", slog.Any("err", err))
	}
}

// liveScript serves GET /live.js, the live page's one script.
func (s *Server) liveScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if _, err := w.Write(liveJS); err != nil {
		s.log.Warn("live.js: write", slog.Any("err", err))
	}
}

// Run keeps the default views in the cache when Options.Prewarm is set (Prewarm), and ends the
// live feed's streams when ctx ends, so that an HTTP server shutting down does not wait on them.
// It returns nil once both are done.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if s.opts.Prewarm {
		wg.Go(func() { s.Prewarm(ctx, 0, 0) })
	}
	<-ctx.Done()
	s.Close()
	wg.Wait()
	return nil
}

// Close stops the live feed's consumer and ends its streams, and ends the pages being rendered
// in the background. The Server serves nothing live after it, and serves pages only as it
// renders them for their requests.
func (s *Server) Close() {
	if s.live != nil {
		s.live.close()
	}
	if s.pages != nil {
		s.pages.close()
	}
}
