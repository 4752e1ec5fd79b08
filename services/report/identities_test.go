package report_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/services/report"
)

func TestUnmatchedIdentities(t *testing.T) {
	ts, st := server(t, config.Query{})
	at := func(s string) time.Time { return day(s) }
	u := func(identity, kind, reason, repo, when, id string) events.Unmatched {
		return events.Unmatched{Identity: identity, Kind: kind, Reason: reason, Repo: repo, At: at(when), ContributionID: id}
	}
	// acme/tool and acme/web are private repositories of the company (contributions to them go
	// to the internal destination), acme/public is its open source: outsider, who acts only
	// there, is community inflow and not unmatched.
	var cs []events.Contribution
	for _, r := range []struct{ id, repo, dest string }{{"pr:acme/tool#8", "acme/tool", "internal"}, {"pr:acme/web#8", "Acme/Web", "internal"}, {"pr:acme/public#8", "acme/public", "company_oss"}} {
		c := contribution(r.id, events.KindPullRequest, "2025-01-05 10:00", "e1", "core", r.repo, false)
		c.Destination = r.dest
		cs = append(cs, c)
	}
	if err := st.InsertContributions(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertUnmatched(context.Background(), []events.Unmatched{
		u("outsider", events.IdentityLogin, events.UnmatchedCompanyOrg, "acme/public", "2025-01-12 10:00", "pr:acme/public#9"),
		u("zed", events.IdentityLogin, events.UnmatchedCompanyOrg, "acme/tool", "2025-01-10 10:00", "pr:acme/tool#1"),
		u("zed", events.IdentityLogin, events.UnmatchedCompanyOrg, "acme/tool", "2025-01-11 10:00", "pr:acme/tool#1"), // a later state: once
		u("zed", events.IdentityLogin, events.UnmatchedCompanyOrg, "acme/web", "2025-02-01 10:00", "issue:acme/web#2"),
		u("zed", events.IdentityLogin, events.UnmatchedCompanyOrg, "acme/web", "2025-02-02 10:00", "comment:acme/web/issue/3"),
		u("new@acme.com", events.IdentityEmail, events.UnmatchedCompanyEmail, "golang/go", "2025-03-05 09:00", "commit:golang/go@abc"),
	}); err != nil {
		t.Fatal(err)
	}
	var got struct{ Identities []report.Unmatched }
	if status := get(t, ts, "/api/v1/identities/unmatched", nil, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	want := []report.Unmatched{
		{Identity: "zed", Kind: "login", Reason: "company_org", Repos: []string{"acme/tool", "acme/web"}, FirstSeen: "2025-01-10T10:00:00Z", LastSeen: "2025-02-02T10:00:00Z", Contributions: 3},
		{Identity: "new@acme.com", Kind: "email", Reason: "company_email", Repos: []string{"golang/go"}, FirstSeen: "2025-03-05T09:00:00Z", LastSeen: "2025-03-05T09:00:00Z", Contributions: 1},
	}
	if !reflect.DeepEqual(got.Identities, want) {
		t.Fatalf("got %+v\nwant %+v", got.Identities, want)
	}
	if get(t, ts, "/api/v1/identities/unmatched", url.Values{"from": {"2025-03-01"}}, &got); len(got.Identities) != 1 || got.Identities[0].Identity != "new@acme.com" {
		t.Fatalf("from=2025-03-01: %+v", got.Identities)
	}
	if get(t, ts, "/api/v1/identities/unmatched", url.Values{"to": {"2025-01-10"}}, &got); len(got.Identities) != 1 || got.Identities[0].Identity != "zed" {
		t.Fatalf("to=2025-01-10: %+v", got.Identities)
	}
	// The page lists them with how to resolve them.
	resp, err := http.Get(ts.URL + "/identities")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: status %d, %v", resp.StatusCode, err)
	}
	if strings.Contains(string(body), `data-identity="outsider"`) {
		t.Error("the page lists an outside contributor to the company's open source")
	}
	for _, want := range []string{`data-identity="zed"`, `data-identity="new@acme.com"`, "active in a private company repository", "company e-mail domain",
		"acme/tool, acme/web", "2025-01-10 10:00", ">4</div>", "identities.aliases", `href="./"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	var bad struct{ Error, Param string }
	if status := get(t, ts, "/api/v1/identities/unmatched", url.Values{"from": {"2025-13-01"}}, &bad); status != http.StatusBadRequest || bad.Param != "from" {
		t.Fatalf("bad from: %d %+v", status, bad)
	}
}
