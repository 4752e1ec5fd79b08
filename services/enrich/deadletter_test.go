package enrich_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/enrich"
	"giveback.dev/services/enrich/mapper"
)

// manyMonthsPush is a webhook push whose commits are dated in 150 different months (a history
// rewritten with arbitrary author dates): ClickHouse refuses an INSERT over more than 100
// partitions, so no batch holding it can be stored whole.
func manyMonthsPush(id string) events.Raw {
	var commits []string
	for i := range 150 {
		at := time.Date(2010, time.Month(1+i), 3, 12, 0, 0, 0, time.UTC).Format(time.RFC3339)
		commits = append(commits, fmt.Sprintf(`{"id":"%040x","distinct":true,"message":"m%d","timestamp":%q,"author":{"email":"x%d@example.org"}}`, 0xabc000+i, i, at, i))
	}
	body := `{"ref":"refs/heads/main","commits":[` + strings.Join(commits, ",") + `],"repository":{"full_name":"golang/go","fork":false,"private":false},"sender":{"login":"ann"}}`
	return events.Raw{Schema: events.SchemaRaw, Source: events.SourceWebhook, Kind: "push", ID: id,
		FetchedAt: time.Date(2025, 1, 1, 16, 0, 0, 0, time.UTC), Origin: "webhook:" + id, Payload: json.RawMessage(body)}
}

// Poison records (undecodable data, a mapper panic, a row ClickHouse rejects) are tried a bounded
// number of times, backing off, and then kept in the dead-letter stream with their reason, source
// and origin, while every other record of their batches is stored once. A dead letter replayed
// after the fault is fixed is stored once, and is gone from the stream.
func TestPoisonGoesToDeadLetters(t *testing.T) {
	st := testkit.Store(t)
	_, _, js := testkit.NATS(t)
	ro, err := roster.Parse(strings.NewReader(rosterCSV))
	if err != nil {
		t.Fatal(err)
	}
	restore := enrich.SetMapRecord(func(r *events.Raw) ([]events.Contribution, error) {
		if r.ID == "boom" {
			var fields []string
			_ = fields[len(r.ID)] // an index out of range: the mapper bug this stands for
		}
		return mapper.Map(r)
	})
	defer restore()
	reg := prometheus.NewRegistry()
	svc := newService(t, enrich.Options{Store: st, JS: js, Company: config.Company{Name: "Acme", GitHubOrgs: []string{"acme"}}, Roster: ro,
		Registry: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BatchSize: 100, PoisonTries: 3, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	good := prs(t, 1, 300)
	boom := raw(t, "PullRequestEvent", "boom", prEvent("boom", "ann", "ann", "kubernetes/kubernetes", 9001, "opened", false, "2024-02-02T10:00:00Z"))
	var all []events.Raw
	all = append(all, good[:100]...)
	all = append(all, boom, manyMonthsPush("push-1"))
	all = append(all, good[100:]...)
	publishRaw(t, js, all)
	pub := bus.NewPublisher(js)
	if err := pub.PublishData(ctx, events.SubjectRaw(events.SourceGHArchive), "garbage", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	settled(t, js, uint64(len(all)+1), 60*time.Second)

	dls, err := bus.DeadLetters(ctx, js, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bus.DeadLetter{}
	for _, d := range dls {
		got[d.Stage] = d
		if d.Deliveries != 3 || d.Stream != events.StreamRaw || d.StreamSeq == 0 || d.Reason == "" {
			t.Errorf("dead letter %+v: want 3 deliveries, its stream, sequence and reason", d)
		}
	}
	if len(dls) != 3 {
		t.Fatalf("%d dead letters, want 3: %+v", len(dls), dls)
	}
	if d := got["panic"]; d.Origin != "test:boom" || d.Source != events.SourceGHArchive || !strings.Contains(d.Reason, "index out of range") {
		t.Errorf("panic dead letter %+v", d)
	}
	if d := got["store"]; d.Origin != "webhook:push-1" || d.Source != events.SourceWebhook || !strings.Contains(d.Reason, "partitions") || d.Subject != events.SubjectRaw(events.SourceWebhook) {
		t.Errorf("store dead letter %+v", d)
	}
	if d := got["decode"]; d.Source != "" || string(d.Data) != "not json" || d.Subject != events.SubjectRaw(events.SourceGHArchive) {
		t.Errorf("decode dead letter %+v", d)
	}
	if n := exactlyOnce(t, st, "contributions", "1"); n != int64(len(good)) {
		t.Errorf("contributions hold %d ids, want the %d good records'", n, len(good))
	}
	if n := counterVec(t, reg, "giveback_enrich_dead_letters_total"); n != 3 {
		t.Errorf("giveback_enrich_dead_letters_total %v, want 3", n)
	}

	// The mapper is fixed: the replayed record is stored, once; a second replay finds nothing.
	restore()
	if _, err := bus.ReplayDeadLetter(ctx, js, got["panic"].Seq, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.ReplayDeadLetter(ctx, js, got["panic"].Seq, nil); !errors.Is(err, bus.ErrNoDeadLetter) {
		t.Fatalf("second replay: %v, want ErrNoDeadLetter", err)
	}
	settled(t, js, uint64(len(all)+2), 30*time.Second)
	if n := exactlyOnce(t, st, "contributions", "id = 'pr:kubernetes/kubernetes#9001'"); n != 1 {
		t.Errorf("the replayed pull request is stored %d times, want once", n)
	}
	if n := exactlyOnce(t, st, "raw_events", "id = 'boom'"); n != 1 {
		t.Errorf("the replayed raw record is stored %d times, want once", n)
	}
	if dls, err := bus.DeadLetters(ctx, js, 0); err != nil || len(dls) != 2 {
		t.Errorf("after the replay %d dead letters (%v), want 2", len(dls), err)
	}
}
