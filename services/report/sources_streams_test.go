package report_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/services/report"
)

// TestSourcesStreams runs the report service as the NATS user report, with its permissions, on
// a server where enrich has a backlog and a dead letter: /sources shows each stream's messages,
// the lag of the durable consumers (not the live page's ephemeral one), the dead-letter count
// and the last error of each source.
func TestSourcesStreams(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pw := map[string]string{}
	for _, u := range bus.Users {
		pw[u] = "pw-" + u
	}
	srv, err := bus.StartServer(bus.ServerOptions{Dir: t.TempDir(), Addr: "127.0.0.1:-1", Passwords: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	connect := func(user string) jetstream.JetStream {
		nc, js, err := bus.Connect(srv.URL(), "test-"+user, bus.Credentials{User: user, Password: pw[user]})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return js
	}
	admin := connect(bus.UserAdmin)
	if err := bus.EnsureStreams(ctx, admin, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	// Five raw records; enrich took two and acknowledged none yet.
	for i := range 5 {
		if _, err := admin.Publish(ctx, events.SubjectRaw(events.SourceWebhook), []byte(`{}`), jetstream.WithMsgID(string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := admin.CreateOrUpdateConsumer(ctx, events.StreamRaw, jetstream.ConsumerConfig{Durable: events.DurableEnrich, AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.FetchNoWait(2)
	if err != nil {
		t.Fatal(err)
	}
	var first jetstream.Msg
	for m := range batch.Messages() {
		if first == nil {
			first = m
		}
	}
	if first == nil {
		t.Fatal("fetched nothing")
	}
	d := bus.DeadLetterFrom(first, "map", "mapper: webhook push: no repository", events.SourceWebhook, "delivery 1")
	if err := bus.PublishDeadLetter(ctx, admin, d); err != nil {
		t.Fatal(err)
	}
	statuses, err := admin.KeyValue(ctx, events.BucketStatus)
	if err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]string{
		events.KeyStatusREST("hubot"):   `{"login":"hubot","last_sync":"2025-03-01T10:00:00Z","last_error":"githubsync: hubot: rate limited"}`,
		events.KeyStatusREST("octocat"): `{"login":"octocat","last_sync":"2025-03-01T11:00:00Z","last_error":"githubsync: octocat: 502 Bad Gateway"}`,
		events.KeyStatusREST("mona"):    `{"login":"mona","last_sync":"2025-03-01T12:00:00Z","last_error":""}`,
		events.KeyStatusHydration:       `{"requests":3,"last_error":"hydrate: 404","last_at":"2025-03-01T10:05:00Z"}`,
	} {
		if _, err := statuses.Put(ctx, key, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}

	js := connect(bus.UserReport)
	sources, err := report.OpenSources(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	rep := newServer(t, report.Options{Company: "Acme", Sources: sources, Live: js})
	t.Cleanup(rep.Close)
	ts := httptest.NewServer(rep.Handler())
	t.Cleanup(ts.Close)
	// A live page is open: its ordered consumer is ephemeral and not listed.
	if status, _ := send(t, ts, http.MethodGet, "/live", "", ""); status != http.StatusOK {
		t.Fatalf("live page as the report user: %d", status)
	}

	var got report.Sources
	if status := get(t, ts, "/api/v1/sources", nil, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	byName := map[string]report.StreamStatus{}
	for _, s := range got.Streams {
		if s.Error != "" {
			t.Errorf("stream %s: %s", s.Stream, s.Error)
		}
		byName[s.Stream] = s
	}
	raw := byName[events.StreamRaw]
	if raw.Messages != 5 || raw.LastAt.IsZero() || len(raw.Consumers) != 1 {
		t.Fatalf("raw stream: %+v", raw)
	}
	if c := raw.Consumers[0]; c.Name != events.DurableEnrich || c.Pending != 3 || c.AckPending != 2 || c.LastActive.IsZero() {
		t.Fatalf("enrich's lag: %+v", c)
	}
	if e := byName[events.StreamEnriched]; e.Stream == "" || len(e.Consumers) != 0 {
		t.Fatalf("enriched stream, with a live page's ephemeral consumer: %+v", e)
	}
	if dl := byName[events.StreamDeadLetter]; dl.Messages != 1 || got.DeadLetters == nil || *got.DeadLetters != 1 {
		t.Fatalf("dead letters: %+v, count %v", dl, got.DeadLetters)
	}
	want := map[string]string{"rest": "githubsync: octocat: 502 Bad Gateway", "hydration": "hydrate: 404", "enrich": "mapper: webhook push: no repository"}
	if len(got.LastErrors) != len(want) {
		t.Fatalf("last errors: %+v", got.LastErrors)
	}
	for _, e := range got.LastErrors {
		if want[e.Source] != e.Error || e.At.IsZero() {
			t.Errorf("last error of %s: %+v, want %q", e.Source, e, want[e.Source])
		}
	}

	resp, err := http.Get(ts.URL + "/sources")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	for _, w := range []string{`data-stream="GIVEBACK_RAW" data-consumer="enrich"><td>GIVEBACK_RAW</td><td class="num">5</td>`,
		`<td>enrich</td><td class="num">3</td><td class="num">2</td>`, `data-kpi="dead_letters"><div class="value">1</div>`,
		`<tr data-source="enrich"><td>enrich</td>`, "mapper: webhook push: no repository", "githubsync: octocat: 502 Bad Gateway"} {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %s", w)
		}
	}
	if resp.StatusCode != http.StatusOK || t.Failed() {
		t.Fatalf("page: %d\n%s", resp.StatusCode, page)
	}
}
