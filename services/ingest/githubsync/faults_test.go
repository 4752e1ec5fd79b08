package githubsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

const (
	faultToken = "0000000000000000000000000000000000000001" // the token of the clean run and of round 1
	newToken   = "0000000000000000000000000000000000000002" // the token that replaces a revoked one
)

// faultRequestTimeout is the syncer's RequestTimeout in these tests: a stalled answer is given
// up after it.
const faultRequestTimeout = 300 * time.Millisecond

// injector wraps the replay's handler. From the first request that trigger matches on, it
// spoils requests with spoil: times of them in a row, or, with times 0, every one until heal
// is called (between rounds). With revoked set, it spoils only the requests that carry the
// revoked token, and never heals: the token stays revoked.
type injector struct {
	next    http.Handler
	trigger func(req *http.Request) bool
	spoil   func(w http.ResponseWriter, req *http.Request)
	times   int
	revoked string
	spare   bool // the syncer of round 1 has newToken too, beside faultToken

	mu       sync.Mutex
	armed    bool
	healed   bool
	spoiled  int // requests spoiled
	served   int // requests received, spoiled or not
	searches int // search requests received
	stop     chan struct{}
}

func (in *injector) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	in.mu.Lock()
	in.served++
	if strings.Contains(req.URL.Path, "/search/") {
		in.searches++
	}
	if !in.armed && in.trigger(req) {
		in.armed = true
	}
	spoil := in.armed && !in.healed
	switch {
	case in.revoked != "":
		spoil = in.armed && req.Header.Get("Authorization") == "Bearer "+in.revoked
	case in.times > 0 && in.spoiled >= in.times:
		spoil = false
	}
	if spoil {
		in.spoiled++
	}
	in.mu.Unlock()
	if spoil {
		in.spoil(w, req)
		return
	}
	in.next.ServeHTTP(w, req)
}

func (in *injector) heal() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.healed = true
}

// atSearchPage matches the request for page of the search q.
func atSearchPage(q string, page int) func(*http.Request) bool {
	return func(req *http.Request) bool {
		v := req.URL.Query()
		return strings.HasSuffix(req.URL.Path, "/search/issues") && v.Get("q") == q && v.Get("page") == fmt.Sprint(page)
	}
}

// answer spoils a request with a GitHub error answer.
func answer(status int, headers map[string]string, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// resetConnection spoils a request by closing its connection at once, with a TCP reset.
func resetConnection(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST, not FIN
	}
	_ = conn.Close()
}

// truncate spoils a request by announcing a body longer than what it sends: the server closes
// the connection after the handler returns, in the middle of the answer.
func truncate(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", "4096")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, `{"total_count":13,"incomplete_results":false,"items":[{"url":`)
}

// faultRun is what a sync under a fault did.
type faultRun struct {
	rounds    int                   // rounds until one ended without error
	errs      []string              // the errors of the rounds that failed
	published map[string]int        // publications per record id, repeats included
	stream    map[string]events.Raw // the records on the bus, by id
	stored    int                   // messages in the raw stream: more than the ids when one is stored twice
	cursors   map[string]string     // the search cursors in the bucket at the end
	served    int                   // requests GitHub received
	searches  int                   // of them, search pages
	spoiled   int                   // requests the injector spoiled
	started   []map[string]string   // the cursors in the bucket when each round began
	searched  [][]string            // the searches each round sent
}

// syncRounds runs the sync of the recorded logins in rounds, a new Syncer each round reading
// its cursors and ETags from the bucket, until a round ends without error or maxRounds ran. A
// nil injector spoils nothing (the clean run).
func syncRounds(t *testing.T, in *injector, maxRounds int) faultRun {
	t.Helper()
	_, _, js := testkit.NATS(t)
	r := fixtureReplay(t)
	if in == nil {
		in = &injector{trigger: func(*http.Request) bool { return false }}
	}
	in.next = http.HandlerFunc(r.serve)
	in.stop = make(chan struct{})
	r.srv.Config.Handler = in
	t.Cleanup(func() { close(in.stop) })
	run := faultRun{published: map[string]int{}}
	var mu sync.Mutex
	kv := kvOf(t, js)
	for round := 1; round <= maxRounds; round++ {
		tokens := []string{faultToken}
		switch {
		case in.revoked != "" && round > 1:
			tokens = []string{newToken} // the operator put a new token in place
		case in.spare:
			tokens = append(tokens, newToken)
		}
		clients, err := NewClients(r.srv.URL+"/", tokens, r.srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		pub := bus.NewPublisher(js)
		publish := func(ctx context.Context, rec *events.Raw) error {
			mu.Lock()
			run.published[rec.ID]++
			mu.Unlock()
			return pub.Publish(ctx, rec)
		}
		s := &Syncer{REST: &REST{Clients: clients, KV: kv, Publish: publish, Flush: pub.Flush, RequestTimeout: faultRequestTimeout,
			Log: slog.New(slog.DiscardHandler), retryDelay: 5 * time.Millisecond},
			Logins: []string{userA, userB, userC}, Statuses: bucketOf(t, js, events.BucketStatus)}
		run.started = append(run.started, cursorsOf(t, kv))
		r.reset()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err = s.SyncOnce(ctx)
		cancel()
		run.searched = append(run.searched, searchesOf(r))
		run.rounds = round
		if in.revoked == "" {
			in.heal()
		}
		if err == nil {
			break
		}
		run.errs = append(run.errs, err.Error())
	}
	run.stream, run.stored = storedRecords(t, js)
	run.cursors = cursorsOf(t, kv)
	in.mu.Lock()
	run.served, run.searches, run.spoiled = in.served, in.searches, in.spoiled
	in.mu.Unlock()
	return run
}

// storedRecords returns the records in the raw stream by id, and the number of messages.
func storedRecords(t *testing.T, js jetstream.JetStream) (map[string]events.Raw, int) {
	t.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, events.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]events.Raw{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var r events.Raw
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatal(err)
		}
		out[r.ID] = r
	}
	return out, int(info.State.Msgs)
}

// cursorsOf returns every search cursor in the bucket, by key.
func cursorsOf(t *testing.T, kv jetstream.KeyValue) map[string]string {
	t.Helper()
	out := map[string]string{}
	lister, err := kv.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for key := range lister.Keys() {
		if strings.HasPrefix(key, events.KeyRESTCursorPrefix) {
			out[key] = kvValue(t, kv, key)
		}
	}
	return out
}

// searchesOf returns the searches the round sent, in order, as "endpoint q".
func searchesOf(r *replay) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, u := range r.requests {
		if i := strings.LastIndex(u.Path, "/search/"); i >= 0 {
			out = append(out, u.Path[i+1:]+" "+u.Query().Get("q"))
		}
	}
	return out
}

// checkResumed fails unless every search that had a cursor when a round began started that
// round from the cursor.
func checkResumed(t *testing.T, run faultRun) {
	t.Helper()
	for i := 1; i < run.rounds; i++ {
		for key, at := range run.started[i] {
			name, login, _ := strings.Cut(strings.TrimPrefix(key, events.KeyRESTCursorPrefix), ".")
			sr := searchByName[name]
			cursor, err := time.Parse(time.RFC3339Nano, at)
			if err != nil {
				t.Fatal(err)
			}
			prefix := sr.endpoint + " " + sr.qualifier(login)
			want := prefix + " " + sr.field + ":>=" + cursor.UTC().Format(time.RFC3339)
			for _, q := range run.searched[i] {
				if q == prefix || strings.HasPrefix(q, prefix+" ") {
					if q != want {
						t.Errorf("round %d began the %s search of %s with %q, not from its cursor (%q)", i+1, name, login, q, want)
					}
					break
				}
			}
		}
	}
}

// TestGitHubFaults runs the REST sync of the recorded logins (fixtureReplay: userA's 13
// results in 5 pages, userB's, userC's reviews, comments and commit) with the real go-github
// client over HTTP, through an injector that spoils requests the way GitHub and the network
// do; most faults start on the third page of userA's search, in the middle of its pagination.
// The sync runs in rounds, a new Syncer each round as after a restart, until a round ends
// without error. Every round after the first must resume each search from its cursor in the
// KV bucket, and in the end the records on the bus (ids, meta and payloads) and the cursors
// must equal those of a clean run exactly: no page skipped, no record stored twice. The table
// the test logs (go test -v) is the "GitHub faults" section of docs/BENCHMARKS.md.
func TestGitHubFaults(t *testing.T) {
	clean := syncRounds(t, nil, 1)
	if len(clean.errs) != 0 || len(clean.stream) != 19 || clean.stored != 19 {
		t.Fatalf("clean run: %d records, errors %q", len(clean.stream), clean.errs)
	}
	cleanPublished := 0
	for _, n := range clean.published {
		cleanPublished += n
	}

	page3 := atSearchPage("author:"+userA+" updated:>="+recorded, 3)
	secondary := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	unauthorized := `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`
	tests := []struct {
		name    string
		in      *injector
		rounds  int // rounds the sync needs: 1 when the fault is retried in place
		spoiled int // requests the fault spoils before the sync gets past it
	}{
		{"500 once", &injector{trigger: page3, times: 1,
			spoil: answer(http.StatusInternalServerError, nil, `{"message":"Server Error"}`)}, 1, 1},
		{"502 three times in a row", &injector{trigger: page3, times: 3,
			spoil: answer(http.StatusBadGateway, nil, `{"message":"Server Error"}`)}, 1, 3},
		// The round stops after one request's tries, instead of trying every other login.
		{"503 until the next round", &injector{trigger: page3,
			spoil: answer(http.StatusServiceUnavailable, nil, `{"message":"Service Unavailable"}`)}, 2, maxTransient},
		{"answer stalled past the request timeout", &injector{trigger: page3, times: 1}, 1, 1},
		{"connection reset twice", &injector{trigger: page3, times: 2, spoil: resetConnection}, 1, 2},
		{"connection lost mid-answer", &injector{trigger: page3, times: 1, spoil: truncate}, 1, 1},
		{"secondary rate limit", &injector{trigger: page3, times: 1,
			spoil: answer(http.StatusForbidden, map[string]string{"Retry-After": "1"}, secondary)}, 1, 1},
		// A refused token is not used again: the round fails at once, or goes on with the
		// other token.
		{"token revoked mid-pagination", &injector{trigger: page3, revoked: faultToken,
			spoil: answer(http.StatusUnauthorized, nil, unauthorized)}, 2, 1},
		{"one of two tokens revoked mid-pagination", &injector{trigger: page3, revoked: faultToken, spare: true,
			spoil: answer(http.StatusUnauthorized, nil, unauthorized)}, 1, 1},
		// The details of pull request 7 are not published without their first response.
		{"token revoked during a first-response lookup", &injector{revoked: faultToken,
			trigger: func(req *http.Request) bool {
				return strings.HasSuffix(req.URL.Path, "/paginate-issues/issues/7/comments")
			},
			spoil: answer(http.StatusUnauthorized, nil, unauthorized)}, 2, 1},
	}
	t.Logf("| fault | rounds | time | requests (clean: %d) | search pages (clean: %d) | spoiled | retries | republished | lost | doubled |",
		clean.served, clean.searches)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.spoil == nil {
				in.spoil = func(w http.ResponseWriter, req *http.Request) {
					select { // the client gives up first and closes the connection
					case <-req.Context().Done():
					case <-in.stop:
					}
				}
			}
			start := time.Now()
			run := syncRounds(t, in, 3)
			took := time.Since(start)
			if run.spoiled == 0 {
				t.Fatal("the fault was never injected")
			}
			if run.rounds != tt.rounds || len(run.errs) != tt.rounds-1 {
				t.Errorf("the sync took %d rounds (errors %q), want %d", run.rounds, run.errs, tt.rounds)
			}
			if run.spoiled != tt.spoiled {
				t.Errorf("%d requests spoiled, want %d: after a fault the syncer went on sending requests bound to fail", run.spoiled, tt.spoiled)
			}
			checkResumed(t, run)
			lost, doubled := 0, 0
			for id, want := range clean.stream {
				got, ok := run.stream[id]
				switch {
				case !ok:
					lost++
					t.Errorf("record %s lost", id)
				case !maps.Equal(got.Meta, want.Meta) || !bytes.Equal(got.Payload, want.Payload):
					lost++
					t.Errorf("record %s meta = %v, want %v (or its payload differs)", id, got.Meta, want.Meta)
				}
			}
			for id := range run.stream {
				if _, ok := clean.stream[id]; !ok {
					doubled++
					t.Errorf("record %s is not in the clean run's", id)
				}
			}
			if extra := run.stored - len(run.stream); extra != 0 {
				doubled += extra
				t.Errorf("%d messages in the stream for %d records: %d stored twice", run.stored, len(run.stream), extra)
			}
			if !maps.Equal(run.cursors, clean.cursors) {
				t.Errorf("cursors = %v, want the clean run's %v", run.cursors, clean.cursors)
			}
			published := 0
			for _, n := range run.published {
				published += n
			}
			t.Logf("| %s | %d | %s | %d | %d | %d | %d | %d | %d | %d |", tt.name, run.rounds, took.Round(10*time.Millisecond),
				run.served, run.searches, run.spoiled, run.served-clean.served, published-cleanPublished, lost, doubled)
		})
	}
}
