package report_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

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
		TopActors: []report.InfluenceActor{{Actor: "rsc", Events: 10}, {Actor: "", Events: 5}, {Actor: "login-e1", Events: 3, Employee: true}, {Actor: "LOGIN-E3", Events: 2, Employee: true}},
		// Without affiliations every other actor is an organization of one: rsc alone makes half.
		ElephantFactor: 1, UnaffiliatedEvents: 15,
		Organizations: []report.InfluenceOrganization{
			{Name: "rsc", Kind: report.OrgUnaffiliated, Events: 10, Share: 0.5, Actors: 1},
			{Name: "", Kind: report.OrgUnaffiliated, Events: 5, Share: 0.25, Actors: 1},
			{Name: "Acme Corp", Kind: report.OrgCompany, Events: 5, Share: 0.25, Actors: 2},
		}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if get(t, ts, "/api/v1/metrics/influence", url.Values{"repo": {"golang/go"}, "from": {"2025-02-01"}, "to": {"2025-02-01"}}, &got); got.Events != 7 || got.Company.Events != 2 {
		t.Fatalf("February: %+v", got)
	}
	if get(t, ts, "/api/v1/metrics/influence", url.Values{"repo": {"nobody/nothing"}}, &got); got.Events != 0 || got.Company.Share != 0 || len(got.TopActors) != 0 ||
		got.ElephantFactor != 0 || got.Organizations == nil || len(got.Organizations) != 0 || got.UnaffiliatedEvents != 0 {
		t.Fatalf("unwatched: %+v", got)
	}
	var bad struct{ Error, Param string }
	for _, q := range []url.Values{{}, {"repo": {"golang"}}, {"repo": {"golang/go"}, "from": {"2025-13-01"}}, {"repo": {"golang/go"}, "team": {"core"}}} {
		if status := get(t, ts, "/api/v1/metrics/influence", q, &bad); status != http.StatusBadRequest || bad.Param == "" {
			t.Fatalf("%v: %d %+v", q, status, bad)
		}
	}
}

// TestInfluenceElephantFactor: the Elephant Factor and the organizations, with an affiliations
// file, on activity whose figures are worked out by hand below.
func TestInfluenceElephantFactor(t *testing.T) {
	af, err := report.ParseAffiliations(strings.NewReader(`[
  {"login": "g1", "affiliation": "Google"},
  {"login": "g2", "affiliation": "google"},
  {"login": "r1", "affiliation": "Red Hat < 2025-02-01, Google"},
  {"login": "i1", "affiliation": "Independent"},
  {"login": "i2", "affiliation": "Self"},
  {"login": "u1", "affiliation": "NotFound"},
  {"login": "x1", "affiliation": "ACME Corp"},
  {"login": "login-e1", "affiliation": "Google"}
]`), "github_users.json")
	if err != nil {
		t.Fatal(err)
	}
	st := fixture(t) // login-e1, login-e2 and login-e3 are employees
	ts := httptest.NewServer(newServer(t, report.Options{Store: st, Company: "Acme Corp", Affiliations: af,
		Now: func() time.Time { return day("2025-03-31 12:00") }}).Handler())
	t.Cleanup(ts.Close)
	var rows []events.ActivityRow
	add := func(d, repo, actor string, n uint64) {
		rows = append(rows, events.ActivityRow{Day: d, Repo: repo, Actor: actor, Type: "PushEvent", Events: n})
	}
	// three/orgs: 101 events.
	//   Google    g1 15 + g2 10 + r1 5 (February, after Red Hat) = 30  (login-e1 is an employee: the company)
	//   Acme Corp login-e1 20                                     = 20
	//   i1 12, i2 11 (independent), u1 9 (NotFound), r1 8 (Red Hat, January), nobody 7 (not in
	//   the file), the opted-out people 4: each an organization.
	// By events: 30, 20, 12, …; 30+20 = 50 < 50.5, 30+20+12 = 62 ≥ 50.5: factor 3.
	// Unaffiliated: u1 9 + nobody 7 + opted-out 4 = 20.
	const three = "three/orgs"
	add("2025-01-15", three, "login-e1", 20)
	add("2025-01-15", three, "g1", 15)
	add("2025-01-16", three, "g2", 10)
	add("2025-01-20", three, "r1", 6)
	add("2025-01-31", three, "r1", 2)
	add("2025-02-01", three, "r1", 5)
	add("2025-01-15", three, "i1", 12)
	add("2025-01-15", three, "i2", 11)
	add("2025-01-15", three, "u1", 9)
	add("2025-01-15", three, "nobody", 7)
	add("2025-01-15", three, "", 4)
	// one/company: 28 events. Employees login-e1 10 + login-e2 4 = 14, exactly half: factor 1
	// (x1's 2 events, which the file gives to the company, join it: 16). g1 5 (Google), u1 4
	// and nobody 3 unaffiliated.
	const one = "one/company"
	add("2025-03-01", one, "login-e1", 10)
	add("2025-03-02", one, "login-e2", 4)
	add("2025-03-02", one, "x1", 2)
	add("2025-03-03", one, "g1", 5)
	add("2025-03-03", one, "u1", 4)
	add("2025-03-04", one, "nobody", 3)
	if err := st.InsertProjectActivity(context.Background(), []events.HourTotals{{Hour: "2025-01-15-10", Rows: rows}}); err != nil {
		t.Fatal(err)
	}

	org := func(name, kind string, events, actors int64, total float64) report.InfluenceOrganization {
		return report.InfluenceOrganization{Name: name, Kind: kind, Events: events, Share: float64(events) / total, Actors: actors}
	}
	for _, tc := range []struct {
		name, repo, from, to string
		factor               int
		unaffiliated         int64
		orgs                 []report.InfluenceOrganization
	}{
		{"three organizations", three, "2025-01-01", "2025-03-31", 3, 20, []report.InfluenceOrganization{
			org("Google", report.OrgOrganization, 30, 3, 101),
			org("Acme Corp", report.OrgCompany, 20, 1, 101),
			org("i1", report.OrgIndependent, 12, 1, 101),
			org("i2", report.OrgIndependent, 11, 1, 101),
			org("u1", report.OrgUnaffiliated, 9, 1, 101),
			org("Red Hat", report.OrgOrganization, 8, 1, 101),
			org("nobody", report.OrgUnaffiliated, 7, 1, 101),
			org("", report.OrgUnaffiliated, 4, 1, 101),
		}},
		// January only (96 events): r1 is with Red Hat throughout. Google 25 + Acme Corp 20 = 45
		// < 48, + i1 12 = 57: factor 3.
		{"January", three, "2025-01-01", "2025-01-31", 3, 20, []report.InfluenceOrganization{
			org("Google", report.OrgOrganization, 25, 2, 96),
			org("Acme Corp", report.OrgCompany, 20, 1, 96),
			org("i1", report.OrgIndependent, 12, 1, 96),
			org("i2", report.OrgIndependent, 11, 1, 96),
			org("u1", report.OrgUnaffiliated, 9, 1, 96),
			org("Red Hat", report.OrgOrganization, 8, 1, 96),
			org("nobody", report.OrgUnaffiliated, 7, 1, 96),
			org("", report.OrgUnaffiliated, 4, 1, 96),
		}},
		{"company alone", one, "2025-01-01", "2025-03-31", 1, 7, []report.InfluenceOrganization{
			org("Acme Corp", report.OrgCompany, 16, 3, 28),
			org("Google", report.OrgOrganization, 5, 1, 28),
			org("u1", report.OrgUnaffiliated, 4, 1, 28),
			org("nobody", report.OrgUnaffiliated, 3, 1, 28),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got report.Influence
			if status := get(t, ts, "/api/v1/metrics/influence", url.Values{"repo": {tc.repo}, "from": {tc.from}, "to": {tc.to}}, &got); status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			if got.ElephantFactor != tc.factor || got.UnaffiliatedEvents != tc.unaffiliated || !reflect.DeepEqual(got.Organizations, tc.orgs) {
				t.Fatalf("factor %d, unaffiliated %d, organizations %+v\nwant %d, %d, %+v",
					got.ElephantFactor, got.UnaffiliatedEvents, got.Organizations, tc.factor, tc.unaffiliated, tc.orgs)
			}
		})
	}
	// The company's share stays that of its employees.
	var got report.Influence
	get(t, ts, "/api/v1/metrics/influence", url.Values{"repo": {one}, "from": {"2025-03-01"}, "to": {"2025-03-31"}}, &got)
	if got.Events != 28 || got.Company != (report.InfluenceShare{Events: 14, Actors: 2, Share: 0.5}) {
		t.Fatalf("one/company: %+v", got)
	}
}
