package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/services/report"
	"giveback.dev/services/report/reports"
)

// testReportEqualsAPI checks that every headline number, the first-timers, the risks, the teams
// and what came back equal what the JSON API answers for the same filter and period, the
// previous period included.
func testReportEqualsAPI(t *testing.T, st *store.Store) {
	def := definition()
	rep, err := reports.Build(context.Background(), st, def, october, generated)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := report.New(report.Options{Store: st, Company: "Acme Corp", Now: func() time.Time { return generated }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	api := func(path string, q url.Values) map[string]any {
		t.Helper()
		resp, err := http.Get(ts.URL + path + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s?%s: %d %v %v", path, q.Encode(), resp.StatusCode, err, out)
		}
		return out
	}
	n := rep.Numbers
	fig := map[string]reports.Figure{}
	for _, f := range n.Headline {
		fig[f.Key] = f
	}
	for _, p := range []struct {
		name     string
		from, to string
		value    func(reports.Figure) *float64
	}{
		{"period", n.Period.From, n.Period.To, func(f reports.Figure) *float64 { return f.Value }},
		{"previous", n.Previous.From, n.Previous.To, func(f reports.Figure) *float64 { return f.Previous }},
	} {
		q := url.Values{"from": {p.from}, "to": {p.to}, "upstream": {"1"}}
		sum := api("/api/v1/metrics/summary", q)
		resp := api("/api/v1/metrics/responsiveness", q)
		cyc := api("/api/v1/metrics/cycle", q)
		for key, got := range map[string]any{
			reports.TargetUpstreamContributions: sum["contributions"],
			reports.TargetUpstreamPRsMerged:     sum["prs_merged"],
			reports.TargetActiveContributors:    sum["active_contributors"],
			reports.TargetUpstreamProjects:      sum["upstream_repos"],
			reports.TargetAcceptanceRatio:       sum["acceptance_ratio"],
			reports.TargetFirstResponseHours:    resp["median_hours"],
			reports.TargetMergeHours:            resp["median_hours_to_merge"],
			reports.TargetGiveBackCoverage:      cyc["coverage"],
		} {
			if want := jsonNumber(got); want != str(p.value(fig[key])) {
				t.Errorf("%s %s: the report says %s, the API %s", p.name, key, str(p.value(fig[key])), want)
			}
		}
	}
	q := url.Values{"from": {n.Period.From}, "to": {n.Period.To}}
	if got := jsonNumber(api("/api/v1/metrics/newcomers", q)["new"]); got != fmt.Sprint(n.Highlights.FirstTimers) {
		t.Errorf("first-timers: the report says %d, the API %s", n.Highlights.FirstTimers, got)
	}
	com := api("/api/v1/metrics/community", q)
	if got := jsonNumber(com["contributors"]); got != fmt.Sprint(n.Cycle.CameBack.Contributors) {
		t.Errorf("outside contributors: the report says %d, the API %s", n.Cycle.CameBack.Contributors, got)
	}
	q.Set("upstream", "1")
	risks := api("/api/v1/metrics/risks", q)
	if got := jsonNumber(risks["total"]); got != fmt.Sprint(n.Risks.Total) || n.Risks.Total != int64(len(n.Risks.Rows)) {
		t.Errorf("risks: the report says %d, the API %s", n.Risks.Total, got)
	}
	for _, row := range n.Teams {
		tq := url.Values{"from": {n.Period.From}, "to": {n.Period.To}, "upstream": {"1"}, "team": {row.Team}}
		s := api("/api/v1/metrics/summary", tq)
		if jsonNumber(s["contributions"]) != fmt.Sprint(row.UpstreamContributions) || jsonNumber(s["prs_merged"]) != fmt.Sprint(row.PRsMerged) ||
			jsonNumber(s["active_contributors"]) != fmt.Sprint(row.Active) {
			t.Errorf("team %s: the report says %+v, the API %v", row.Team, row, s)
		}
		delete(tq, "upstream")
		if got := jsonNumber(api("/api/v1/metrics/newcomers", tq)["new"]); got != fmt.Sprint(*row.New) {
			t.Errorf("team %s new contributors: the report says %d, the API %s", row.Team, *row.New, got)
		}
	}
}

func jsonNumber(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case float64:
		return fmt.Sprint(x)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

func str(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}
