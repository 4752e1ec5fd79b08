package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

func TestPersonMentions(t *testing.T) {
	ann := store.NewPerson([]string{"Ann", ""}, []string{"Ann.Lee@Acme.com"}, []string{"e1"})
	one := store.NewPerson([]string{"a"}, nil, nil)
	for _, c := range []struct {
		name string
		p    store.Person
		doc  string
		want bool
	}{
		{"login as a value", ann, `{"actor":{"login":"ann"}}`, true},
		{"login in another case", ann, `{"user":{"login":"ANN"}}`, true},
		{"login as a key", ann, `{"ann":1}`, true},
		{"login inside a longer login", ann, `{"login":"joanna"}`, false},
		{"login in free text", ann, `{"body":"thanks ann"}`, false},
		{"e-mail as a value", ann, `{"author":{"email":"ann.lee@acme.com"}}`, true},
		{"e-mail in a trailer", ann, `{"message":"fix\n\nCo-authored-by: Ann <Ann.Lee@acme.com>."}`, true},
		{"e-mail inside a longer one", ann, `{"email":"joann.lee@acme.com"}`, false},
		{"e-mail with a longer domain", ann, `{"email":"ann.lee@acme.community"}`, false},
		{"noreply address", ann, `{"email":"123+ann@users.noreply.github.com"}`, true},
		{"old noreply address", ann, `{"email":"ann@users.noreply.github.com"}`, true},
		{"someone else's noreply", ann, `{"email":"123+joann@users.noreply.github.com"}`, false},
		{"employee id is no JSON mention", ann, `{"id":"e1"}`, false},
		{"nested raw envelope", ann, `{"schema":"x","payload":{"pull_request":{"user":{"login":"ann"}}}}`, true},
		{"one-letter login matches itself", one, `{"login":"a"}`, true},
		{"one-letter login not in words", one, `{"title":"a fix","login":"bob","repo":"a/b","body":"aaa"}`, false},
		{"broken JSON searched as text", ann, `{"login":"ann`, true},
		{"nobody", store.NewPerson(nil, []string{" "}, nil), `{"login":""}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.Mentions([]byte(c.doc)); got != c.want {
				t.Fatalf("Mentions(%s) = %v, want %v", c.doc, got, c.want)
			}
		})
	}
	for _, c := range []struct {
		text string
		want bool
	}{
		{"GET /search/issues?q=author%3Aann+type%3Apr", true},
		{"GET /search/issues?q=author:joann", false},
		{"GET /repos/acme/ann-tools/pulls/1", false},
		{"GET /users/ann/events", true},
		{"mail from Ann.Lee@acme.com", true},
	} {
		if got := ann.MentionsText(c.text); got != c.want {
			t.Errorf("MentionsText(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

// forgetFixture stores Ann's and Bob's rows in every table that holds people.
func forgetFixture(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	rs := []events.Raw{
		{Source: events.SourceGHArchive, Kind: "PullRequestEvent", ID: "1", FetchedAt: at, Origin: "f:1", Payload: []byte(`{"actor":{"login":"ann"}}`)},
		{Source: events.SourceGHArchive, Kind: "PushEvent", ID: "2", FetchedAt: at, Origin: "f:2", Payload: []byte(`{"actor":{"login":"bob"},"payload":{"commits":[{"author":{"email":"ann@acme.com"}}]}}`)},
		{Source: events.SourceGHArchive, Kind: "PullRequestEvent", ID: "3", FetchedAt: at, Origin: "f:3", Payload: []byte(`{"actor":{"login":"bob"},"title":"ann"}`)},
		{Source: events.SourceGHArchive, Kind: "IssuesEvent", ID: "4", FetchedAt: at, Origin: "f:4", Payload: []byte(`{"actor":{"login":"bob"},"body":"thanks @ann"}`)},
		{Source: events.SourceREST, Kind: "pull_request", ID: "pull_request:x/y#1@z", FetchedAt: at, Origin: "GET /search/issues?q=reviewed-by%3Aann", Payload: []byte(`{"user":{"login":"bob"}}`)},
		{Source: events.SourceREST, Kind: "pull_request", ID: "pull_request:x/y#2@z", FetchedAt: at, Origin: "GET /search/issues?q=author%3Abob", Meta: map[string]string{"login": "ann"}, Payload: []byte(`{"user":{"login":"bob"}}`)},
		{Source: events.SourceREST, Kind: "pull_request", ID: "pull_request:x/y#3@z", FetchedAt: at, Origin: "GET /search/issues?q=author%3Abob", Payload: []byte(`{"user":{"login":"bob"}}`)},
	}
	if err := s.InsertRaw(ctx, rs); err != nil {
		t.Fatal(err)
	}
	cs := []events.Contribution{
		{ID: "pr:x/y#1", Kind: events.KindPullRequest, OccurredAt: at, ActorLogin: "Ann", EmployeeID: "e1", Repo: "x/y", Number: 1, Version: 1},
		{ID: "pr:x/y#1", Kind: events.KindPullRequest, OccurredAt: at, ActorLogin: "Ann", EmployeeID: "e1", Repo: "x/y", Number: 1, Version: 2},
		{ID: "commit:x/y@1", Kind: events.KindCommit, OccurredAt: at, ActorLogin: "bob", AuthorEmail: "ann@acme.com", Repo: "x/y", Version: 1},
		{ID: "commit:x/y@2", Kind: events.KindCommit, OccurredAt: at, ActorLogin: "bob", AuthorEmail: "9+ann@users.noreply.github.com", Repo: "x/y", Version: 1},
		{ID: "commit:x/y@3", Kind: events.KindCommit, OccurredAt: at, ActorLogin: "old-ann-login", EmployeeID: "e1", Repo: "x/y", Version: 1},
		{ID: "pr:x/y#2", Kind: events.KindPullRequest, OccurredAt: at, ActorLogin: "bob", EmployeeID: "e2", Repo: "x/y", Number: 2, Version: 1},
		{ID: "review:x/y#2", Kind: events.KindReview, OccurredAt: at, ActorLogin: "joann", Repo: "x/y", Number: 2, Version: 1},
		{ID: "comment:x/y#2", Kind: events.KindComment, OccurredAt: at.Add(time.Minute), ActorLogin: "ann", EmployeeID: "e1", Repo: "x/y", Number: 2, Version: 1},
		// Her answer a month later: answers_rollup keeps it (bob's pull request is of an earlier month).
		{ID: "comment:x/y#2-april", Kind: events.KindComment, OccurredAt: at.AddDate(0, 1, 0), ActorLogin: "ann", EmployeeID: "e1", Repo: "x/y", Number: 2, Version: 1},
	}
	if err := s.InsertContributions(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertProjectActivity(ctx, []events.HourTotals{{Hour: "2025-03-01-10", Rows: []events.ActivityRow{
		{Day: "2025-03-01", Repo: "x/y", Actor: "ANN", Type: "PushEvent", Events: 3},
		{Day: "2025-03-01", Repo: "x/y", Actor: "bob", Type: "PushEvent", Events: 2},
	}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertUnmatched(ctx, []events.Unmatched{
		{Identity: "ann@acme.com", Kind: events.IdentityEmail, Reason: events.UnmatchedCompanyEmail, Repo: "x/y", At: at, ContributionID: "commit:x/y@1"},
		{Identity: "joann", Kind: events.IdentityLogin, Reason: events.UnmatchedCompanyOrg, Repo: "x/y", At: at, ContributionID: "review:x/y#2"},
	}); err != nil {
		t.Fatal(err)
	}
	// Archived reports: one names Ann as a pull request's author, one names joann, one nobody.
	if err := s.Conn().Exec(ctx, `INSERT INTO report_runs (name, period, generated_at, numbers, html) VALUES
		('monthly', '2025-02', '2025-03-01 08:00:00', '{"highlights":{"merged_prs":[{"repo":"x/y","author":"ANN"}]}}', '<td>ANN</td>'),
		('monthly', '2025-01', '2025-02-01 08:00:00', '{"highlights":{"merged_prs":[{"repo":"x/y","author":"joann"}]}}', '<td>joann</td>'),
		('quarterly', '2025-Q1', '2025-04-01 08:00:00', '{"headline":[{"key":"contributions","value":7}]}', '')`); err != nil {
		t.Fatal(err)
	}
}

func TestForgetRemovesThePersonOnly(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	forgetFixture(t, s)
	// The rollups hold people too (employee ids, the logins of authors and of answers; the
	// distinct counts keep hashes only).
	if _, err := s.RefreshRollups(ctx); err != nil {
		t.Fatal(err)
	}
	inRollups := []string{
		"SELECT count() FROM newcomers_rollup WHERE employee_id = 'e1'",
		"SELECT count() FROM prs_rollup WHERE employee_id = 'e1' OR author = 'ann' OR answer_actor = 'ann'",
		"SELECT count() FROM answers_rollup WHERE arrayExists(a -> a.1 = 'ann', answers)",
		"SELECT count() FROM people_rollup WHERE employee_id = 'e1' OR lower(finalizeAggregation(login)) IN ('ann', 'old-ann-login')",
	}
	for _, q := range inRollups {
		if res, err := s.Query(ctx, q, nil); err != nil || store.AsInt(res.Rows[0][0]) == 0 {
			t.Fatalf("%s before forget: %v (%v), want some rows", q, res, err)
		}
	}
	annInRollups := "SELECT (" + strings.Join(inRollups, ") + (") + ")"
	removed, err := s.Forget(ctx, store.NewPerson([]string{"ann"}, []string{"ann@acme.com"}, []string{"e1"}))
	if err != nil {
		t.Fatal(err)
	}
	// raw 1 (actor), 2 (commit e-mail), 3 (a value "ann"), 5 (origin), 6 (meta); pr#1 (its two
	// versions collapse on insert), two commits by e-mail, one by employee id, her two comments.
	want := map[string]int64{"raw_events": 5, "contributions": 6, "project_activity": 1, "report_runs": 1, "unmatched_identities": 1}
	if fmt.Sprint(removed) != fmt.Sprint(want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	for q, want := range map[string]string{
		annInRollups: "0",
		"SELECT arrayStringConcat(groupArray(id), ',') FROM (SELECT id FROM raw_events ORDER BY id)":              "4,pull_request:x/y#3@z",
		"SELECT arrayStringConcat(groupArray(id), ',') FROM (SELECT id FROM contributions ORDER BY id)":           "pr:x/y#2,review:x/y#2",
		"SELECT arrayStringConcat(groupArray(actor), ',') FROM project_activity":                                  "bob",
		"SELECT arrayStringConcat(groupArray(identity), ',') FROM unmatched_identities":                           "joann",
		"SELECT arrayStringConcat(groupArray(period), ',') FROM (SELECT period FROM report_runs ORDER BY period)": "2025-01,2025-Q1",
		// The employee id as the literal a leak would carry: "e1" alone also occurs in hex hashes.
		"SELECT countIf(command LIKE '%ann%' OR command LIKE '%\\'e1\\'%') FROM system.mutations WHERE database = currentDatabase()": "0",
		"SELECT countIf(command LIKE '%DELETE WHERE hex(SHA256(%') > 0 FROM system.mutations WHERE database = currentDatabase()":     "1",
	} {
		res, err := s.Query(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := store.AsString(res.Rows[0][0]); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	// Nothing left to remove: a second forget removes nothing.
	again, err := s.Forget(ctx, store.NewPerson([]string{"ann"}, []string{"ann@acme.com"}, []string{"e1"}))
	if err != nil || len(again) != 0 {
		t.Fatalf("second forget: %v, %v", again, err)
	}
	if _, err := s.Forget(ctx, store.NewPerson([]string{""}, nil, nil)); err == nil {
		t.Fatal("forgetting nobody succeeded; it must refuse, an empty identity matches every row without one")
	}
}

func TestRecordForget(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	a := store.ForgetAudit{RequestID: "0123456789abcdef0123456789abcdef", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: "root",
		NamedBy: "employee_id", OnRoster: true, Identities: 2, Removed: map[string]int64{"clickhouse.contributions": 5, "stream.GIVEBACK_RAW": 2}}
	if err := s.RecordForget(ctx, a); err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "SELECT request_id, toString(at), actor, named_by, on_roster, identities, toString(removed), error FROM forget_audit", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(res.Rows)
	if want := `[[0123456789abcdef0123456789abcdef 2026-01-02 03:04:05.000 root employee_id 1 2 {'clickhouse.contributions':5,'stream.GIVEBACK_RAW':2} ]]`; got != want {
		t.Fatalf("audit row %s, want %s", got, want)
	}
}

// TestChDBKeepsNoQueryLog checks what the embedded engine keeps of the statements it runs: it
// has no system.query_log, and no file under its directory holds a statement's text. Were a
// later chDB to keep one, forget would have to clear it.
func TestChDBKeepsNoQueryLog(t *testing.T) {
	s := testkit.Store(t)
	if s.Conn().Driver() != "chdb" {
		t.Skip("measures the embedded engine")
	}
	ctx := context.Background()
	marker := fmt.Sprintf("forgetmarker%d", time.Now().UnixNano())
	if _, err := s.Query(ctx, "SELECT count() FROM contributions WHERE actor_login = "+store.Quote(marker), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Conn().Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "SELECT name FROM system.tables WHERE database = 'system' AND name LIKE '%log%'", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) > 0 {
		t.Errorf("chDB keeps log tables %v: forget must clear them", res.Rows)
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("giveback-test-chdb-%d", os.Getpid()))
	files := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(marker)) {
			t.Errorf("%s holds the text of a query", strings.TrimPrefix(path, dir))
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("walk %s: %d files, %v", dir, files, err)
	}
}

func TestSetRawRetention(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	def := func() string {
		res, err := s.Query(ctx, "SHOW CREATE TABLE raw_events", nil)
		if err != nil {
			t.Fatal(err)
		}
		return store.AsString(res.Rows[0][0])
	}
	if strings.Contains(def(), "TTL") {
		t.Fatalf("a fresh raw_events has a TTL: %s", def())
	}
	old := time.Now().Add(-500 * 24 * time.Hour).UTC()
	if err := s.InsertRaw(ctx, []events.Raw{
		{Source: events.SourceGHArchive, Kind: "PushEvent", ID: "old", FetchedAt: old, Payload: []byte(`{}`)},
		{Source: events.SourceGHArchive, Kind: "PushEvent", ID: "new", FetchedAt: time.Now().UTC(), Payload: []byte(`{}`)},
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		age  time.Duration
		want string
	}{
		{400 * 24 * time.Hour, "TTL toDateTime(fetched_at) + toIntervalDay(400)"},
		{400 * 24 * time.Hour, "TTL toDateTime(fetched_at) + toIntervalDay(400)"}, // unchanged: no ALTER
		{36 * time.Hour, "TTL toDateTime(fetched_at) + toIntervalSecond(129600)"},
		{0, ""},
	} {
		if err := s.SetRawRetention(ctx, c.age, nil); err != nil {
			t.Fatal(err)
		}
		got := def()
		if c.want == "" && strings.Contains(got, "TTL") || c.want != "" && !strings.Contains(got, c.want) {
			t.Fatalf("after %s: %s, want %q", c.age, got, c.want)
		}
	}
	// The TTL removes what is older once the table is merged; a record of 500 days went with
	// the 400-day TTL.
	if err := s.SetRawRetention(ctx, 400*24*time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Conn().Exec(ctx, "OPTIMIZE TABLE raw_events FINAL"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "SELECT arrayStringConcat(groupArray(id), ',') FROM raw_events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.AsString(res.Rows[0][0]); got != "new" {
		t.Fatalf("raw events after the TTL: %q, want new", got)
	}
	if err := s.SetRawRetention(ctx, -time.Hour, nil); err == nil {
		t.Fatal("a negative retention was accepted")
	}
}

// FuzzPersonMentions: Mentions reads any document without failing, and finds a login wherever
// it is a whole JSON string, inside any document.
func FuzzPersonMentions(f *testing.F) {
	f.Add("ann", `{"a":[1,"x",{"b":null}]}`)
	f.Add("a", `{"login":"a"`)
	f.Add("x-y", `[`)
	f.Add("ann", `"\ud800"`)
	f.Fuzz(func(t *testing.T, login, doc string) {
		p := store.NewPerson([]string{login}, nil, nil)
		_ = p.Mentions([]byte(doc))
		_ = p.MentionsText(doc)
		if p.Empty() || !utf8.ValidString(login) || strings.ToLower(strings.ToUpper(p.Logins[0])) != p.Logins[0] {
			return
		}
		b, err := json.Marshal(map[string]any{"other": json.RawMessage(`{"k":"v"}`), "login": strings.ToUpper(p.Logins[0])})
		if err != nil {
			t.Fatal(err)
		}
		if !p.Mentions(b) {
			t.Fatalf("%s does not mention %q", b, p.Logins)
		}
	})
}

// BenchmarkPersonMentions measures the search of one raw record (a GH Archive pull request
// event of about 6 KB) for a person, as forget runs it on every candidate record and message:
// a record that names the person only at its end, and one that does not name them at all.
func BenchmarkPersonMentions(b *testing.B) {
	p := store.NewPerson([]string{"ann-q", "quist-old"}, []string{"ann.q@acme.com"}, []string{"e-9"})
	body := strings.Repeat(`{"login":"someone","url":"https://api.github.com/repos/golang/go/pulls/1","body":"a long description of the change"},`, 50)
	for _, c := range []struct{ name, doc string }{
		{"names", `{"actor":{"login":"bob"},"payload":{"reviews":[` + body + `{"login":"ANN-Q"}]}}`},
		{"does_not", `{"actor":{"login":"bob"},"payload":{"reviews":[` + body + `{"login":"bob"}]}}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			doc := []byte(c.doc)
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				p.Mentions(doc)
			}
		})
	}
}
