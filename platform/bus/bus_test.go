package bus_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// A handler that takes longer than the consumer's AckWait keeps its batch: the messages are
// marked in progress meanwhile and are neither redelivered nor handed to another worker; each is
// handled once and acked.
func TestSlowHandlerKeepsItsBatch(t *testing.T) {
	_, _, js := testkit.NATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := bus.NewPublisher(js)
	for _, id := range []string{"1", "2", "3"} {
		if err := pub.PublishData(ctx, events.SubjectRaw("test"), id, []byte(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	handled := map[string]int{}
	delivered := map[string]uint64{}
	done := make(chan error, 1)
	go func() {
		done <- bus.Consume(ctx, js, bus.ConsumerOptions{
			Stream: events.StreamRaw, Durable: "slow", FilterSubject: events.SubjectRawAll,
			BatchSize: 10, Linger: 200 * time.Millisecond, AckWait: time.Second, Workers: 2,
		}, slog.New(slog.NewTextHandler(io.Discard, nil)), func(ctx context.Context, msgs []jetstream.Msg) ([]bus.Decision, error) {
			time.Sleep(3500 * time.Millisecond) // three and a half AckWaits
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				handled[string(m.Data())]++
				if md, err := m.Metadata(); err == nil && md.NumDelivered > delivered[string(m.Data())] {
					delivered[string(m.Data())] = md.NumDelivered
				}
			}
			return make([]bus.Decision, len(msgs)), nil
		})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := js.Consumer(ctx, events.StreamRaw, "slow")
		if err == nil {
			if info, err := c.Info(ctx); err == nil && info.AckFloor.Stream == 3 && info.NumAckPending == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the three messages were not acked")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // a redelivery, were there one, would be handled by now... almost
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range []string{"1", "2", "3"} {
		if handled[id] != 1 || delivered[id] != 1 {
			t.Errorf("message %s handled %d times, delivered %d times; want once", id, handled[id], delivered[id])
		}
	}
}

// Redelivery backs off: the delay doubles with each attempt from RetryMin and stays at RetryMax.
func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want time.Duration
	}{{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {6, 32 * time.Second}, {7, time.Minute}, {1000, time.Minute}} {
		if got := bus.Backoff(c.n, time.Second, time.Minute); got != c.want {
			t.Errorf("Backoff(%d) = %s, want %s", c.n, got, c.want)
		}
	}
}
