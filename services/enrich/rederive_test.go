package enrich_test

import (
	"context"
	"encoding/json"
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
)

const rosterBefore = `employee_id,name,team,github_logins,emails,start_date,end_date,opt_out
e1,Ann,core,ann,,2024-01-01,,false
e3,Olga,core,olga,olga@acme.com,2024-01-01,,false
`

// rosterAfter moves Ann to platform on 2024-05-01, hires Bob back-dated, and opts Olga out.
const rosterAfter = `employee_id,name,team,github_logins,emails,start_date,end_date,opt_out
e1,Ann,core,ann,,2024-01-01,2024-04-30,false
e1,Ann,platform,ann,,2024-05-01,,false
e2,Bob,web,bob,,2024-01-01,,false
e3,Olga,core,olga,olga@acme.com,2024-01-01,,true
`

// TestRosterChangeRederivesHistory stores history with one roster, then loads another through
// the KV bucket and a RosterChange, as `giveback roster load` does, and checks that enrich
// re-attributes it: a back-dated hire's earlier work becomes theirs, a team move changes the
// team of the work after the move only, and an opt-out removes the person's rows and records.
func TestRosterChangeRederivesHistory(t *testing.T) {
	st := testkit.Store(t)
	_, _, js := testkit.NATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before, err := roster.Parse(strings.NewReader(rosterBefore))
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(t, enrich.Options{Store: st, JS: js, Company: config.Company{Name: "Acme", GitHubOrgs: []string{"acme"}}, Roster: before, Registry: prometheus.NewRegistry(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rs := []events.Raw{
		raw(t, "PullRequestEvent", "1", prEvent("1", "bob", "bob", "kubernetes/kubernetes", 1, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "PullRequestEvent", "2", prEvent("2", "ann", "ann", "kubernetes/kubernetes", 2, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "PullRequestEvent", "3", strings.ReplaceAll(prEvent("3", "ann", "ann", "kubernetes/kubernetes", 3, "opened", false, "2024-06-01T10:00:00Z"), "2024-03-01T10:00:00Z", "2024-06-01T10:00:00Z")),
		raw(t, "PullRequestEvent", "4", prEvent("4", "olga", "olga", "golang/go", 4, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "PushEvent", "5", pushEvent("5", "someone", "golang/go", "2024-03-02T10:00:00Z", "olga@acme.com")),
	}
	if err := svc.Store(ctx, svc.Process(encode(t, rs))); err != nil {
		t.Fatal(err)
	}
	q := "SELECT id, employee_id, team FROM contributions FINAL ORDER BY id"
	if got := strings.Join(query(t, st, q), "|"); got != "commit:golang/go@5c0 e3 core|pr:golang/go#4 e3 core|pr:kubernetes/kubernetes#1  |pr:kubernetes/kubernetes#2 e1 core|pr:kubernetes/kubernetes#3 e1 core" {
		t.Fatalf("before: %s", got)
	}

	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()

	// What `giveback roster load` does: the roster, the generation, then the announcement.
	after, err := roster.Parse(strings.NewReader(rosterAfter))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, events.KeyRosterCurrent, []byte(rosterAfter)); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, events.KeyRosterGeneration, []byte("1")); err != nil {
		t.Fatal(err)
	}
	changed := roster.Changed(before, after)
	if strings.Join(changed, ",") != "ann,bob,olga,olga@acme.com" {
		t.Fatalf("changed %v", changed)
	}
	msg, err := json.Marshal(events.RosterChange{Schema: events.SchemaRoster, ChangedAt: time.Now(), Digest: after.Digest, Logins: changed})
	if err != nil {
		t.Fatal(err)
	}
	pub := bus.NewPublisher(js)
	if err := pub.PublishData(ctx, events.SubjectRoster, "roster:1", msg); err != nil {
		t.Fatal(err)
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := js.Consumer(ctx, events.StreamControl, enrich.RosterDurable)
		if err == nil {
			if info, err := c.Info(ctx); err == nil && info.AckFloor.Stream == 1 && info.NumAckPending == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("enrich did not handle the roster change")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(query(t, st, q), "|"); got != "pr:kubernetes/kubernetes#1 e2 web|pr:kubernetes/kubernetes#2 e1 core|pr:kubernetes/kubernetes#3 e1 platform" {
		t.Fatalf("after: %s", got)
	}
	if got := strings.Join(query(t, st, "SELECT id FROM raw_events FINAL ORDER BY id"), ","); got != "1,2,3" {
		t.Fatalf("raw events after the opt-out: %s", got)
	}
	// A later roster load by any replica: the generation is read back.
	if _, gen, found, err := roster.FromKV(context.Background(), kv); err != nil || !found || gen != 1 {
		t.Fatalf("roster.FromKV: %d %t %v", gen, found, err)
	}
}
