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

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/enrich"
)

// TestTotalsStoredAndReposWatched: hour totals go to project_activity (an opted-out person's
// rows unnamed), not to raw_events, and the repositories of employees' upstream contributions
// are written for ingest to watch.
func TestTotalsStoredAndReposWatched(t *testing.T) {
	st := testkit.Store(t)
	_, _, js := testkit.NATS(t)
	ro, err := roster.Parse(strings.NewReader(rosterCSV))
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(t, enrich.Options{Store: st, JS: js, Company: config.Company{Name: "Acme", GitHubOrgs: []string{"acme"}}, Roster: ro, Registry: prometheus.NewRegistry(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	payload, err := json.Marshal(events.HourTotals{Hour: "2024-03-01-10", Rows: []events.ActivityRow{
		{Day: "2024-03-01", Repo: "kubernetes/kubernetes", Actor: "ann", Type: "PushEvent", Events: 2},
		{Day: "2024-03-01", Repo: "kubernetes/kubernetes", Actor: "opt", Type: "PushEvent", Events: 3},
		{Day: "2024-03-01", Repo: "kubernetes/kubernetes", Actor: "", Type: "PushEvent", Events: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	totals := events.Raw{Schema: events.SchemaRaw, Source: events.SourceGHArchiveTotals, Kind: events.KindHourTotals, ID: "totals:2024-03-01-10",
		FetchedAt: time.Date(2025, 1, 1, 16, 0, 0, 0, time.UTC), Payload: payload}
	var datas [][]byte
	for _, r := range []events.Raw{totals, raw(t, "PullRequestEvent", "1", prEvent("1", "ann", "ann", "kubernetes/kubernetes", 7, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "PullRequestEvent", "3", prEvent("3", "ann", "ann", "acme/tool", 1, "opened", false, "2024-03-01T10:00:00Z"))} {
		data, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		datas = append(datas, data)
	}
	ctx := context.Background()
	res := svc.Process(datas)
	if len(res.Activity) != 1 || len(res.Raw) != 2 {
		t.Fatalf("activity %d, raw %d", len(res.Activity), len(res.Raw))
	}
	if err := svc.Store(ctx, res); err != nil {
		t.Fatal(err)
	}
	q, err := st.Query(ctx, "SELECT actor, sum(events) FROM project_activity FINAL GROUP BY actor ORDER BY actor", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range q.Rows {
		got = append(got, store.AsString(row[0])+"="+store.AsString(row[1]))
	}
	if strings.Join(got, " ") != "=4 ann=2" {
		t.Fatalf("project_activity: %v", got)
	}
	kv, err := js.KeyValue(ctx, events.BucketWatchedRepos)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, events.KeyTotalsRepos)
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Value()) != `["kubernetes/kubernetes"]` {
		t.Fatalf("%s = %s", events.KeyTotalsRepos, e.Value())
	}
}
