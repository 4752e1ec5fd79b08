package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/enrich"
)

// `giveback forget` against a running enrich: it prints what was removed where, and tells the
// company to opt the person out in the roster.
func TestForgetCommand(t *testing.T) {
	requireChDB(t)
	st := testkit.Store(t)
	srv, _, js := testkit.NATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	args := []string{"forget", "--nats", srv.URL(), "--log-level", "error", "--actor", "tester"}

	// No enrich answers yet.
	err := run(ctx, append(args, "ann"), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "no enrich service answers") {
		t.Fatalf("without enrich: %v", err)
	}
	for in, want := range map[string]string{"": "give exactly one", "a b": "blank or control", "x@y@z": "is not an e-mail"} {
		a := append([]string(nil), args...)
		if in != "" {
			a = append(a, in)
		}
		if err := run(ctx, a, &out, &errb); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("forget %q: %v, want an error saying %q", in, err, want)
		}
	}

	// The roster as `giveback roster load` hands it over: both enrich and forget read it there.
	csv := "employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\ne1,Ann,core,ann,ann@acme.com,2024-01-01,,false\n"
	file := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roster.Store(ctx, kv, []byte(csv), announcer(js)); err != nil {
		t.Fatal(err)
	}
	ro, err := roster.Parse(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := enrich.New(enrich.Options{Store: st, JS: js, Company: config.Company{Name: "Acme"}, Roster: ro, Registry: prometheus.NewRegistry(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := events.Raw{Schema: events.SchemaRaw, Source: events.SourceGHArchive, Kind: "PullRequestEvent", ID: "1", FetchedAt: time.Now().UTC(),
		Payload: json.RawMessage(`{"id":"1","type":"PullRequestEvent","actor":{"login":"ann"},"repo":{"name":"golang/go"},"payload":{"action":"opened","number":1,` +
			`"pull_request":{"number":1,"user":{"login":"ann"},"state":"open","merged":false,"created_at":"2024-03-01T10:00:00Z","updated_at":"2024-03-01T10:00:00Z","base":{"repo":{"full_name":"golang/go"}}}},"created_at":"2024-03-01T10:00:00Z"}`)}
	pub := bus.NewPublisher(js)
	if err := pub.Publish(ctx, &r); err != nil {
		t.Fatal(err)
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	deadline := time.Now().Add(90 * time.Second) // a bound for a loaded machine, not a timing
	for {
		res, err := st.Query(ctx, "SELECT count() FROM contributions", nil)
		if err == nil && store.AsInt(res.Rows[0][0]) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("enrich did not store the event")
		}
		time.Sleep(100 * time.Millisecond)
	}
	out.Reset()
	if err := run(ctx, append(args, "ANN@acme.com"), &out, &errb); err != nil {
		t.Fatalf("forget: %v\n%s", err, errb.String())
	}
	for _, want := range []string{": 2 logins and e-mails", "clickhouse.contributions", "clickhouse.raw_events", "stream.GIVEBACK_RAW", "stream.GIVEBACK_ENRICHED",
		"set opt_out=true on their rows"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	res, err := st.Query(ctx, "SELECT count() FROM contributions", nil)
	if err != nil || store.AsInt(res.Rows[0][0]) != 0 {
		t.Fatalf("contributions left: %v %v", res, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// `giveback forget --clickhouse DSN` with no running instance forgets in ClickHouse alone.
func TestForgetCommandDirect(t *testing.T) {
	requireChDB(t)
	ctx := context.Background()
	dsn := "chdb://" + filepath.Join(t.TempDir(), "clickhouse")
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"forget", "--clickhouse", dsn, "--log-level", "error", "--actor", "tester", "nobody-here"}, &out, &errb); err != nil {
		t.Fatalf("forget: %v\n%s", err, errb.String())
	}
	for _, want := range []string{"ClickHouse only", "nothing named them", "not on the roster"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
