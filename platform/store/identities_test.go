package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// storeContribution stores one contribution by an employee to repo, whose destination it gives.
func storeContribution(t *testing.T, s *store.Store, repo, destination string) {
	t.Helper()
	owner, _, _ := strings.Cut(repo, "/")
	c := events.Contribution{Schema: events.SchemaContribution, ID: "pr:" + repo + "#1", Kind: events.KindPullRequest,
		OccurredAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ActorLogin: "ann", EmployeeID: "e1", Repo: repo, RepoOwner: owner,
		Destination: destination, Source: events.SourceGHArchive, Version: 1}
	if err := s.InsertContributions(context.Background(), []events.Contribution{c}); err != nil {
		t.Fatal(err)
	}
}

func TestUnmatchedCountsEachContributionOnce(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	storeContribution(t, s, "acme/tool", "internal")
	t1 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	t2 := t1.Add(72 * time.Hour)
	u := func(id string, at time.Time) events.Unmatched {
		return events.Unmatched{Identity: "zed", Kind: events.IdentityLogin, Reason: events.UnmatchedCompanyOrg, Repo: "acme/tool", At: at, ContributionID: id}
	}
	for _, batch := range [][]events.Unmatched{{u("pr:acme/tool#1", t1), u("pr:acme/tool#1", t1)}, {u("pr:acme/tool#1", t2), u("comment:acme/tool/issue/9", t2)}} {
		if err := s.InsertUnmatched(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Query(ctx, "SELECT identity, toString(first_seen), toString(last_seen), contributions FROM current_unmatched_identities", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || store.AsInt(res.Rows[0][3]) != 2 || store.AsString(res.Rows[0][1]) != "2025-01-02 03:04:05.000" || store.AsString(res.Rows[0][2]) != "2025-01-05 03:04:05.000" {
		t.Fatalf("rows = %v", res.Rows)
	}
	if err := s.DeleteUnmatched(ctx, []string{"ZED"}); err != nil {
		t.Fatal(err)
	}
	if res, err = s.Query(ctx, "SELECT count() FROM unmatched_identities", nil); err != nil || store.AsInt(res.Rows[0][0]) != 0 {
		t.Fatalf("after delete: %v %v", res, err)
	}
}

func TestRawMentioningPagesAndDeletes(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var rs []events.Raw
	for i, p := range []string{`{"actor":{"login":"Ann"}}`, `{"actor":{"login":"annette"}}`, `{"x":"ann@acme.com"}`, `{"actor":{"login":"bob"}}`} {
		rs = append(rs, events.Raw{Source: events.SourceREST, Kind: "review", ID: string(rune('a' + i)), FetchedAt: at, Meta: map[string]string{"repo": "o/r"}, Payload: json.RawMessage(p)})
	}
	if err := s.InsertRaw(ctx, rs); err != nil {
		t.Fatal(err)
	}
	needles := []string{`"ann"`, `"ann@acme.com"`}
	var got []string
	after := store.RawKey{}
	for {
		page, err := s.RawMentioning(ctx, needles, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		r := page[0]
		if r.Meta["repo"] != "o/r" || !r.FetchedAt.Equal(at) {
			t.Fatalf("record %+v", r)
		}
		got = append(got, r.ID)
		after = store.RawKey{Source: r.Source, ID: r.ID}
	}
	if strings.Join(got, ",") != "a,c" {
		t.Fatalf("matched %v, want a,c", got)
	}
	if err := s.DeleteRaw(ctx, []store.RawKey{{Source: events.SourceREST, ID: "a"}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "SELECT groupArray(id) FROM (SELECT id FROM raw_events ORDER BY id)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0]; len(got.([]any)) != 3 {
		t.Fatalf("after delete: %v", got)
	}
}

// TestVersionShiftMigration runs 0004's rewrite of the versions stored before it on a row with
// a bare-ms version and one already shifted.
func TestVersionShiftMigration(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ms := uint64(at.UnixMilli())
	if err := s.InsertContributions(ctx, []events.Contribution{
		{ID: "pr:o/r#1", Kind: events.KindPullRequest, OccurredAt: at, Version: ms},
		{ID: "pr:o/r#2", Kind: events.KindPullRequest, OccurredAt: at, Version: events.StoredVersion(ms, 3), AuthorEmail: "a@b.c"},
	}); err != nil {
		t.Fatal(err)
	}
	ms4, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var stmt string
	for _, m := range ms4 {
		for _, st := range m.Statements {
			if m.Version == 4 && strings.Contains(st, "version * 1048576") {
				stmt = st
			}
		}
	}
	if err := s.Conn().Exec(ctx, stmt); err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "SELECT id, version, author_email FROM contributions FINAL ORDER BY id", nil)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(store.AsInt(res.Rows[0][1])) != events.StoredVersion(ms, 0) || uint64(store.AsInt(res.Rows[1][1])) != events.StoredVersion(ms, 3) || store.AsString(res.Rows[1][2]) != "a@b.c" {
		t.Fatalf("rows = %v", res.Rows)
	}
}

// A batch far larger than one statement may hold is written whole.
func TestInsertUnmatchedLargeBatch(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var us []events.Unmatched
	for i := 0; i < 5000; i++ {
		us = append(us, events.Unmatched{Identity: fmt.Sprintf("someone-with-a-long-login-%d", i%1700), Kind: "login", Reason: "company_org",
			Repo: "northwind-oss/a-repository-with-a-long-name", At: at, ContributionID: fmt.Sprintf("commit:northwind-oss/a-repository-with-a-long-name@%040d", i)})
	}
	if err := s.InsertUnmatched(ctx, us); err != nil {
		t.Fatal(err)
	}
	storeContribution(t, s, "northwind-oss/a-repository-with-a-long-name", "internal")
	res, err := s.Query(ctx, "SELECT count(), sum(contributions) FROM current_unmatched_identities", nil)
	if err != nil {
		t.Fatal(err)
	}
	if store.AsInt(res.Rows[0][0]) != 1700 || store.AsInt(res.Rows[0][1]) != 5000 {
		t.Fatalf("got %v identities and contributions, want 1700 and 5000", res.Rows[0])
	}
}

// An identity stays unmatched when it carries a company e-mail domain, wherever it acted, or when
// it acted in a private repository of a company org; a login active only in the company's public
// repositories is community inflow and leaves current_unmatched_identities, while
// unmatched_identities keeps its record.
func TestUnmatchedOnlyEmailsAndPrivateRepositories(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	storeContribution(t, s, "Acme/Secret", "internal")
	storeContribution(t, s, "acme/tool", "company_oss")
	storeContribution(t, s, "golang/go", "upstream")
	at := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	if err := s.InsertUnmatched(ctx, []events.Unmatched{
		{Identity: "insider", Kind: events.IdentityLogin, Reason: events.UnmatchedCompanyOrg, Repo: "acme/secret", At: at, ContributionID: "c1"},
		{Identity: "outsider", Kind: events.IdentityLogin, Reason: events.UnmatchedCompanyOrg, Repo: "acme/tool", At: at, ContributionID: "c2"},
		{Identity: "new@acme.com", Kind: events.IdentityEmail, Reason: events.UnmatchedCompanyEmail, Repo: "golang/go", At: at, ContributionID: "c3"},
		{Identity: "both", Kind: events.IdentityLogin, Reason: events.UnmatchedCompanyOrg, Repo: "acme/tool", At: at, ContributionID: "c4"},
		{Identity: "both", Kind: events.IdentityLogin, Reason: events.UnmatchedCompanyOrg, Repo: "acme/secret", At: at, ContributionID: "c5"},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "SELECT identity, repo FROM current_unmatched_identities ORDER BY identity, repo", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, store.AsString(r[0])+" "+store.AsString(r[1]))
	}
	if want := "both acme/secret,insider acme/secret,new@acme.com golang/go"; strings.Join(got, ",") != want {
		t.Fatalf("unmatched %q, want %q", strings.Join(got, ","), want)
	}
	if res, err = s.Query(ctx, "SELECT count() FROM unmatched_identities", nil); err != nil || store.AsInt(res.Rows[0][0]) != 5 {
		t.Fatalf("unmatched_identities keeps every record: %v %v", res, err)
	}
}
