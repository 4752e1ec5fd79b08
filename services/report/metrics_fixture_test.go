package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/deps"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
	"giveback.dev/services/report/metrics"
)

// The metrics fixture: the first quarter of 2025 of a company (Acme Corp) with three employees,
// written so that every metric's value can be worked out by hand (below, beside each
// expectation). The roster:
//
//	e1 ann  core                       first upstream contribution 2024-12-20 (returning)
//	e2 bob  web, stored first as core, re-attributed to web by newer versions (a team move)
//	e3 cy   web, leaving on 2025-04-30 first upstream contribution 2025-02-14 (new)
//	e4 dee  opted out: nothing of theirs is stored; their project activity is unnamed ("")
//
// Contributions (Q1 unless dated otherwise; k/k is kubernetes/kubernetes):
//
//	 1 pr k/k#1            ann  Jan 10 09:00, merged Jan 12 09:00 (48 h); open, merged, open again
//	 2 pr golang/go#2      bob  Jan 20, closed unmerged Jan 25; the closed version stored first
//	 3 pr golang/go#3      ann  2024-12-20 00:00, merged 2025-02-01 00:00 (1032 h)
//	 4 review k/k#50       bob  Feb 10, approved (stored twice)          a seat
//	 5 merge k/k#51        bob  Mar 5                                     a seat
//	 6 review golang/go#60 ann  Feb 11, commented                         not a seat
//	 7 review golang/go#61 cy   Mar 10, approved                          a seat
//	 8 issue nodejs/node#7 cy   Feb 14
//	 9 comment node#7      ann  Feb 15
//	10 commit k/website    cy   Mar 10
//	11 commit acme/sdk     ann  Jan 15 (company_oss: not upstream)
//	12 pr acme/internal#4  bob  Feb 3, merged Feb 4 (internal)
//	13 commit ann/dotfiles ann  Jan 20 (personal)
//	14 commit zed/go       ann  Mar 1 (a fork)
//	15 comment acme/sdk    outsider1 Mar 20 (community, new; affiliated to Initech)
//	16 comment acme/sdk    outsider2 2024-11-01, 17 again Feb 2 (community, returning)
//	18 commit golang/go    bob  2024-06-01
//	19 commit golang/go    ann  2025-04-02 (after the period)
//	20 review k/k#1        bob  Jan 11 09:00, commented: the first answer to #1, 24 h after
//
// Foundations: kubernetes/* CNCF, nodejs/node OpenJS Foundation. Dependencies (the latest
// import): left/pad 9, k/k 5, golang/go 3, dead/lib 2, busy/lib 1. Project totals:
//
//	k/k        2025-02-10 ann 10, bob 10, x1 30, x2 20 (both Google), "" 5; 2024-10-05 x1 40
//	golang/go  2025-02-10 ann 5, y1 5, y2 5, y3 5
//	left/pad   2025-02-01 solo 10; 2024-10-01 solo 30
//	busy/lib   2025-03-01 a 9 pushes and 1 release, b 10, c 10; 2024-11-01 a 30
//
// Every batch is its own INSERT with merges stopped, so duplicates and older versions stay in
// the table: the values hold only if every reader deduplicates.
var q1 = url.Values{"from": {"2025-01-01"}, "to": {"2025-03-31"}}

func metricsFixtureBatches() [][]events.Contribution {
	type opt func(*events.Contribution)
	row := func(id, kind, occurred, emp, login, team, repo, dest string, opts ...opt) events.Contribution {
		owner, _, _ := strings.Cut(repo, "/")
		c := events.Contribution{Schema: events.SchemaContribution, ID: id, Kind: kind, OccurredAt: day(occurred),
			ActorLogin: login, EmployeeID: emp, Team: team, Repo: repo, RepoOwner: owner, IsUpstream: dest == "upstream",
			Destination: dest, Source: events.SourceGHArchive, Version: 1}
		switch {
		case owner == "kubernetes":
			c.Foundation = "CNCF"
		case repo == "nodejs/node":
			c.Foundation = "OpenJS Foundation"
		}
		switch repo {
		case "kubernetes/kubernetes":
			c.IsDependency, c.DependencyCriticality = true, 5
		case "golang/go":
			c.IsDependency, c.DependencyCriticality = true, 3
		}
		for _, o := range opts {
			o(&c)
		}
		return c
	}
	num := func(n int) opt { return func(c *events.Contribution) { c.Number = n } }
	state := func(s string) opt { return func(c *events.Contribution) { c.State = s } }
	version := func(c events.Contribution, v uint64, mod ...opt) events.Contribution {
		c.Version = v
		for _, o := range mod {
			o(&c)
		}
		return c
	}
	merged := func(when string) opt {
		return func(c *events.Contribution) {
			c.State, c.Merged, c.MergedAt, c.ClosedAt = "closed", true, at(when), at(when)
		}
	}
	declined := func(when string) opt {
		return func(c *events.Contribution) { c.State, c.ClosedAt = "closed", at(when) }
	}
	web := func(c *events.Contribution) { c.Team = "web" }

	pr1 := row("pr:kubernetes/kubernetes#1", events.KindPullRequest, "2025-01-10 09:00", "e1", "ann", "core", "kubernetes/kubernetes", "upstream", num(1), state("open"))
	pr2 := row("pr:golang/go#2", events.KindPullRequest, "2025-01-20 12:00", "e2", "bob", "core", "golang/go", "upstream", num(2), state("open"))
	pr3 := row("pr:golang/go#3", events.KindPullRequest, "2024-12-20 00:00", "e1", "ann", "core", "golang/go", "upstream", num(3), state("open"))
	r4 := row("review:kubernetes/kubernetes#50/1", events.KindReview, "2025-02-10 10:00", "e2", "bob", "core", "kubernetes/kubernetes", "upstream", num(50), state("approved"))
	m5 := row("merge:kubernetes/kubernetes#51", events.KindMerge, "2025-03-05 10:00", "e2", "bob", "core", "kubernetes/kubernetes", "upstream", num(51))
	r6 := row("review:golang/go#60/2", events.KindReview, "2025-02-11 10:00", "e1", "ann", "core", "golang/go", "upstream", num(60), state("commented"))
	r7 := row("review:golang/go#61/3", events.KindReview, "2025-03-10 10:00", "e3", "cy", "web", "golang/go", "upstream", num(61), state("approved"))
	i8 := row("issue:nodejs/node#7", events.KindIssue, "2025-02-14 10:00", "e3", "cy", "web", "nodejs/node", "upstream", num(7), state("open"))
	c9 := row("comment:nodejs/node/issue/9", events.KindComment, "2025-02-15 10:00", "e1", "ann", "core", "nodejs/node", "upstream", num(7))
	c10 := row("commit:kubernetes/website@abc", events.KindCommit, "2025-03-10 11:00", "e3", "cy", "web", "kubernetes/website", "upstream")
	c11 := row("commit:acme/sdk@s1", events.KindCommit, "2025-01-15 10:00", "e1", "ann", "core", "acme/sdk", "company_oss")
	pr12 := row("pr:acme/internal#4", events.KindPullRequest, "2025-02-03 08:00", "e2", "bob", "core", "acme/internal", "internal", num(4), state("open"))
	c13 := row("commit:ann/dotfiles@d1", events.KindCommit, "2025-01-20 10:00", "e1", "ann", "core", "ann/dotfiles", "personal")
	c14 := row("commit:zed/go@f1", events.KindCommit, "2025-03-01 10:00", "e1", "ann", "core", "zed/go", "fork")
	o15 := row("comment:acme/sdk/issue/15", events.KindComment, "2025-03-20 10:00", "", "outsider1", "", "acme/sdk", "company_oss", num(1))
	o16 := row("comment:acme/sdk/issue/16", events.KindComment, "2024-11-01 10:00", "", "outsider2", "", "acme/sdk", "company_oss", num(1))
	o17 := row("comment:acme/sdk/issue/17", events.KindComment, "2025-02-02 10:00", "", "outsider2", "", "acme/sdk", "company_oss", num(1))
	c18 := row("commit:golang/go@old", events.KindCommit, "2024-06-01 10:00", "e2", "bob", "core", "golang/go", "upstream")
	c19 := row("commit:golang/go@apr", events.KindCommit, "2025-04-02 10:00", "e1", "ann", "core", "golang/go", "upstream")
	r20 := row("review:kubernetes/kubernetes#1/4", events.KindReview, "2025-01-11 09:00", "e2", "bob", "core", "kubernetes/kubernetes", "upstream", num(1), state("commented"))

	return [][]events.Contribution{
		{pr1, version(pr2, 2, declined("2025-01-25 12:00")), pr3, r4, m5, r6, r7, i8, c9, c10, c11, pr12, c13, c14, o15, o16, o17, c18, c19, r20},
		{version(pr1, 2, merged("2025-01-12 09:00")), pr2, version(pr3, 2, merged("2025-02-01 00:00")), r4, version(pr12, 2, merged("2025-02-04 08:00"))},
		// bob's team move: every row of his again, newer, in team web.
		{version(pr2, 3, declined("2025-01-25 12:00"), web), version(r4, 3, web), version(m5, 3, web), version(pr12, 3, merged("2025-02-04 08:00"), web),
			version(c18, 3, web), version(r20, 3, web)},
		{pr1, r4},
	}
}

func metricsFixtureActivity() []events.HourTotals {
	rows := func(hour, d, repo string, kv ...any) events.HourTotals {
		h := events.HourTotals{Hour: hour}
		for i := 0; i+2 < len(kv); i += 3 {
			h.Rows = append(h.Rows, events.ActivityRow{Day: d, Repo: repo, Actor: kv[i].(string), Type: kv[i+1].(string), Events: uint64(kv[i+2].(int))})
		}
		return h
	}
	return []events.HourTotals{
		rows("2025-02-10-12", "2025-02-10", "kubernetes/kubernetes", "ann", "PushEvent", 10, "bob", "PushEvent", 10, "x1", "PushEvent", 30, "x2", "IssuesEvent", 20, "", "PushEvent", 5),
		rows("2024-10-05-12", "2024-10-05", "kubernetes/kubernetes", "x1", "PushEvent", 40),
		rows("2025-02-10-13", "2025-02-10", "golang/go", "ann", "PushEvent", 5, "y1", "PushEvent", 5, "y2", "PushEvent", 5, "y3", "PushEvent", 5),
		rows("2025-02-01-12", "2025-02-01", "left/pad", "solo", "PushEvent", 10),
		rows("2024-10-01-12", "2024-10-01", "left/pad", "solo", "PushEvent", 30),
		rows("2025-03-01-12", "2025-03-01", "busy/lib", "a", "PushEvent", 9, "a", "ReleaseEvent", 1, "b", "PushEvent", 10, "c", "PushEvent", 10),
		rows("2024-11-01-12", "2024-11-01", "busy/lib", "a", "PushEvent", 30),
	}
}

const metricsFixtureRoster = `employee_id,name,team,github_logins,emails,start_date,end_date,opt_out
e1,Ann,core,ann,ann@acme.example,2020-01-01,,false
e2,Bob,web,bob,bob@acme.example,2020-01-01,,false
e3,Cy,web,cy,cy@acme.example,2024-01-01,2025-04-30,false
e4,Dee,web,dee,dee@acme.example,2024-01-01,,true
`

const metricsFixtureAffiliations = `[{"login": "x1", "affiliation": "Google"}, {"login": "x2", "affiliation": "Google"},
 {"login": "outsider1", "affiliation": "Initech"}]`

// metricsFixture returns the fixture's store, with merges stopped so that duplicates remain.
func metricsFixture(t *testing.T) *store.Store {
	t.Helper()
	st := testkit.Store(t)
	ctx := context.Background()
	for _, table := range []string{"contributions", "project_activity"} {
		if err := st.Conn().Exec(ctx, "SYSTEM STOP MERGES "+table); err != nil {
			t.Logf("cannot stop merges of %s (duplicates may be merged away, weakening the test): %v", table, err)
		}
	}
	for _, b := range metricsFixtureBatches() {
		if err := st.InsertContributions(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.InsertProjectActivity(ctx, metricsFixtureActivity()); err != nil {
		t.Fatal(err)
	}
	// The same hour again: its rows replace, not add to, the first reading.
	if err := st.InsertProjectActivity(ctx, metricsFixtureActivity()[:1]); err != nil {
		t.Fatal(err)
	}
	ds := []deps.Dependency{{Repo: "left/pad", Criticality: 9}, {Repo: "kubernetes/kubernetes", Criticality: 5},
		{Repo: "golang/go", Criticality: 3}, {Repo: "dead/lib", Criticality: 2}, {Repo: "busy/lib", Criticality: 1}}
	for i := range ds {
		ds[i].Services = []string{"svc"}
	}
	if err := st.ReplaceDependencies(ctx, "import-1", 1, ds, nil); err != nil {
		t.Fatal(err)
	}
	res, err := st.Query(ctx, "SELECT count(), uniqExact(id) FROM contributions", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rows, ids := store.AsInt(res.Rows[0][0]), store.AsInt(res.Rows[0][1]); rows <= ids {
		t.Fatalf("fixture: %d rows for %d ids; the duplicates the test relies on are gone", rows, ids)
	}
	return st
}

func metricsServer(t *testing.T) (*httptest.Server, *store.Store) {
	t.Helper()
	st := metricsFixture(t)
	ro, err := roster.Parse(strings.NewReader(metricsFixtureRoster))
	if err != nil {
		t.Fatal(err)
	}
	af, err := report.ParseAffiliations(strings.NewReader(metricsFixtureAffiliations), "affiliations.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, report.Options{Store: st, Company: "Acme Corp", Affiliations: af,
		Roster: func() *roster.Roster { return ro }, Now: func() time.Time { return day("2025-03-31 12:00") }})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, st
}

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }

// TestMetricsFixture checks every metric of the API against the values worked out by hand from
// the fixture.
func TestMetricsFixture(t *testing.T) {
	ts, _ := metricsServer(t)
	zeros := make([]int64, 12)
	periodAll := metrics.Period{From: "2025-01-01", To: "2025-03-31", Upstream: "all"}
	periodUp := metrics.Period{From: "2025-01-01", To: "2025-03-31", Upstream: "1"}

	check := func(t *testing.T, path string, q url.Values, got, want any) {
		t.Helper()
		if code := get(t, ts, path, q, got); code != http.StatusOK {
			t.Fatalf("GET %s?%s: %d", path, q.Encode(), code)
		}
		if g := reflect.ValueOf(got).Elem().Interface(); !reflect.DeepEqual(g, want) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(want)
			t.Errorf("GET %s?%s:\n got %s\nwant %s", path, q.Encode(), gj, wj)
		}
	}

	t.Run("summary", func(t *testing.T) {
		// 14 contributions of employees in Q1 (all but 3, 18, 19 and the outsiders'), 10 upstream
		// (1, 2, 4-10, 20) in k/k, golang/go, nodejs/node, k/website of 3 owners; PRs opened 1, 2, 12;
		// decided 1, 2, 3, 12, of which merged 1, 3, 12; personal 13, fork 14.
		check(t, "/api/v1/metrics/summary", q1, &metrics.Summary{}, metrics.Summary{Filter: periodAll,
			Contributions: 14, UpstreamContributions: 10, ActiveContributors: 3, UpstreamRepos: 4, UpstreamOrgs: 3,
			PRsOpened: 3, PRsMerged: 3, PRsClosed: 4, PRsDeclined: 1, AcceptanceRatio: fp(0.75),
			PersonalContributions: 1, ForkContributions: 1})
		// core is ann alone: 1, 6, 9, 11, 13, 14; bob's rows are web now.
		check(t, "/api/v1/metrics/summary", with(q1, "team", "core"), &metrics.Summary{}, metrics.Summary{
			Filter:        metrics.Period{From: "2025-01-01", To: "2025-03-31", Team: "core", Upstream: "all"},
			Contributions: 6, UpstreamContributions: 3, ActiveContributors: 1, UpstreamRepos: 3, UpstreamOrgs: 3,
			PRsOpened: 1, PRsMerged: 2, PRsClosed: 2, AcceptanceRatio: fp(1), PersonalContributions: 1, ForkContributions: 1})
	})

	t.Run("contributions", func(t *testing.T) {
		kinds := func(kv ...any) map[string]int64 {
			m := map[string]int64{}
			for _, k := range events.Kinds {
				m[k] = 0
			}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = int64(kv[i+1].(int))
			}
			return m
		}
		check(t, "/api/v1/metrics/contributions", q1, &metrics.Contributions{}, metrics.Contributions{Filter: periodAll, Kinds: events.Kinds, Total: 14,
			Months: []metrics.KindMonth{
				{Month: "2025-01", Total: 5, ByKind: kinds("pull_request", 2, "review", 1, "commit", 2)},              // 1, 2, 20, 11, 13
				{Month: "2025-02", Total: 5, ByKind: kinds("pull_request", 1, "review", 2, "issue", 1, "comment", 1)}, // 12, 4, 6, 8, 9
				{Month: "2025-03", Total: 4, ByKind: kinds("merge", 1, "review", 1, "commit", 2)},                     // 5, 7, 10, 14
			}})
	})

	t.Run("contributors", func(t *testing.T) {
		check(t, "/api/v1/metrics/contributors", q1, &metrics.Contributors{}, metrics.Contributors{Filter: periodAll,
			Months: []metrics.ContributorMonth{{Month: "2025-01", Contributors: 2}, {Month: "2025-02", Contributors: 3}, {Month: "2025-03", Contributors: 3}}})
	})

	t.Run("repos", func(t *testing.T) {
		check(t, "/api/v1/metrics/repos", q1, &metrics.Repos{}, metrics.Repos{Filter: periodUp, Repos: 4, Orgs: 3, Top: []metrics.Repo{
			{Repo: "kubernetes/kubernetes", Contributions: 4, Contributors: 2}, // 1, 4, 5, 20
			{Repo: "golang/go", Contributions: 3, Contributors: 3},             // 2, 6, 7
			{Repo: "nodejs/node", Contributions: 2, Contributors: 2},           // 8, 9
			{Repo: "kubernetes/website", Contributions: 1, Contributors: 1},    // 10
		}})
	})

	t.Run("acceptance", func(t *testing.T) {
		check(t, "/api/v1/metrics/acceptance", q1, &metrics.Acceptance{}, metrics.Acceptance{Filter: periodAll, Closed: 4, Merged: 3, Declined: 1, Ratio: fp(0.75),
			Months: []metrics.AcceptanceMonth{
				{Month: "2025-01", Closed: 2, Merged: 1, Declined: 1, Ratio: fp(0.5)}, // 1 merged, 2 declined
				{Month: "2025-02", Closed: 2, Merged: 2, Ratio: fp(1)},                // 3, 12
				{Month: "2025-03"},
			}})
	})

	t.Run("responsiveness", func(t *testing.T) {
		// Upstream PRs opened in Q1: 1 (answered by bob's review 20 after 24 h, merged after 48 h) and 2.
		jan := metrics.ResponsivenessMonth{Month: "2025-01", Opened: 2, Answered: 1, MedianHours: fp(24), Merged: 1, MedianMerge: fp(48)}
		total := jan
		total.Month = ""
		check(t, "/api/v1/metrics/responsiveness", q1, &metrics.Responsiveness{}, metrics.Responsiveness{Filter: periodUp, ResponsivenessMonth: total,
			Months: []metrics.ResponsivenessMonth{jan, {Month: "2025-02"}, {Month: "2025-03"}}})
	})

	t.Run("cycle", func(t *testing.T) {
		// Covered: k/k (1 merged Jan 12) and golang/go (3 merged Feb 1): 2 of 5, weight 8 of 20.
		check(t, "/api/v1/metrics/cycle", q1, &metrics.Cycle{}, metrics.Cycle{Filter: periodAll, Dependencies: 5, Contributed: 2, Covered: 2,
			Coverage: fp(0.4), WeightedCoverage: fp(0.4), Repos: []metrics.CycleRepo{
				{Repo: "left/pad", Criticality: 9},
				{Repo: "kubernetes/kubernetes", Criticality: 5, Contributions: 4, MergedPRs: 1, Contributors: 2, MergedLastYear: 1},
				{Repo: "golang/go", Criticality: 3, Contributions: 3, Contributors: 3, MergedLastYear: 1},
				{Repo: "dead/lib", Criticality: 2},
				{Repo: "busy/lib", Criticality: 1},
			}})
	})

	t.Run("community", func(t *testing.T) {
		check(t, "/api/v1/metrics/community", q1, &metrics.Community{}, metrics.Community{Filter: periodAll, Contributors: 2, Contributions: 2,
			New: 1, Returning: 1, Organizations: []metrics.CommunityOrg{{Name: "Initech", Contributors: 1, Contributions: 1}}, Unaffiliated: 1,
			Months: []metrics.CommunityMonth{{Month: "2025-01"}, {Month: "2025-02", Contributors: 1, Contributions: 1}, {Month: "2025-03", Contributors: 1, New: 1, Contributions: 1}}})
	})

	t.Run("teams", func(t *testing.T) {
		// All time: core is ann's 8 rows (1, 3, 6, 9, 11, 13, 14, 19); web is bob's 6 and cy's 3.
		var got struct{ Teams []metrics.Team }
		check(t, "/api/v1/teams", nil, &got, struct{ Teams []metrics.Team }{[]metrics.Team{{Team: "core", Contributions: 8}, {Team: "web", Contributions: 9}}})
	})

	t.Run("influence", func(t *testing.T) {
		// k/k in Q1: 75 events (the hour read twice counts once); ann and bob 20 of them; Google
		// (x1, x2) 50 of 75: Elephant Factor 1.
		var got report.Influence
		if code := get(t, ts, "/api/v1/metrics/influence", with(q1, "repo", "kubernetes/kubernetes"), &got); code != http.StatusOK {
			t.Fatalf("influence: %d", code)
		}
		if got.Events != 75 || got.Actors != 5 || got.Company.Events != 20 || got.Company.Actors != 2 || got.ElephantFactor != 1 ||
			got.UnaffiliatedEvents != 5 || len(got.Organizations) != 3 || got.Organizations[0].Name != "Google" || got.Organizations[0].Events != 50 {
			t.Errorf("influence %+v", got)
		}
	})

	t.Run("newcomers", func(t *testing.T) {
		// Active upstream: ann (first 2024-12-20), bob (first 2024-06-01), cy (first 2025-02-14: new).
		check(t, "/api/v1/metrics/newcomers", q1, &metrics.Newcomers{}, metrics.Newcomers{Filter: periodUp, New: 1, Returning: 2,
			Months: []metrics.NewcomerMonth{{Month: "2025-01", Returning: 2}, {Month: "2025-02", New: 1, Returning: 2}, {Month: "2025-03", Returning: 2}}})
		check(t, "/api/v1/metrics/newcomers", with(q1, "team", "web"), &metrics.Newcomers{}, metrics.Newcomers{
			Filter: metrics.Period{From: "2025-01-01", To: "2025-03-31", Team: "web", Upstream: "1"}, New: 1, Returning: 1,
			Months: []metrics.NewcomerMonth{{Month: "2025-01", Returning: 1}, {Month: "2025-02", New: 1, Returning: 1}, {Month: "2025-03", Returning: 2}}})
	})

	t.Run("reach", func(t *testing.T) {
		check(t, "/api/v1/metrics/reach", q1, &metrics.Reach{}, metrics.Reach{Filter: periodUp, Orgs: 3, Foundations: 2,
			TopOrgs: []metrics.OrgReach{
				{Org: "kubernetes", Foundation: "CNCF", Contributions: 5, Repos: 2},
				{Org: "golang", Contributions: 3, Repos: 1},
				{Org: "nodejs", Foundation: "OpenJS Foundation", Contributions: 2, Repos: 1},
			},
			ByFoundation: []metrics.FoundationReach{{Foundation: "CNCF", Contributions: 5, Repos: 2}, {Foundation: "OpenJS Foundation", Contributions: 2, Repos: 1}}})
	})

	t.Run("seats", func(t *testing.T) {
		bob := metrics.Seat{Repo: "kubernetes/kubernetes", EmployeeID: "e2", Login: "bob", Team: "web", Approvals: 1, Merges: 1, Last: "2025-03-05"}
		cy := metrics.Seat{Repo: "golang/go", EmployeeID: "e3", Login: "cy", Team: "web", Approvals: 1, Last: "2025-03-10"}
		check(t, "/api/v1/metrics/seats", q1, &metrics.Seats{}, metrics.Seats{Filter: periodUp, Total: 2, Rows: []metrics.Seat{bob, cy}})
		check(t, "/api/v1/metrics/seats", with(q1, "repo", "Golang/Go"), &metrics.Seats{}, metrics.Seats{
			Filter: metrics.Period{From: "2025-01-01", To: "2025-03-31", Upstream: "1", Repo: "Golang/Go"}, Total: 1, Rows: []metrics.Seat{cy}})
		// cy leaves on 2025-04-30: her seat is at risk.
		check(t, "/api/v1/metrics/departures", q1, &report.Departures{}, report.Departures{Filter: periodUp, Total: 1,
			Rows: []report.Departure{{Seat: cy, Name: "Cy", End: "2025-04-30"}}})
	})

	t.Run("projects", func(t *testing.T) {
		kk := append([]int64(nil), zeros...)
		kk[6], kk[10] = 40, 75 // October 2024, February 2025 (months April 2024 … March 2025)
		gg := append([]int64(nil), zeros...)
		gg[10] = 20
		check(t, "/api/v1/metrics/projects", q1, &metrics.Projects{}, metrics.Projects{Filter: periodUp, Total: 4, Rows: []metrics.Project{
			{Repo: "kubernetes/kubernetes", IsDependency: true, Criticality: 5, Contributions: 4, PRsMerged: 1, PRsClosed: 1,
				Acceptance: fp(1), MedianMergeHours: fp(48), Share: fp(20.0 / 75), ElephantFactor: ip(1), Seats: 1, Trend: kk, LastActivity: "2025-03-05"},
			{Repo: "golang/go", IsDependency: true, Criticality: 3, Contributions: 3, PRsMerged: 1, PRsClosed: 2,
				Acceptance: fp(0.5), MedianMergeHours: fp(1032), Share: fp(0.25), ElephantFactor: ip(2), Seats: 1, Trend: gg, LastActivity: "2025-03-10"},
			{Repo: "nodejs/node", Contributions: 2, Trend: zeros, LastActivity: "2025-02-15"},
			{Repo: "kubernetes/website", Contributions: 1, Trend: zeros, LastActivity: "2025-03-10"},
		}})
	})

	t.Run("risks", func(t *testing.T) {
		// left/pad: one actor (EF 1), 10 events in Jan–Mar against 30 in Oct–Dec (-2/3), no
		// merge or release while the totals cover the 180 days; dead/lib: nothing for 180 days;
		// busy/lib: EF 2, steady, released on March 1. k/k and golang/go have contributors.
		check(t, "/api/v1/metrics/risks", q1, &metrics.Risks{}, metrics.Risks{Filter: periodAll, Total: 2, Rows: []metrics.Risk{
			{Repo: "left/pad", Criticality: 9, Reasons: []string{metrics.RiskElephant, metrics.RiskFalling, metrics.RiskStale},
				ElephantFactor: ip(1), TrendChange: fp(-20.0 / 30)},
			{Repo: "dead/lib", Criticality: 2, Reasons: []string{metrics.RiskStale}},
		}})
	})

	t.Run("people", func(t *testing.T) {
		check(t, "/api/v1/people", q1, &metrics.People{}, metrics.People{Filter: periodUp, Total: 3, Rows: []metrics.Person{
			{EmployeeID: "e2", Login: "bob", Team: "web", Contributions: 4, Repos: 2, First: "2024-06-01", Last: "2025-03-05"},
			{EmployeeID: "e1", Login: "ann", Team: "core", Contributions: 3, PRsMerged: 2, Repos: 3, First: "2024-12-20", Last: "2025-02-15"},
			{EmployeeID: "e3", Login: "cy", Team: "web", Contributions: 3, Repos: 3, First: "2025-02-14", Last: "2025-03-10"},
		}})
	})
}

// TestMetricsBadFilter checks that a malformed filter, an unknown team and an unknown project get
// a 400 naming the parameter.
func TestMetricsBadFilter(t *testing.T) {
	ts, _ := metricsServer(t)
	for _, tc := range []struct {
		path  string
		q     url.Values
		param string
	}{
		{"/api/v1/metrics/newcomers", with(q1, "from", "2025-13-01"), "from"},
		{"/api/v1/metrics/reach", with(q1, "team", "nope"), "team"},
		{"/api/v1/metrics/reach", with(q1, "upstream", "0"), "upstream"},
		{"/api/v1/metrics/projects", with(q1, "repo", "no/such"), "repo"},
		{"/api/v1/metrics/projects", with(q1, "repo", "not-a-repo"), "repo"},
		{"/api/v1/metrics/seats", with(q1, "team", "Core"), "team"},
		{"/api/v1/metrics/seats", with(q1, "repo", "a/b/c"), "repo"},
		{"/api/v1/metrics/risks", with(q1, "repo", "golang/go"), "repo"}, // risks take no repo
		{"/api/v1/metrics/risks", with(q1, "limit", "0"), "limit"},
		{"/api/v1/metrics/departures", with(q1, "to", "2024-12-31"), "to"},
		{"/api/v1/people", with(q1, "tema", "web"), "tema"},
	} {
		var body struct{ Error, Param string }
		if code := get(t, ts, tc.path, tc.q, &body); code != http.StatusBadRequest || body.Param != tc.param || body.Error == "" {
			t.Errorf("GET %s?%s: %d %+v, want 400 naming %s", tc.path, tc.q.Encode(), code, body, tc.param)
		}
	}
}

// TestPeopleNeverOptedOut checks that /api/v1/people never lists someone the roster says opted
// out, even when rows of theirs are still stored (the opt-out arrives with a roster load, which
// deletes them in the background), and that it does list them without that roster.
func TestPeopleNeverOptedOut(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	var cs []events.Contribution
	for i, emp := range []string{"e1", "e4", "e4"} {
		cs = append(cs, events.Contribution{Schema: events.SchemaContribution, ID: fmt.Sprintf("commit:golang/go@%d", i), Kind: events.KindCommit,
			OccurredAt: day("2025-02-10 10:00"), ActorLogin: map[string]string{"e1": "ann", "e4": "dee"}[emp], EmployeeID: emp, Team: "web",
			Repo: "golang/go", RepoOwner: "golang", IsUpstream: true, Destination: "upstream", Source: events.SourceGHArchive, Version: 1})
	}
	if err := st.InsertContributions(ctx, cs); err != nil {
		t.Fatal(err)
	}
	ro, err := roster.Parse(strings.NewReader(metricsFixtureRoster))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		roster *roster.Roster
		want   []string
	}{
		{"with the roster", ro, []string{"e1"}},
		{"without a roster", nil, []string{"e4", "e1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, report.Options{Store: st, Roster: func() *roster.Roster { return tc.roster },
				Now: func() time.Time { return day("2025-03-31 12:00") }})
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			var got metrics.People
			if code := get(t, ts, "/api/v1/people", q1, &got); code != http.StatusOK {
				t.Fatalf("people: %d", code)
			}
			var ids []string
			for _, p := range got.Rows {
				ids = append(ids, p.EmployeeID)
			}
			if !reflect.DeepEqual(ids, tc.want) || got.Total != int64(len(tc.want)) {
				t.Errorf("people %v (total %d), want %v", ids, got.Total, tc.want)
			}
		})
	}
}
