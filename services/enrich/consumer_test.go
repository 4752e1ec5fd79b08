package enrich_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/ops"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/enrich"
)

// prs returns n opened pull requests, numbered from first, spread over four months.
func prs(t *testing.T, first, n int) []events.Raw {
	t.Helper()
	out := make([]events.Raw, n)
	for i := range out {
		num := first + i
		id := fmt.Sprint(num)
		day := fmt.Sprintf("2024-%02d-%02dT10:00:00Z", 1+num%4, 1+num%28)
		out[i] = raw(t, "PullRequestEvent", id, prEvent(id, "ann", "ann", "kubernetes/kubernetes", num, "opened", false, day))
	}
	return out
}

func publishRaw(t *testing.T, js jetstream.JetStream, rs []events.Raw) {
	t.Helper()
	ctx := context.Background()
	pub := bus.NewPublisher(js)
	for i := range rs {
		if err := pub.Publish(ctx, &rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// settled waits until enrich's consumer has no message pending or unacknowledged and its ack
// floor is at last.
func settled(t *testing.T, js jetstream.JetStream, last uint64, within time.Duration) jetstream.ConsumerInfo {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	for {
		if c, err := js.Consumer(ctx, events.StreamRaw, enrich.Durable); err == nil {
			if info, err := c.Info(ctx); err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream == last {
				return *info
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("enrich did not settle the %d raw messages within %s", last, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exactlyOnce checks, without FINAL, that every partition of table holds each id once, and
// returns how many ids the table holds.
func exactlyOnce(t *testing.T, st *store.Store, table, where string) int64 {
	t.Helper()
	res, err := st.Query(context.Background(), "SELECT _partition_id, count(), uniqExact(id) FROM "+table+" WHERE "+where+" GROUP BY _partition_id ORDER BY 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids int64
	for _, r := range res.Rows {
		if n, u := store.AsInt(r[1]), store.AsInt(r[2]); n != u {
			t.Errorf("%s partition %s: %d rows for %d ids: a record was stored twice", table, store.AsString(r[0]), n, u)
		}
		ids += store.AsInt(r[2])
	}
	return ids
}

func readyz(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A store outage (the contributions table detached, a real fault of ClickHouse) that lasts
// many times the consumer's AckWait and retry delays, with MaxDeliver as small as 3, loses and
// doubles nothing: enrich pauses, holds its batches in progress, is unready meanwhile, and
// stores every record exactly once when the table is back. With the former fixed 2s redelivery
// under MaxDeliver the records in flight ran out of deliveries and were lost.
func TestStoreOutageLosesNothing(t *testing.T) {
	st := testkit.Store(t)
	_, _, js := testkit.NATS(t)
	ro, err := roster.Parse(strings.NewReader(rosterCSV))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc := newService(t, enrich.Options{Store: st, JS: js, Company: config.Company{Name: "Acme", GitHubOrgs: []string{"acme"}}, Roster: ro,
		Registry: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BatchSize: 50, AckWait: time.Second, MaxDeliver: 3, RetryMin: 100 * time.Millisecond, RetryMax: 400 * time.Millisecond})
	mux := http.NewServeMux()
	ops.Handle(mux, prometheus.NewRegistry(), ops.Check{Name: "enrich", Fn: svc.Ready})
	hs := httptest.NewServer(mux)
	defer hs.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	const before, during = 200, 800
	publishRaw(t, js, prs(t, 1, before))
	settled(t, js, before, 30*time.Second)
	if code := readyz(t, hs.URL); code != http.StatusOK {
		t.Fatalf("readyz before the outage: %d", code)
	}

	if _, err := st.Query(ctx, "DETACH TABLE contributions", nil); err != nil {
		t.Fatal(err)
	}
	outage := time.Now()
	publishRaw(t, js, prs(t, before+1, during))
	for svc.Ready(ctx) == nil {
		if time.Since(outage) > 20*time.Second {
			t.Fatal("enrich stayed ready with the contributions table detached")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := readyz(t, hs.URL); code != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: %d, want 503", code)
	}
	if up := gauge(t, reg, "giveback_enrich_store_up"); up != 0 {
		t.Errorf("giveback_enrich_store_up %v during the outage, want 0", up)
	}
	if backlog := gauge(t, reg, "giveback_enrich_backlog_messages"); backlog <= 0 {
		t.Errorf("giveback_enrich_backlog_messages %v during the outage, want the records in flight", backlog)
	}
	// Five AckWaits: the former 2s redelivery spends three deliveries in six seconds.
	time.Sleep(time.Until(outage.Add(7 * time.Second)))
	if _, err := st.Query(ctx, "ATTACH TABLE contributions", nil); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	info := settled(t, js, before+during, 60*time.Second)
	t.Logf("outage %s with %d records in flight; recovered %s after the table was back", back.Sub(outage).Round(time.Millisecond), during, time.Since(back).Round(time.Millisecond))
	if code := readyz(t, hs.URL); code != http.StatusOK {
		t.Errorf("readyz after the outage: %d", code)
	}
	if up := gauge(t, reg, "giveback_enrich_store_up"); up != 1 {
		t.Errorf("giveback_enrich_store_up %v after the outage, want 1", up)
	}
	if n := exactlyOnce(t, st, "contributions", "1"); n != before+during {
		t.Errorf("contributions hold %d ids, want %d (lost %d)", n, before+during, before+during-n)
	}
	if n := exactlyOnce(t, st, "raw_events", "1"); n != before+during {
		t.Errorf("raw_events hold %d records, want %d", n, before+during)
	}
	if info.NumRedelivered != 0 {
		t.Errorf("%d messages are being redelivered", info.NumRedelivered)
	}
	if dl := counterVec(t, reg, "giveback_enrich_dead_letters_total"); dl != 0 {
		t.Errorf("%v records dead-lettered by an outage", dl)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// counterVec sums a counter over its labels.
func counterVec(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
