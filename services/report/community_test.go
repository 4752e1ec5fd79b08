package report_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
	"giveback.dev/services/report/metrics"
)

// TestCommunity checks the community inflow on a fixture whose figures are worked out by hand.
// The period is February and March 2025; acme/tool is the company's open source, acme/secret an
// internal repository, kubernetes/kubernetes upstream.
//
//   - alice (Initech): a comment in January, before the period (so she is returning), a PR in
//     February stored three times (twice open, then merged) and a comment in March made as ALICE;
//   - carol (independent): a commit in February, stored twice; new;
//   - erin (Initech): an upstream commit in January, which does not make her returning, and an
//     issue in February; new;
//   - bob (unaffiliated): an issue and a comment in March (new), and an upstream comment in
//     March, which does not count;
//   - not counted: e1, an employee, in acme/tool; dave in acme/secret; frank after the period;
//     gina, stored first without a roster row and then attributed to e7 by a newer version.
//
// Expected: 4 contributors, 6 contributions, 3 new, 1 returning; Initech 2 contributors with 3
// contributions, 1 independent, 1 unaffiliated; February 3 contributors (2 new) with 3
// contributions, March 2 contributors (1 new) with 3 contributions.
func TestCommunity(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	if err := st.Conn().Exec(ctx, "SYSTEM STOP MERGES contributions"); err != nil {
		t.Logf("cannot stop merges (duplicates may be merged away, weakening the test): %v", err)
	}
	c := func(id, kind, occurred, login, emp, repo, dest string) events.Contribution {
		owner, _, _ := strings.Cut(repo, "/")
		return events.Contribution{Schema: events.SchemaContribution, ID: id, Kind: kind, OccurredAt: day(occurred),
			ActorLogin: login, EmployeeID: emp, Repo: repo, RepoOwner: owner, IsUpstream: dest == "upstream",
			Destination: dest, Title: "title of " + id, Source: events.SourceGHArchive, Version: 1}
	}
	oss, upstream := "company_oss", "upstream"
	alicePR := c("pr:acme/tool#1", events.KindPullRequest, "2025-02-10 09:00", "alice", "", "acme/tool", oss)
	alicePR.State = "open"
	aliceMerged := alicePR
	aliceMerged.State, aliceMerged.Merged, aliceMerged.MergedAt, aliceMerged.ClosedAt, aliceMerged.Version = "closed", true, at("2025-02-12 10:00"), at("2025-02-12 10:00"), 2
	carol := c("commit:acme/tool@c1", events.KindCommit, "2025-02-02 10:00", "carol", "", "acme/tool", oss)
	gina := c("comment:acme/tool#1/g", events.KindComment, "2025-02-15 10:00", "gina", "", "acme/tool", oss)
	ginaAttributed := gina
	ginaAttributed.EmployeeID, ginaAttributed.Team, ginaAttributed.Version = "e7", "core", 2
	batches := [][]events.Contribution{
		{
			c("comment:acme/tool#0/a", events.KindComment, "2025-01-20 10:00", "alice", "", "acme/tool", oss),
			alicePR, carol, gina,
			c("comment:acme/tool#1/a", events.KindComment, "2025-03-05 10:00", "ALICE", "", "acme/tool", oss),
			c("commit:kubernetes/kubernetes@e1", events.KindCommit, "2025-01-05 10:00", "erin", "", "kubernetes/kubernetes", upstream),
			c("issue:acme/tool#2", events.KindIssue, "2025-02-20 10:00", "erin", "", "acme/tool", oss),
			c("issue:acme/tool#3", events.KindIssue, "2025-03-20 10:00", "bob", "", "acme/tool", oss),
			c("comment:acme/tool#3/b", events.KindComment, "2025-03-21 10:00", "bob", "", "acme/tool", oss),
			c("comment:kubernetes/kubernetes#9/b", events.KindComment, "2025-03-01 10:00", "bob", "", "kubernetes/kubernetes", upstream),
			c("pr:acme/tool#4", events.KindPullRequest, "2025-02-11 10:00", "login-e1", "e1", "acme/tool", oss),
			c("commit:acme/secret@d1", events.KindCommit, "2025-02-11 10:00", "dave", "", "acme/secret", "internal"),
			c("commit:acme/tool@f1", events.KindCommit, "2025-04-02 10:00", "frank", "", "acme/tool", oss),
		},
		{alicePR, carol},
		{aliceMerged, ginaAttributed},
	}
	for _, b := range batches {
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
	af, err := report.ParseAffiliations(strings.NewReader(`[{"login": "alice", "affiliation": "Initech"},
 {"login": "Erin", "affiliation": "Umbrella < 2025-01-01, Initech"}, {"login": "carol", "affiliation": "Self"}]`), "test")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, report.Options{Store: st, Affiliations: af, Now: func() time.Time { return day("2025-03-31 12:00") }})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	var got metrics.Community
	if status := get(t, ts, "/api/v1/metrics/community", url.Values{"from": {"2025-02-01"}, "to": {"2025-03-31"}}, &got); status != http.StatusOK {
		t.Fatalf("status %d: %+v", status, got)
	}
	want := metrics.Community{
		Filter:       metrics.Period{From: "2025-02-01", To: "2025-03-31", Upstream: "all"},
		Contributors: 4, Contributions: 6, New: 3, Returning: 1,
		Organizations: []metrics.CommunityOrg{{Name: "Initech", Contributors: 2, Contributions: 3}},
		Independent:   1, Unaffiliated: 1,
		Months: []metrics.CommunityMonth{
			{Month: "2025-02", Contributors: 3, New: 2, Contributions: 3},
			{Month: "2025-03", Contributors: 2, New: 1, Contributions: 3},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}

	// January alone: alice's first contribution falls in it, so she is new there.
	if get(t, ts, "/api/v1/metrics/community", url.Values{"from": {"2025-01-01"}, "to": {"2025-01-31"}}, &got); got.Contributors != 1 ||
		got.Contributions != 1 || got.New != 1 || got.Returning != 0 || got.Unaffiliated != 0 || len(got.Organizations) != 1 {
		t.Fatalf("January: %+v", got)
	}
	// Nothing in the period: zeros, and every month listed.
	if get(t, ts, "/api/v1/metrics/community", url.Values{"from": {"2024-11-01"}, "to": {"2024-12-31"}}, &got); got.Contributors != 0 ||
		got.Organizations == nil || len(got.Months) != 2 || got.Months[1] != (metrics.CommunityMonth{Month: "2024-12"}) {
		t.Fatalf("empty period: %+v", got)
	}

	// Several periods of whole months from one statement: each as computed alone, the
	// affiliations at each one's end included (Erin was with Umbrella until 2025).
	periods := []metrics.Filter{
		{From: day("2025-03-01 00:00"), To: day("2025-03-31 00:00"), Upstream: metrics.UpstreamAll},
		{From: day("2025-02-01 00:00"), To: day("2025-02-28 00:00"), Upstream: metrics.UpstreamAll},
		{From: day("2024-12-01 00:00"), To: day("2025-01-31 00:00"), Upstream: metrics.UpstreamAll},
	}
	// With a period that is not whole months (March to the 20th: bob's comment of the 21st is
	// out), each has its statement.
	affiliate := af.Affiliate("acme")
	partial := metrics.Filter{From: day("2025-03-01 00:00"), To: day("2025-03-20 00:00"), Upstream: metrics.UpstreamAll}
	for _, fs := range [][]metrics.Filter{periods, append(slices.Clone(periods), partial)} {
		together, err := metrics.GetCommunities(ctx, st, fs, affiliate)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range fs {
			alone, err := metrics.GetCommunity(ctx, st, f, affiliate)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(together[i], alone) || alone.Contributors == 0 {
				t.Errorf("%s..%s: together %+v\nalone    %+v", f.From, f.To, together[i], alone)
			}
		}
	}

	var bad struct{ Error, Param string }
	for q, param := range map[string]string{"team=core": "team", "upstream=1": "upstream", "from=2025-13-01": "from", "to=2025-01-01&from=2025-02-01": "to"} {
		v, _ := url.ParseQuery(q)
		if status := get(t, ts, "/api/v1/metrics/community", v, &bad); status != http.StatusBadRequest || bad.Param != param {
			t.Errorf("%s: %d %+v, want 400 naming %s", q, status, bad, param)
		}
	}
}
