package report_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/services/report"
)

func TestInfluence(t *testing.T) {
	ts, st := server(t, config.Query{})
	row := func(day, actor, kind string, n uint64) events.ActivityRow {
		return events.ActivityRow{Day: day, Repo: "golang/go", Actor: actor, Type: kind, Events: n}
	}
	// login-e1 and login-e3 are employees in the fixture's contributions; rsc and "" are not.
	if err := st.InsertProjectActivity(context.Background(), []events.HourTotals{
		{Hour: "2025-01-10-9", Rows: []events.ActivityRow{row("2025-01-10", "login-e1", "PushEvent", 3), row("2025-01-10", "rsc", "PushEvent", 10)}},
		{Hour: "2025-02-01-8", Rows: []events.ActivityRow{row("2025-02-01", "LOGIN-E3", "IssuesEvent", 2), row("2025-02-01", "", "IssueCommentEvent", 5)}},
		{Hour: "2025-01-10-9", Rows: []events.ActivityRow{row("2025-01-10", "login-e1", "PushEvent", 3)}}, // the same hour again
		{Hour: "2025-01-10-9", Rows: []events.ActivityRow{{Day: "2025-01-10", Repo: "other/repo", Actor: "rsc", Type: "PushEvent", Events: 50}}},
	}); err != nil {
		t.Fatal(err)
	}
	var got report.Influence
	if status := get(t, ts, "/api/v1/metrics/influence", url.Values{"repo": {"Golang/Go"}, "from": {"2025-01-01"}, "to": {"2025-03-31"}}, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	want := report.Influence{Repo: "Golang/Go", From: "2025-01-01", To: "2025-03-31", Events: 20, Actors: 4,
		Company:   report.InfluenceShare{Events: 5, Actors: 2, Share: 0.25},
		TopActors: []report.InfluenceActor{{Actor: "rsc", Events: 10}, {Actor: "", Events: 5}, {Actor: "login-e1", Events: 3, Employee: true}, {Actor: "LOGIN-E3", Events: 2, Employee: true}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if get(t, ts, "/api/v1/metrics/influence", url.Values{"repo": {"golang/go"}, "from": {"2025-02-01"}, "to": {"2025-02-01"}}, &got); got.Events != 7 || got.Company.Events != 2 {
		t.Fatalf("February: %+v", got)
	}
	if get(t, ts, "/api/v1/metrics/influence", url.Values{"repo": {"nobody/nothing"}}, &got); got.Events != 0 || got.Company.Share != 0 || len(got.TopActors) != 0 {
		t.Fatalf("unwatched: %+v", got)
	}
	var bad struct{ Error, Param string }
	for _, q := range []url.Values{{}, {"repo": {"golang"}}, {"repo": {"golang/go"}, "from": {"2025-13-01"}}, {"repo": {"golang/go"}, "team": {"core"}}} {
		if status := get(t, ts, "/api/v1/metrics/influence", q, &bad); status != http.StatusBadRequest || bad.Param == "" {
			t.Fatalf("%v: %d %+v", q, status, bad)
		}
	}
}
