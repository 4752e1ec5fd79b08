package bus_test

import (
	"context"
	"fmt"
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

// A consumer deleted under a running consume loop (the server ends its pull request with
// "409 Consumer Deleted") is declared again and the loop carries on: records published after
// the deletion are handled, and Consume returns only when its context ends.
func TestConsumeCarriesOnAfterItsConsumerIsDeleted(t *testing.T) {
	_, _, js := testkit.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub := bus.NewPublisher(js)
	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			id := fmt.Sprintf("r%d", i)
			if err := pub.PublishData(ctx, events.SubjectRaw("test"), id, []byte(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := pub.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	handled := map[string]int{}
	seen := func(from, to int) bool {
		mu.Lock()
		defer mu.Unlock()
		for i := from; i < to; i++ {
			if handled[fmt.Sprintf("r%d", i)] == 0 {
				return false
			}
		}
		return true
	}
	waitSeen := func(from, to int) {
		t.Helper()
		for !seen(from, to) {
			if ctx.Err() != nil {
				t.Fatalf("records r%d to r%d not all handled", from, to-1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- bus.Consume(cctx, js, bus.ConsumerOptions{
			Stream: events.StreamRaw, Durable: "deleted", FilterSubject: events.SubjectRawAll,
			BatchSize: 10, Linger: 10 * time.Millisecond, AckWait: 2 * time.Second, RetryMin: 100 * time.Millisecond,
		}, slog.New(slog.NewTextHandler(io.Discard, nil)), func(_ context.Context, msgs []jetstream.Msg) ([]bus.Decision, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				handled[string(m.Data())]++
			}
			return make([]bus.Decision, len(msgs)), nil
		})
	}()
	publish(0, 20)
	waitSeen(0, 20)

	// Deleted while the loop waits for more: its pull request is answered 409 Consumer Deleted.
	time.Sleep(200 * time.Millisecond)
	if err := js.DeleteConsumer(ctx, events.StreamRaw, "deleted"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("Consume returned after its consumer was deleted: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	publish(20, 40)
	waitSeen(20, 40)
	if _, err := js.Consumer(ctx, events.StreamRaw, "deleted"); err != nil {
		t.Errorf("consumer not declared again: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Consume: %v", err)
	}
}
