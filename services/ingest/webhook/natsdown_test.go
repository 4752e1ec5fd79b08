package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
)

// While its NATS server stops and starts again (same port, same store), the receiver never
// answers 2xx to a delivery it did not store: a delivery in the outage is refused with 503, and
// once GitHub redelivers it (same delivery id) it is stored. In the end every delivery is in the
// raw stream exactly once. With the replay bucket, the replay check is what fails first in an
// outage; without it, the publish.
func TestNATSRestartLosesNoDelivery(t *testing.T) {
	for _, withReplays := range []bool{true, false} {
		t.Run(fmt.Sprintf("replays=%t", withReplays), func(t *testing.T) { natsRestart(t, withReplays) })
	}
}

func natsRestart(t *testing.T, withReplays bool) {
	const outage = 6 * time.Second // longer than a publish waits for its ack (5s)
	dir := t.TempDir()
	srv, err := bus.StartEmbedded(dir, "127.0.0.1:-1")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", u.Port())
	defer func() { srv.Shutdown() }()
	nc, js, err := bus.Connect(srv.URL(), "ingest", bus.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	pub := bus.NewPublisher(js)
	h := &Handler{Secret: secret, Publish: pub.PublishSync}
	if withReplays {
		if h.Replays, err = OpenReplays(ctx, js, 1); err != nil {
			t.Fatal(err)
		}
	}
	hs := newServer(t, h)

	deliver := func(i int) int {
		body := fmt.Appendf(nil, `{"action":"opened","number":%d}`, i)
		code, _ := post(t, hs, signed("pull_request", fmt.Sprintf("delivery-%d", i), body), body)
		return code
	}
	// Deliveries one after another, while the server is stopped after the first second and
	// started again after the outage.
	restarted := make(chan error, 1)
	go func() {
		time.Sleep(time.Second)
		srv.Shutdown()
		time.Sleep(outage)
		s, err := bus.StartEmbedded(dir, addr)
		if err == nil {
			srv = s
		}
		restarted <- err
	}()
	var refused []int
	accepted, outageSeen := 0, false
	n := 0
	for done := false; !done; n++ {
		select {
		case err := <-restarted:
			if err != nil {
				t.Fatalf("restart NATS on %s: %v", addr, err)
			}
			done = true
		default:
		}
		start := time.Now()
		switch code := deliver(n); {
		case code == http.StatusAccepted:
			accepted++
		case code == http.StatusServiceUnavailable:
			refused = append(refused, n)
			outageSeen = true
		default:
			t.Fatalf("delivery %d answered %d during a NATS restart; want 202 or 503", n, code)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("delivery %d took %s to answer; GitHub gives up after 10s", n, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !outageSeen {
		t.Fatal("no delivery was refused during the outage: the test did not stop NATS in time")
	}
	// GitHub redelivers what was refused, under the same delivery ids.
	for _, i := range refused {
		for attempt := 1; deliver(i) != http.StatusAccepted; attempt++ {
			if attempt == 20 {
				t.Fatalf("redelivery of delivery-%d still refused after NATS came back", i)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	stored := streamIDs(ctx, t, js)
	doubled := 0
	for i := range n {
		switch c := stored[fmt.Sprintf("delivery-%d", i)]; {
		case c == 0:
			t.Errorf("delivery-%d is not in %s", i, events.StreamRaw)
		case c > 1:
			doubled += c - 1
		}
	}
	if len(stored) != n || doubled > 0 {
		t.Errorf("%s holds %d deliveries (%d doubled), want %d once each", events.StreamRaw, len(stored), doubled, n)
	}
	t.Logf("NATS restart (outage %s): %d deliveries, %d accepted at once, %d refused with 503 and redelivered; lost 0, doubled %d",
		outage, n, accepted, len(refused), doubled)
}

// streamIDs reads the raw stream and counts its messages by delivery id (their message id).
func streamIDs(ctx context.Context, t *testing.T, js jetstream.JetStream) map[string]int {
	t.Helper()
	cons, err := js.OrderedConsumer(ctx, events.StreamRaw, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for range info.NumPending {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("read %s: %v", events.StreamRaw, err)
		}
		ids[strings.TrimPrefix(m.Headers().Get(jetstream.MsgIDHeader), events.SourceWebhook+":")]++
	}
	return ids
}
