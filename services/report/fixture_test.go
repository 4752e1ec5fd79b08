package report_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
)

// The fixture: a first quarter of 2025 (2025-01-01 … 2025-03-31) of contributions by three
// employees (e1, e2, e3) in two teams, with every complication the readers must survive:
//
//   - PR #1 inserted open, then merged (newer version), then the open version again; PR #2's
//     closed version arrives before its open one; exact repeats of PR #4 and review #6;
//   - PR #5 opened in December 2024 and merged in January (decided in the period, not opened);
//   - PR #13 opened in March and merged in April (opened in the period, not decided);
//   - comment #10 re-attributed from team core to team web by a newer version;
//   - comment #11 by a non-employee (no employee_id, no team): stored, never counted;
//   - PR #3 to an internal repository; commits #12 outside the period.
//
// Each batch is a separate INSERT and merges are stopped, so the duplicates stay in the table
// as separate rows: the expected figures below hold only if every reader deduplicates.
//
// Expected for the quarter, all teams, all repositories:
//
//	contributions 11 (upstream 10), active contributors 3, upstream repos 4 in 3 orgs,
//	PRs opened 5, decided 4 (#1 Feb, #2 Jan declined, #3 Feb, #5 Jan), merged 3, ratio 0.75
//	by month: Jan PR 2 review 1; Feb PR 1 issue 1 comment 1; Mar PR 2 commit 1 comment 2
//	contributors: Jan 2, Feb 2, Mar 3
//	acceptance: Jan 2 closed 1 merged; Feb 2 closed 2 merged; Mar none
var (
	quarter = url.Values{"from": {"2025-01-01"}, "to": {"2025-03-31"}}
	day     = func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			panic(err)
		}
		return t.UTC()
	}
	at = func(s string) *time.Time { t := day(s); return &t }
)

func contribution(id, kind, occurred, emp, team, repo string, upstream bool) events.Contribution {
	owner, _, _ := strings.Cut(repo, "/")
	return events.Contribution{
		Schema: events.SchemaContribution, ID: id, Kind: kind, OccurredAt: day(occurred), ActorLogin: "login-" + emp,
		EmployeeID: emp, Team: team, Repo: repo, RepoOwner: owner, IsUpstream: upstream,
		Title: "title of " + id, Source: events.SourceGHArchive, Version: 1,
	}
}

func fixtureBatches() [][]events.Contribution {
	pr := func(id, occurred, emp, team, repo string, upstream bool) events.Contribution {
		c := contribution(id, events.KindPullRequest, occurred, emp, team, repo, upstream)
		c.State = "open"
		return c
	}
	merged := func(c events.Contribution, when string, version uint64) events.Contribution {
		c.State, c.Merged, c.MergedAt, c.ClosedAt, c.Version = "closed", true, at(when), at(when), version
		return c
	}
	declined := func(c events.Contribution, when string, version uint64) events.Contribution {
		c.State, c.ClosedAt, c.Version = "closed", at(when), version
		return c
	}
	pr1 := pr("pr:kubernetes/kubernetes#1", "2025-01-10 09:00", "e1", "core", "kubernetes/kubernetes", true)
	pr2 := pr("pr:golang/go#2", "2025-01-20 12:00", "e2", "core", "golang/go", true)
	pr3 := pr("pr:acme/internal#3", "2025-02-03 08:00", "e1", "core", "acme/internal", false)
	pr4 := pr("pr:golang/go#4", "2025-03-01 00:00", "e3", "web", "golang/go", true)
	pr5 := pr("pr:kubernetes/kubernetes#5", "2024-12-20 10:00", "e2", "core", "kubernetes/kubernetes", true)
	pr13 := pr("pr:golang/go#13", "2025-03-25 10:00", "e1", "core", "golang/go", true)
	review := contribution("review:kubernetes/kubernetes#1/r1", events.KindReview, "2025-01-12 10:00", "e2", "core", "kubernetes/kubernetes", true)
	issue := contribution("issue:nodejs/node#7", events.KindIssue, "2025-02-14 10:00", "e3", "web", "nodejs/node", true)
	issue.State = "open"
	comment8 := contribution("comment:nodejs/node#7/c1", events.KindComment, "2025-02-15 10:00", "e1", "core", "nodejs/node", true)
	commit9 := contribution("commit:kubernetes/website@abc", events.KindCommit, "2025-03-10 10:00", "e3", "web", "kubernetes/website", true)
	comment10 := contribution("comment:golang/go#2/c9", events.KindComment, "2025-03-12 10:00", "e2", "core", "golang/go", true)
	comment10web := comment10
	comment10web.Team, comment10web.Version = "web", 2
	comment11 := contribution("comment:nodejs/node#7/c2", events.KindComment, "2025-03-20 10:00", "", "", "nodejs/node", true)
	commitApr := contribution("commit:golang/go@def", events.KindCommit, "2025-04-02 10:00", "e1", "core", "golang/go", true)
	commitNov := contribution("commit:golang/go@0a1", events.KindCommit, "2024-11-30 23:59", "e1", "core", "golang/go", true)

	return [][]events.Contribution{
		{pr1, pr4, review, issue, comment8, commit9, comment10, comment11, commitApr, commitNov, pr3, pr5, pr13},
		{merged(pr1, "2025-02-05 10:00", 2), declined(pr2, "2025-01-25 10:00", 2), pr4, review},
		{pr1, pr2, merged(pr3, "2025-02-10 10:00", 2), comment10web, merged(pr5, "2025-01-05 10:00", 3)},
		{merged(pr13, "2025-04-03 10:00", 2), review, comment10},
	}
}

// fixture returns a store holding the fixture, with merges stopped so that duplicates remain.
func fixture(t *testing.T) *store.Store {
	t.Helper()
	st := testkit.Store(t)
	ctx := context.Background()
	if err := st.Conn().Exec(ctx, "SYSTEM STOP MERGES contributions"); err != nil {
		t.Logf("cannot stop merges (duplicates may be merged away, weakening the test): %v", err)
	}
	for _, b := range fixtureBatches() {
		if err := st.InsertContributions(ctx, b); err != nil {
			t.Fatal(err)
		}
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

// server returns the report Handler on the fixture behind an httptest server.
func server(t *testing.T, q config.Query) (*httptest.Server, *store.Store) {
	t.Helper()
	st := fixture(t)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := newServer(t, report.Options{Store: st, Company: "Acme Corp", Query: q,
		Now: func() time.Time { return day("2025-03-31 12:00") }, Log: log})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, st
}

// get fetches path?query and decodes the JSON answer into out; it returns the status.
func get(t *testing.T, ts *httptest.Server, path string, q url.Values, out any) int {
	t.Helper()
	u := ts.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("GET %s: Content-Type %q, body %s", u, ct, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v in %s", u, err, body)
	}
	return resp.StatusCode
}

func with(base url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range base {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}
