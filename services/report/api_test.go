package report_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"giveback.dev/platform/config"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
	"giveback.dev/services/report/metrics"
)

func ptr(f float64) *float64 { return &f }

func TestSummary(t *testing.T) {
	ts, _ := server(t, config.Query{})
	period := func(team, upstream string) metrics.Period {
		return metrics.Period{From: "2025-01-01", To: "2025-03-31", Team: team, Upstream: upstream}
	}
	tests := []struct {
		name string
		q    url.Values
		want metrics.Summary
	}{
		{"quarter", quarter, metrics.Summary{Filter: period("", "all"), Contributions: 10, UpstreamContributions: 9,
			ActiveContributors: 3, UpstreamRepos: 4, UpstreamOrgs: 3, PRsOpened: 5, PRsMerged: 3, PRsClosed: 4, PRsDeclined: 1,
			AcceptanceRatio: ptr(0.75)}},
		{"upstream only", with(quarter, "upstream", "1"), metrics.Summary{Filter: period("", "1"), Contributions: 9,
			UpstreamContributions: 9, ActiveContributors: 3, UpstreamRepos: 4, UpstreamOrgs: 3, PRsOpened: 4, PRsMerged: 2,
			PRsClosed: 3, PRsDeclined: 1, AcceptanceRatio: ptr(2.0 / 3)}},
		{"internal only", with(quarter, "upstream", "0"), metrics.Summary{Filter: period("", "0"), Contributions: 1,
			ActiveContributors: 1, PRsOpened: 1, PRsMerged: 1, PRsClosed: 1, AcceptanceRatio: ptr(1)}},
		// Comment #10 moved from core to web: it counts for web only.
		{"team core", with(quarter, "team", "core"), metrics.Summary{Filter: period("core", "all"), Contributions: 6,
			UpstreamContributions: 5, ActiveContributors: 2, UpstreamRepos: 3, UpstreamOrgs: 3, PRsOpened: 4, PRsMerged: 3,
			PRsClosed: 4, PRsDeclined: 1, AcceptanceRatio: ptr(0.75)}},
		{"team web", with(quarter, "team", "web"), metrics.Summary{Filter: period("web", "all"), Contributions: 4,
			UpstreamContributions: 4, ActiveContributors: 2, UpstreamRepos: 3, UpstreamOrgs: 3, PRsOpened: 1}},
		{"one day, inclusive", url.Values{"from": {"2025-01-10"}, "to": {"2025-01-10"}}, metrics.Summary{
			Filter: metrics.Period{From: "2025-01-10", To: "2025-01-10", Upstream: "all"}, Contributions: 1,
			UpstreamContributions: 1, ActiveContributors: 1, UpstreamRepos: 1, UpstreamOrgs: 1, PRsOpened: 1}},
		{"quoted team is a literal", with(quarter, "team", "core' OR 1=1 --"), metrics.Summary{
			Filter: period("core' OR 1=1 --", "all")}},
		{"default period is the last twelve months", nil, metrics.Summary{
			Filter: metrics.Period{From: "2024-04-01", To: "2025-03-31", Upstream: "all"}, Contributions: 12,
			UpstreamContributions: 11, ActiveContributors: 3, UpstreamRepos: 4, UpstreamOrgs: 3, PRsOpened: 6, PRsMerged: 3,
			PRsClosed: 4, PRsDeclined: 1, AcceptanceRatio: ptr(0.75)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got metrics.Summary
			if status := get(t, ts, "/api/v1/metrics/summary", tt.q, &got); status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("summary\n got %+v ratio %v\nwant %+v ratio %v", got, deref(got.AcceptanceRatio), tt.want, deref(tt.want.AcceptanceRatio))
			}
		})
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func TestContributionsByKindAndMonth(t *testing.T) {
	ts, _ := server(t, config.Query{})
	var got metrics.Contributions
	if status := get(t, ts, "/api/v1/metrics/contributions", quarter, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if want := []string{"pull_request", "review", "merge", "issue", "comment", "commit", "release"}; !reflect.DeepEqual(got.Kinds, want) {
		t.Fatalf("kinds %v, want %v", got.Kinds, want)
	}
	kinds := func(pr, review, issue, comment, commit int64) map[string]int64 {
		return map[string]int64{"pull_request": pr, "review": review, "merge": 0, "issue": issue, "comment": comment, "commit": commit, "release": 0}
	}
	want := []metrics.KindMonth{
		{Month: "2025-01", Total: 3, ByKind: kinds(2, 1, 0, 0, 0)},
		{Month: "2025-02", Total: 3, ByKind: kinds(1, 0, 1, 1, 0)},
		{Month: "2025-03", Total: 4, ByKind: kinds(2, 0, 0, 1, 1)},
	}
	if got.Total != 10 || !reflect.DeepEqual(got.Months, want) {
		t.Fatalf("got total %d months %+v\nwant 10 %+v", got.Total, got.Months, want)
	}

	// A period longer than the data lists its empty months too.
	if status := get(t, ts, "/api/v1/metrics/contributions", url.Values{"from": {"2024-11-15"}, "to": {"2025-05-01"}}, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	var months []string
	for _, m := range got.Months {
		months = append(months, m.Month)
	}
	if want := "2024-11 2024-12 2025-01 2025-02 2025-03 2025-04 2025-05"; strings.Join(months, " ") != want || got.Total != 13 {
		t.Fatalf("months %v total %d, want %s and 14", months, got.Total, want)
	}
}

func TestContributors(t *testing.T) {
	ts, _ := server(t, config.Query{})
	tests := []struct {
		q    url.Values
		want []int64
	}{
		{quarter, []int64{2, 2, 3}},
		{with(quarter, "team", "web"), []int64{0, 1, 2}}, // e3 in Feb; e3 and the re-attributed e2 in Mar
		{with(quarter, "team", "core"), []int64{2, 1, 1}},
	}
	for _, tt := range tests {
		var got metrics.Contributors
		if status := get(t, ts, "/api/v1/metrics/contributors", tt.q, &got); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		var counts []int64
		for _, m := range got.Months {
			counts = append(counts, m.Contributors)
		}
		if !reflect.DeepEqual(counts, tt.want) {
			t.Errorf("%v: contributors per month %v, want %v", tt.q, counts, tt.want)
		}
	}
}

func TestRepos(t *testing.T) {
	ts, _ := server(t, config.Query{})
	var got metrics.Repos
	if status := get(t, ts, "/api/v1/metrics/repos", quarter, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	want := metrics.Repos{
		Filter: metrics.Period{From: "2025-01-01", To: "2025-03-31", Upstream: "1"}, Repos: 4, Orgs: 3,
		Top: []metrics.Repo{
			{Repo: "golang/go", Contributions: 4, Contributors: 3},
			{Repo: "kubernetes/kubernetes", Contributions: 2, Contributors: 2},
			{Repo: "nodejs/node", Contributions: 2, Contributors: 2},
			{Repo: "kubernetes/website", Contributions: 1, Contributors: 1},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("repos\n got %+v\nwant %+v", got, want)
	}
	if status := get(t, ts, "/api/v1/metrics/repos", with(quarter, "upstream", "all", "limit", "2"), &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if got.Repos != 5 || got.Orgs != 4 || len(got.Top) != 2 || got.Top[1].Repo != "kubernetes/kubernetes" {
		t.Fatalf("all repositories, limit 2: %+v", got)
	}
}

func TestAcceptance(t *testing.T) {
	ts, _ := server(t, config.Query{})
	var got metrics.Acceptance
	if status := get(t, ts, "/api/v1/metrics/acceptance", quarter, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	want := metrics.Acceptance{
		Filter: metrics.Period{From: "2025-01-01", To: "2025-03-31", Upstream: "all"},
		Closed: 4, Merged: 3, Declined: 1, Ratio: ptr(0.75),
		Months: []metrics.AcceptanceMonth{
			{Month: "2025-01", Closed: 2, Merged: 1, Declined: 1, Ratio: ptr(0.5)},
			{Month: "2025-02", Closed: 2, Merged: 2, Ratio: ptr(1)},
			{Month: "2025-03"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("acceptance\n got %+v\nwant %+v", got, want)
	}
}

func TestTeams(t *testing.T) {
	ts, _ := server(t, config.Query{})
	var got struct{ Teams []metrics.Team }
	if status := get(t, ts, "/api/v1/teams", nil, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	want := []metrics.Team{{Team: "core", Contributions: 9}, {Team: "web", Contributions: 4}}
	if !reflect.DeepEqual(got.Teams, want) {
		t.Fatalf("teams %+v, want %+v", got.Teams, want)
	}
}

func TestBadParameters(t *testing.T) {
	ts, _ := server(t, config.Query{})
	tests := []struct {
		path  string
		q     string
		param string
	}{
		{"/api/v1/metrics/summary", "from=2025-13-01", "from"},
		{"/api/v1/metrics/summary", "from=yesterday", "from"},
		{"/api/v1/metrics/summary", "to=2025-02-30", "to"},
		{"/api/v1/metrics/summary", "from=2025-03-01&to=2025-02-01", "to"},
		{"/api/v1/metrics/summary", "from=1990-01-01&to=2025-01-01", "from"},
		{"/api/v1/metrics/contributions", "upstream=maybe", "upstream"},
		{"/api/v1/metrics/contributors", "team=a%00b", "team"},
		{"/api/v1/metrics/contributors", "team=" + strings.Repeat("x", 300), "team"},
		{"/api/v1/metrics/acceptance", "tema=core", "tema"},
		{"/api/v1/metrics/acceptance", "from=2025-01-01&from=2025-02-01", "from"},
		{"/api/v1/metrics/summary", "limit=3", "limit"},
		{"/api/v1/metrics/repos", "limit=0", "limit"},
		{"/api/v1/metrics/repos", "limit=ten", "limit"},
		{"/api/v1/teams", "team=core", "team"},
	}
	for _, tt := range tests {
		t.Run(tt.path+"?"+tt.q, func(t *testing.T) {
			q, err := url.ParseQuery(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got struct{ Error, Param string }
			if status := get(t, ts, tt.path, q, &got); status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", status)
			}
			if got.Param != tt.param || !strings.HasPrefix(got.Error, tt.param+": ") {
				t.Fatalf("error %q param %q, want one naming %s", got.Error, got.Param, tt.param)
			}
		})
	}
	var got struct{ Error string }
	if status := get(t, ts, "/api/v1/nothing", nil, &got); status != http.StatusNotFound || got.Error == "" {
		t.Fatalf("unknown endpoint: %d %q", status, got.Error)
	}
}

func TestReady(t *testing.T) {
	srv := newServer(t, report.Options{Store: testkit.Store(t)})
	if err := srv.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
}
