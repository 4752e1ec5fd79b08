package ingest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/ingest/githubsync"
)

// The service takes hydration requests from the control stream: a malformed one is terminated
// and counted, a pull request GitHub no longer shows is done (not retried), and each outcome is
// counted; the request reaches GitHub as a pull request fetch.
func TestHydrationConsumer(t *testing.T) {
	_, _, js := testkit.NATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	asked := make(chan string, 10)
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked <- r.URL.Path
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	}))
	defer gh.Close()
	client, err := githubsync.NewClient(gh.URL+"/", "t", gh.Client())
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Publisher: bus.NewPublisher(js), JS: js, Log: slog.New(slog.DiscardHandler),
		Registry: prometheus.NewRegistry(), Hydrator: &githubsync.Hydrator{REST: &githubsync.REST{Client: client}}}
	if err := o.OpenBuckets(ctx, js); err != nil {
		t.Fatal(err)
	}
	svc, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()

	pub := bus.NewPublisher(js)
	req, err := json.Marshal(events.Hydrate{Schema: events.SchemaHydrate, Kind: events.HydratePullRequest, Repo: "gone/away", Number: 3, Actor: "ann", RawID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.PublishData(ctx, events.SubjectHydrate, "bad", []byte(`{"schema":"something else"}`)); err != nil {
		t.Fatal(err)
	}
	if err := pub.PublishData(ctx, events.SubjectHydrate, "good", req); err != nil {
		t.Fatal(err)
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-asked:
		if p != "/api/v3/repos/gone/away/pulls/3" {
			t.Fatalf("GitHub was asked for %s", p)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the request did not reach GitHub")
	}
	deadline := time.Now().Add(15 * time.Second)
	for testutil.ToFloat64(svc.hydrations.WithLabelValues("done")) != 1 || testutil.ToFloat64(svc.hydrations.WithLabelValues("malformed")) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("outcomes: done %v, malformed %v", testutil.ToFloat64(svc.hydrations.WithLabelValues("done")),
				testutil.ToFloat64(svc.hydrations.WithLabelValues("malformed")))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, ok := svc.HydrationStatus(); !ok || st.Gone != 1 || st.Requests != 1 {
		t.Fatalf("status %+v, %v", st, ok)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
