package bus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// On a 3-node cluster with R3 streams, each node a process of its own, two nodes killed with
// SIGKILL in the middle of a stream lose nothing, and the publisher and the consumer carry on:
// first a follower of the raw stream that leads enrich's consumer, started again while records
// still flow; then the node leading both the stream and the consumer, started again 2s after
// the others elected a new leader. Every raw record published the way ingest publishes
// (asynchronously, by message id, a chunk published again whole when its flush failed, as
// ingest reads an unfinished hour again) is stored once and handled by enrich's durable consumer
// through bus.Consume, and nothing is left pending or unacked.
func TestClusterKilledNodesLoseNothing(t *testing.T) {
	const (
		total = 3000
		chunk = 100
	)
	c := testkit.NATSCluster(t, 3)
	// Nodes start again in the background; the test ends after them.
	var bg sync.WaitGroup
	defer bg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	// The publisher (ingest) and the consumer (enrich) have connections of their own.
	pnc, pjs, err := bus.Connect(c.URLs(), "ingest", bus.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer pnc.Close()
	cnc, cjs, err := bus.Connect(c.URLs(), "enrich", bus.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer cnc.Close()
	if err := bus.EnsureStreams(ctx, pjs, bus.StreamOptions{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if info, err := streamInfo(pjs); err != nil || info.Config.Replicas != 3 {
		t.Fatalf("stream %s: %v, %+v; want 3 replicas", events.StreamRaw, err, info)
	}

	var (
		mu      sync.Mutex
		handled = map[string]int{}
		// From half the records on, the handler waits until the leader is killed, as enrich
		// would in a slow insert, so the kill finds records in its hands and a backlog.
		slow    = make(chan struct{})
		slowing bool
		release = sync.OnceFunc(func() { close(slow) })
		// The first record published after the leader was killed, and when it was handled.
		firstAfter   = -1
		firstAfterAt time.Time
	)
	cctx, stopConsumer := context.WithCancel(context.Background())
	consumed := make(chan error, 1)
	go func() {
		consumed <- bus.Consume(cctx, cjs, bus.ConsumerOptions{
			Stream: events.StreamRaw, Durable: events.DurableEnrich, FilterSubject: events.SubjectRawAll,
			BatchSize: 200, Linger: 20 * time.Millisecond, AckWait: 3 * time.Second, RetryMin: 200 * time.Millisecond,
		}, slog.New(slog.NewTextHandler(io.Discard, nil)), func(_ context.Context, msgs []jetstream.Msg) ([]bus.Decision, error) {
			mu.Lock()
			if slowing {
				mu.Unlock()
				<-slow
				mu.Lock()
			}
			defer mu.Unlock()
			for _, m := range msgs {
				id := m.Headers().Get(jetstream.MsgIDHeader)
				handled[id]++
				if firstAfter >= 0 && firstAfterAt.IsZero() && id == fmt.Sprintf("gharchive:%d", firstAfter) {
					firstAfterAt = time.Now()
				}
			}
			return make([]bus.Decision, len(msgs)), nil
		})
	}()
	defer func() {
		stopConsumer()
		if err := <-consumed; err != nil {
			t.Errorf("consumer: %v", err)
		}
	}()
	defer release()

	// The follower dies between two chunks of the publisher, the leader in the middle of one;
	// the nodes start again in the background while it publishes on.
	var (
		follower, leader       = -1, -1
		followerKilled         time.Time
		followerDownFor        time.Duration
		leaderKilled           time.Time
		newLeaderAfter         time.Duration
		inFlightAtFollower     int
		inFlightAtLeader       int
		restarted              = make(chan error, 1)
		followerBack           = make(chan error, 1)
		retries, publishedLast int
	)
	pub := bus.NewPublisher(pjs)
	for start := 0; start < total; start += chunk {
		switch start {
		case total / 3:
			info, err := streamInfo(pjs)
			if err != nil {
				t.Fatal(err)
			}
			if info.Cluster == nil || c.Node(info.Cluster.Leader) < 0 {
				t.Fatalf("stream %s has no leader: %+v", events.StreamRaw, info.Cluster)
			}
			follower = (c.Node(info.Cluster.Leader) + 1) % 3
			moveConsumerLeader(t, cnc, cjs, c.Name(follower))
			inFlightAtFollower = inFlight(cjs)
			followerKilled = time.Now()
			c.Kill(follower)
		case total / 2:
			mu.Lock()
			slowing = true
			mu.Unlock()
			bg.Go(func() {
				if err := c.Start(follower); err != nil {
					followerBack <- err
					return
				}
				followerDownFor = time.Since(followerKilled)
				followerBack <- waitCurrent(ctx, pjs)
			})
		case 2 * total / 3:
			if err := <-followerBack; err != nil {
				t.Fatal(err)
			}
			info, err := streamInfo(pjs)
			if err != nil {
				t.Fatal(err)
			}
			if leader = c.Node(info.Cluster.Leader); leader < 0 {
				t.Fatalf("stream %s has no leader: %+v", events.StreamRaw, info.Cluster)
			}
			moveConsumerLeader(t, cnc, cjs, c.Name(leader))
			// The leader dies with half a chunk published and not yet acknowledged.
			for i := start; i < start+chunk/2; i++ {
				id := fmt.Sprintf("gharchive:%d", i)
				if err := pub.PublishData(ctx, events.SubjectRaw("gharchive"), id, []byte(id)); err != nil {
					t.Fatalf("publish %s: %v", id, err)
				}
			}
			inFlightAtLeader = inFlight(cjs) + chunk/2
			leaderKilled = time.Now()
			c.Kill(leader)
			mu.Lock()
			firstAfter = start + chunk/2
			slowing = false
			mu.Unlock()
			release()
			bg.Go(func() {
				restarted <- func() error {
					// The remaining two nodes elect a new leader of the stream; the killed one
					// starts again 2s later.
					for {
						info, err := streamInfo(pjs)
						if err == nil && info.Cluster.Leader != "" && c.Node(info.Cluster.Leader) != leader {
							break
						}
						if ctx.Err() != nil {
							return fmt.Errorf("no new leader of %s after %s", events.StreamRaw, time.Since(leaderKilled))
						}
						time.Sleep(20 * time.Millisecond)
					}
					newLeaderAfter = time.Since(leaderKilled)
					time.Sleep(2 * time.Second)
					if err := c.Start(leader); err != nil {
						return err
					}
					return waitCurrent(ctx, pjs)
				}()
			})
		}
		// The publisher, as ingest's backfill: a chunk of records, a flush, and the chunk again
		// when the flush failed.
		for attempt := 1; ; attempt++ {
			for i := start; i < start+chunk; i++ {
				id := fmt.Sprintf("gharchive:%d", i)
				if err := pub.PublishData(ctx, events.SubjectRaw("gharchive"), id, []byte(id)); err != nil {
					t.Fatalf("publish %s: %v", id, err)
				}
			}
			err := pub.Flush(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil || attempt == 20 {
				t.Fatalf("chunk at %d not published after %d attempts: %v", start, attempt, err)
			}
			retries++
			t.Logf("chunk at %d: flush failed (%v); publishing it again", start, err)
			time.Sleep(200 * time.Millisecond)
		}
		publishedLast = start + chunk
		time.Sleep(30 * time.Millisecond)
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}

	// Every record consumed, and nothing pending or unacked on the consumer.
	var lost, doubled int
	for {
		mu.Lock()
		lost, doubled = 0, 0
		for i := range total {
			switch n := handled[fmt.Sprintf("gharchive:%d", i)]; {
			case n == 0:
				lost++
			case n > 1:
				doubled += n - 1
			}
		}
		mu.Unlock()
		ci, cerr := consumerInfo(cjs)
		if lost == 0 && cerr == nil && ci.NumPending == 0 && ci.NumAckPending == 0 {
			break
		}
		select {
		case err := <-consumed:
			t.Fatalf("the consumer stopped: %v", err)
		default:
		}
		if ctx.Err() != nil {
			si, serr := streamInfo(pjs)
			if cerr != nil || serr != nil {
				t.Fatalf("%d of %d records never consumed; consumer info: %v; stream info: %v", lost, total, cerr, serr)
			}
			t.Fatalf("%d of %d records never consumed: the consumer (leader %s) has %d pending, %d unacked, "+
				"%d pull requests waiting, delivered up to %d, acked up to %d; the stream holds %d records",
				lost, total, ci.Cluster.Leader, ci.NumPending, ci.NumAckPending, ci.NumWaiting, ci.Delivered.Stream,
				ci.AckFloor.Stream, si.State.Msgs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	allConsumed := time.Since(leaderKilled)
	info, err := streamInfo(pjs)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != total {
		t.Errorf("stream %s holds %d messages, want %d (a publisher retry stored twice)", events.StreamRaw, info.State.Msgs, total)
	}
	stored, dups := pub.Counts()
	mu.Lock()
	resumedAfter := firstAfterAt.Sub(leaderKilled)
	mu.Unlock()
	t.Logf("NATS faults (3 nodes, R3, SIGKILL): %d records; follower %s (leading the consumer) killed with %d in flight, "+
		"back after %s; leader %s (of the stream and the consumer) killed with %d in flight, new stream leader after %s, "+
		"first record published after the kill consumed after %s, all consumed %s after the kill, started again 2s after the election; "+
		"lost %d, stored twice 0, delivered twice %d; publisher: %d chunks, %d chunk retries, %d stored, %d dropped as duplicates by Nats-Msg-Id",
		total, c.Name(follower), inFlightAtFollower, followerDownFor.Round(time.Millisecond), c.Name(leader), inFlightAtLeader,
		newLeaderAfter.Round(time.Millisecond), resumedAfter.Round(time.Millisecond), allConsumed.Round(time.Millisecond),
		lost, doubled, publishedLast/chunk, retries, stored, dups)
}

// moveConsumerLeader makes the node named to the leader of enrich's consumer on the raw stream,
// so that killing that node takes the consumer's leader too.
func moveConsumerLeader(t *testing.T, nc *nats.Conn, js jetstream.JetStream, to string) {
	t.Helper()
	req, err := json.Marshal(map[string]any{"placement": map[string]string{"preferred": to}})
	if err != nil {
		t.Fatal(err)
	}
	subject := fmt.Sprintf("$JS.API.CONSUMER.LEADER.STEPDOWN.%s.%s", events.StreamRaw, events.DurableEnrich)
	deadline := time.Now().Add(15 * time.Second)
	last := "no answer"
	for time.Now().Before(deadline) {
		ci, err := consumerInfo(js)
		if err == nil && ci.Cluster != nil && ci.Cluster.Leader == to {
			return
		}
		if err == nil && ci.Cluster != nil && ci.Cluster.Leader != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			res, err := nc.RequestWithContext(ctx, subject, req)
			cancel()
			if err != nil {
				last = err.Error()
			} else {
				last = string(res.Data)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("consumer %s: leadership not moved to %s in 15s: %s", events.DurableEnrich, to, last)
}

// inFlight is how many records enrich's consumer has yet to settle: pending and unacked.
func inFlight(js jetstream.JetStream) int {
	ci, err := consumerInfo(js)
	if err != nil {
		return -1
	}
	return int(ci.NumPending) + ci.NumAckPending
}

// consumerInfo asks for enrich's consumer's info, within 2s of a context of its own: a request
// sent to a node as it dies is never answered, and the test's own context may have ended.
func consumerInfo(js jetstream.JetStream) (*jetstream.ConsumerInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, events.StreamRaw, events.DurableEnrich)
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", events.DurableEnrich, err)
	}
	return c.Info(ctx)
}

// streamInfo asks for the raw stream's info, within 2s of a context of its own.
func streamInfo(js jetstream.JetStream) (*jetstream.StreamInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, events.StreamRaw)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", events.StreamRaw, err)
	}
	return s.Info(ctx)
}

// waitCurrent waits until every replica of the raw stream is current again.
func waitCurrent(ctx context.Context, js jetstream.JetStream) error {
	for {
		info, err := streamInfo(js)
		if err == nil && info.Cluster != nil && len(info.Cluster.Replicas) == 2 {
			current := true
			for _, r := range info.Cluster.Replicas {
				current = current && r.Current && !r.Offline
			}
			if current {
				return nil
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("replicas of %s not current again: %w", events.StreamRaw, ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
