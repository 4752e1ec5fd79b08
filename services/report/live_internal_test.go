package report

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// TestLiveDropsSlowClient: a client that reads nothing while more contributions than its buffer
// arrive is dropped, with the reason, and the hub goes on serving the others; the ring keeps the
// latest ones for the page and for resuming.
func TestLiveDropsSlowClient(t *testing.T) {
	_, _, js := testkit.NATS(t)
	h := newLiveHub(js, slog.New(slog.DiscardHandler))
	t.Cleanup(h.close)
	ctx := context.Background()
	slow, _, err := h.subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	fast, _, err := h.subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	const n = liveBuffer + 40
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := range n {
			c := events.Contribution{Schema: events.SchemaContribution, ID: "commit:a/b@" + strconv.Itoa(i), Kind: events.KindCommit, Repo: "a/b"}
			data, _ := json.Marshal(c)
			if _, err := js.Publish(ctx, events.SubjectContribution, data); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	deadline := time.After(30 * time.Second)
	for got := 0; got < n; got++ {
		select {
		case it := <-fast.ch:
			if it.c.ID != "commit:a/b@"+strconv.Itoa(got) {
				t.Fatalf("the reading client got %s at %d", it.c.ID, got)
			}
		case <-deadline:
			t.Fatalf("the reading client got %d of %d", got, n)
		}
	}
	<-published
	got := 0
	for range slow.ch {
		got++
	}
	if got != liveBuffer || !strings.HasPrefix(slow.reason, "dropped: ") || h.clientCount() != 1 {
		t.Fatalf("the slow client kept %d (want %d), reason %q, %d clients left", got, liveBuffer, slow.reason, h.clientCount())
	}
	recent, err := h.recent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != liveRing || recent[0].c.ID != "commit:a/b@"+strconv.Itoa(n-1) {
		t.Fatalf("ring of %d, newest %+v", len(recent), recent[0])
	}
	h.unsubscribe(fast)
}

// BenchmarkLiveFanOut measures the hub handing contributions from the enriched stream to 32
// subscribed clients: each iteration is one contribution published through embedded NATS (a
// synchronous publish, as enrich's) and received by every client. A client the hub dropped
// for falling behind fails the benchmark.
func BenchmarkLiveFanOut(b *testing.B) {
	_, _, js := testkit.NATS(b)
	h := newLiveHub(js, slog.New(slog.DiscardHandler))
	b.Cleanup(h.close)
	ctx := context.Background()
	const clients = 32
	got := make(chan int, clients)
	for range clients {
		cl, _, err := h.subscribe(ctx, 0)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			n := 0
			for range cl.ch {
				if n++; n == b.N {
					break
				}
			}
			got <- n
		}()
	}
	data, err := json.Marshal(events.Contribution{Schema: events.SchemaContribution, ID: "commit:a/b@1", Kind: events.KindCommit,
		Repo: "kubernetes/kubernetes", Destination: "upstream", Team: "core", Title: "Fix the scheduler's tie-break", Source: events.SourceGHArchive})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := js.Publish(ctx, events.SubjectContribution, data); err != nil {
			b.Fatal(err)
		}
	}
	for range clients {
		select {
		case n := <-got:
			if n != b.N {
				b.Fatalf("a client received %d of %d contributions before it was dropped", n, b.N)
			}
		case <-time.After(time.Minute):
			b.Fatal("the clients did not receive every contribution within a minute")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*clients)/b.Elapsed().Seconds(), "deliveries/s")
}
