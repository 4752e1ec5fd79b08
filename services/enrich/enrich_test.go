package enrich_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/enrich"
)

func raw(t *testing.T, kind, id, payload string) events.Raw {
	t.Helper()
	return events.Raw{Schema: events.SchemaRaw, Source: events.SourceGHArchive, Kind: kind, ID: id,
		FetchedAt: time.Date(2025, 1, 1, 16, 0, 0, 0, time.UTC), Origin: "test:" + id, Payload: json.RawMessage(payload)}
}

func prEvent(id, actor, author, repo string, number int, action string, merged bool, updated string) string {
	m := "false"
	mergedAt := "null"
	state := "open"
	if action == "closed" {
		state = "closed"
	}
	if merged {
		m, mergedAt = "true", `"`+updated+`"`
	}
	return `{"id":"` + id + `","type":"PullRequestEvent","actor":{"login":"` + actor + `"},"repo":{"name":"` + repo + `"},` +
		`"payload":{"action":"` + action + `","number":` + itoa(number) + `,"pull_request":{"number":` + itoa(number) +
		`,"user":{"login":"` + author + `"},"state":"` + state + `","merged":` + m + `,"merged_at":` + mergedAt +
		`,"created_at":"2024-03-01T10:00:00Z","updated_at":"` + updated + `","title":"t","html_url":"https://github.com/` + repo + `/pull/` + itoa(number) + `"}},` +
		`"created_at":"` + updated + `"}`
}

func itoa(n int) string { return strconv.Itoa(n) }

const rosterCSV = `employee_id,name,team,github_logins,emails,start_date,end_date,opt_out
e1,Ann,core,ann,,2024-01-01,2024-03-31,false
e1,Ann,platform,ann,,2024-04-01,,false
e2,Opt,core,opt,,2020-01-01,,true
`

// TestEnrichStoresAttributesAndSettles runs the service on a real JetStream and chDB: PRs are
// attributed to their author's team of the day, a later state replaces an earlier one, an
// opted-out person's work is never stored, a non-contribution is acked and a poison record
// terminated without holding up the rest.
func TestEnrichStoresAttributesAndSettles(t *testing.T) {
	st := testkit.Store(t)
	_, _, js := testkit.NATS(t)
	ro, err := roster.Parse(strings.NewReader(rosterCSV))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc := newService(t, enrich.Options{Store: st, JS: js, Company: config.Company{Name: "Acme", GitHubOrgs: []string{"acme"}}, Roster: ro, Registry: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PoisonTries: 1}) // poison is dead-lettered at its first delivery (deadletter_test.go tries more)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()

	pub := bus.NewPublisher(js)
	for _, r := range []events.Raw{
		raw(t, "PullRequestEvent", "1", prEvent("1", "ann", "ann", "kubernetes/kubernetes", 7, "opened", false, "2024-03-01T10:00:00Z")),
		// merged in April by a maintainer: still Ann's PR, credited to the team of its creation day
		raw(t, "PullRequestEvent", "2", prEvent("2", "maint", "ann", "kubernetes/kubernetes", 7, "closed", true, "2024-04-02T09:00:00Z")),
		raw(t, "PullRequestEvent", "3", prEvent("3", "ann", "ann", "acme/tool", 1, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "PullRequestEvent", "4", prEvent("4", "opt", "opt", "golang/go", 9, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "PullRequestEvent", "5", prEvent("5", "stranger", "stranger", "acme/tool", 2, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "WatchEvent", "6", `{"id":"6","type":"WatchEvent","actor":{"login":"ann"},"repo":{"name":"golang/go"},"payload":{"action":"started"},"created_at":"2024-03-01T10:00:00Z"}`),
		raw(t, "PullRequestEvent", "7", `{"id":"7","type":"PullRequestEvent","payload":{"action":"opened"}}`),
	} {
		if err := pub.Publish(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	// An unknown event type carries no contribution; plain garbage is poison.
	if err := pub.Publish(ctx, &events.Raw{Source: events.SourceGHArchive, Kind: "x", ID: "8"}); err != nil {
		t.Fatal(err)
	}
	if err := pub.PublishData(ctx, events.SubjectRaw(events.SourceGHArchive), "garbage", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := js.Consumer(ctx, events.StreamRaw, enrich.Durable)
		if err == nil {
			if info, err := c.Info(ctx); err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream == 9 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("enrich did not settle the 9 records")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	res, err := st.Query(context.Background(), "SELECT id, actor_login, employee_id, team, is_upstream, state, merged FROM contributions FINAL ORDER BY id", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Rows {
		parts := make([]string, len(r))
		for i, v := range r {
			parts[i] = store.AsString(v)
		}
		got = append(got, strings.Join(parts, " "))
	}
	want := []string{
		// maint merged Ann's pull request: a merge row of theirs (not on the roster).
		"merge:kubernetes/kubernetes#7 maint   1  0",
		"pr:acme/tool#1 ann e1 core 0 open 0",
		"pr:acme/tool#2 stranger   0 open 0",
		"pr:kubernetes/kubernetes#7 ann e1 core 1 closed 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("contributions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	res, err = st.Query(context.Background(), "SELECT count() FROM raw_events WHERE payload LIKE '%\"opt\"%'", nil)
	if err != nil {
		t.Fatal(err)
	}
	if store.AsInt(res.Rows[0][0]) != 0 {
		t.Fatal("an opted-out person's raw record was stored")
	}
	for outcome, want := range map[string]float64{"mapped": 4, "opted_out": 1, "not_contribution": 2, "poison": 2} {
		if got := counter(t, reg, "giveback_enrich_records_total", outcome); got != want {
			t.Errorf("records %s = %v, want %v", outcome, got, want)
		}
	}
	// What was stored went out on the live feed.
	cons, err := js.OrderedConsumer(context.Background(), events.StreamEnriched, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 5 { // the four pull request rows and maint's merge
		t.Errorf("enriched feed holds %d contributions, want 5", info.NumPending)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
