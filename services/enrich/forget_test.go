package enrich_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/enrich"
)

// The person forgotten has two logins and two e-mails; Bob and Cat stay.
const forgetRoster = `employee_id,name,team,github_logins,emails,start_date,end_date,opt_out
e-9,Ann Quist,core,ann-q;quist-old,ann.q@acme.com;aq@home.example,2024-01-01,,false
e2,Bob,web,bob,bob@acme.com,2024-01-01,,false
e3,Cat,data,cat,,2024-01-01,,false
`

// forgotten are what must be found nowhere after the forget.
var forgotten = []string{"ann-q", "quist-old", "ann.q@acme.com", "aq@home.example"}

func ghaAt(t *testing.T, kind, id, payload string, at time.Time) events.Raw {
	r := raw(t, kind, id, payload)
	r.FetchedAt = at
	return r
}

// TestForgetRemovesThePersonEverywhere feeds a running enrich events that mention Ann and others,
// as ingest would (the raw stream, the sync status and cursors in the KV bucket, the roster),
// asks it to forget Ann by her employee id as `giveback forget` does, then searches every
// table of the database, every message of every stream and every key and value of every bucket
// for her logins and e-mails, and counts what the others kept.
func TestForgetRemovesThePersonEverywhere(t *testing.T) {
	st := testkit.Store(t)
	_, nc, js := testkit.NATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ro, err := roster.Parse(strings.NewReader(forgetRoster))
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(t, enrich.Options{Store: st, JS: js, Company: config.Company{Name: "Acme", GitHubOrgs: []string{"acme"}, EmailDomains: []string{"acme.com"}}, Roster: ro, Registry: prometheus.NewRegistry(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	trimmedAt := time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)
	totals, err := json.Marshal(events.HourTotals{Hour: "2025-03-01-10", Rows: []events.ActivityRow{
		{Day: "2025-03-01", Repo: "golang/go", Actor: "ann-q", Type: "PushEvent", Events: 4},
		{Day: "2025-03-01", Repo: "golang/go", Actor: "bob", Type: "PushEvent", Events: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rs := []events.Raw{
		raw(t, "PullRequestEvent", "1", prEvent("1", "ann-q", "ann-q", "kubernetes/kubernetes", 1, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "PullRequestEvent", "2", prEvent("2", "quist-old", "quist-old", "golang/go", 2, "opened", false, "2024-03-01T10:00:00Z")),
		// Bob pushes Ann's commit (by her home e-mail) and his own.
		raw(t, "PushEvent", "3", pushEvent("3", "bob", "golang/go", "2024-03-02T10:00:00Z", "aq@home.example", "bob@acme.com")),
		raw(t, "PullRequestEvent", "4", prEvent("4", "bob", "bob", "kubernetes/kubernetes", 4, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "PullRequestEvent", "5", prEvent("5", "cat", "cat", "acme/tools", 5, "opened", false, "2024-03-01T10:00:00Z")),
		raw(t, "PushEvent", "6", pushEvent("6", "cat", "golang/go", "2024-03-02T10:00:00Z", "cat@acme.com")),
		// A trimmed pull request event of Ann's: enrich asks ingest to hydrate it.
		ghaAt(t, "PullRequestEvent", "7", `{"id":"7","type":"PullRequestEvent","actor":{"login":"ann-q"},"repo":{"name":"acme/tools"},`+
			`"payload":{"action":"closed","number":9,"pull_request":{"id":1,"number":9}},"created_at":"2025-11-03T10:00:00Z"}`, trimmedAt),
		{Schema: events.SchemaRaw, Source: events.SourceGHArchiveTotals, Kind: events.KindHourTotals, ID: "totals:2025-03-01-10",
			FetchedAt: trimmedAt, Origin: "2025-03-01-10.json.gz", Payload: totals},
	}
	pub := bus.NewPublisher(js)
	for i := range rs {
		if err := pub.Publish(ctx, &rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// What ingest and `giveback roster load` keep in the buckets.
	bucket := func(name string) jetstream.KeyValue {
		kv, err := js.KeyValue(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return kv
	}
	cursors, statuses, watch, rosterKV := bucket(events.BucketCursors), bucket(events.BucketStatus), bucket(events.BucketHydrateWatch), bucket(events.BucketRoster)
	for _, e := range []struct {
		kv   jetstream.KeyValue
		k, v string
	}{
		{statuses, events.KeyStatusREST("ann-q"), `{"login":"ann-q","last_sync":"2025-03-01T10:00:00Z","items":3,"last_error":""}`},
		{cursors, events.KeyRESTCursor("author", "ann-q"), "2025-03-01T10:00:00Z"},
		{cursors, events.KeyRESTCursor("reviewed", "quist-old"), "2025-03-01T10:00:00Z"},
		{watch, events.KeyHydrateOpen("acme/tools", 9), `{"repo":"acme/tools","number":9,"actor":"ann-q","since":"2025-11-03T10:00:00Z"}`},
		{statuses, events.KeyStatusREST("bob"), `{"login":"bob","last_sync":"2025-03-01T10:00:00Z","items":1,"last_error":""}`},
		{cursors, events.KeyRESTCursor("author", "bob"), "2025-03-01T10:00:00Z"},
		{rosterKV, events.KeyRosterCurrent, forgetRoster},
	} {
		if _, err := e.kv.Put(ctx, e.k, []byte(e.v)); err != nil {
			t.Fatal(err)
		}
	}
	// The status key was written twice, as every sync does: both revisions must go.
	if _, err := statuses.Put(ctx, events.KeyStatusREST("ann-q"), []byte(`{"login":"ann-q","items":4}`)); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	waitFor(t, func() bool {
		return strings.Join(query(t, st, "SELECT count() FROM contributions"), "") == "7" &&
			strings.Join(query(t, st, "SELECT count() FROM project_activity"), "") == "2"
	}, "enrich to store the events")
	before := snapshot(t, st, js)

	// What `giveback forget e-9` does: NATS as the administrator, then the request.
	req, err := enrich.NewForget("e-9", "root")
	if err != nil {
		t.Fatal(err)
	}
	ro, _, found, err := roster.FromKV(ctx, rosterKV)
	if err != nil || !found {
		t.Fatalf("roster from kv: %t %v", found, err)
	}
	if req.NATSRemoved, err = enrich.PurgeNATS(ctx, js, ro, nil, req.Who); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := nc.Request(events.SubjectForget, data, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var res events.ForgetResult
	if err := json.Unmarshal(msg.Data, &res); err != nil {
		t.Fatal(err)
	}
	if res.Error != "" || res.RequestID != req.RequestID || !res.OnRoster || res.OptedOut || res.Identities != 4 {
		t.Fatalf("result %+v", res)
	}
	// Raw: Ann's two PRs, Bob's push with her commit, her trimmed PR (the totals naming her are
	// not kept in raw_events). Contributions: two PRs, her commit (pushed by Bob, found by her
	// e-mail). Streams: those raw records and the totals, the three contributions published, the
	// hydration request of the trimmed PR. KV: two status revisions count as one key, two
	// cursors, the watched pull request.
	want := map[string]int64{
		"clickhouse.raw_events": 4, "clickhouse.contributions": 3, "clickhouse.project_activity": 1,
		"stream.GIVEBACK_RAW": 5, "stream.GIVEBACK_ENRICHED": 3, "stream.GIVEBACK_CONTROL": 1,
		"kv." + events.BucketCursors: 2, "kv." + events.BucketStatus: 1, "kv." + events.BucketHydrateWatch: 1,
	}
	if fmt.Sprint(res.Removed) != fmt.Sprint(want) {
		t.Errorf("removed %v, want %v", res.Removed, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	after := snapshot(t, st, js)
	for place, hits := range after.hits {
		t.Errorf("%s still names the person: %s", place, hits)
	}
	if len(before.hits) < 8 {
		t.Errorf("the search found the person in %d places before the forget; it cannot find what it looks for", len(before.hits))
	}
	// The others keep everything, exactly.
	for q, want := range map[string]string{
		"SELECT arrayStringConcat(groupArray(x), ',') FROM (SELECT concat(id, ' ', actor_login, ' ', employee_id) AS x FROM contributions FINAL ORDER BY id)": "commit:golang/go@3c1 bob e2,commit:golang/go@6c0 cat e3,pr:acme/tools#5 cat e3,pr:kubernetes/kubernetes#4 bob e2",
		"SELECT arrayStringConcat(groupArray(id), ',') FROM (SELECT id FROM raw_events FINAL ORDER BY id)":                                                    "4,5,6",
		"SELECT arrayStringConcat(groupArray(actor), ',') FROM project_activity":                                                                              "bob",
		"SELECT count() FROM forget_audit WHERE actor = 'root' AND named_by = 'employee_id' AND identities = 4 AND removed['clickhouse.contributions'] = 3":   "1",
	} {
		if got := strings.Join(query(t, st, q), ""); got != want {
			t.Errorf("%s\n got %s\nwant %s", q, got, want)
		}
	}
	// Bob's and Cat's raw records and contributions; in the buckets Bob's status and cursor, the
	// roster and the repositories enrich watches.
	if got, want := after.messages, map[string]int{"GIVEBACK_RAW": 3, "GIVEBACK_ENRICHED": 4, "KV_" + events.BucketCursors: 1, "KV_" + events.BucketStatus: 1,
		"KV_" + events.BucketRoster: 1, "KV_" + events.BucketWatchedRepos: 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("messages left %v, want %v", got, want)
	}
}

// found is where a search found the person, and how many messages each stream holds.
type found struct {
	hits     map[string]string
	messages map[string]int
}

// snapshot searches every column of every table of the test's database, every message of every
// stream (the KV buckets' included) and every key and value of every bucket for the forgotten
// identities, as substrings in any case. The roster key is the company's file and is skipped.
func snapshot(t *testing.T, st *store.Store, js jetstream.JetStream) found {
	t.Helper()
	ctx := context.Background()
	f := found{hits: map[string]string{}, messages: map[string]int{}}
	needles := make([]string, len(forgotten))
	for i, n := range forgotten {
		needles[i] = store.Quote(n)
	}
	cols, err := st.Query(ctx, "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() AND table IN "+
		"(SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View%') ORDER BY table, name", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols.Rows) < 30 {
		t.Fatalf("the search sees %d columns; it must see every table's", len(cols.Rows))
	}
	for _, c := range cols.Rows {
		table, col, typ := store.AsString(c[0]), store.AsString(c[1]), store.AsString(c[2])
		if strings.HasPrefix(typ, "AggregateFunction") {
			continue // a state of hashes; unmatched_identities is searched by its identity column
		}
		q := "SELECT count() FROM " + store.Ident(table) + " WHERE multiSearchAnyCaseInsensitive(toString(" + store.Ident(col) + "), [" + strings.Join(needles, ", ") + "])"
		if n := strings.Join(query(t, st, q), ""); n != "0" {
			f.hits["clickhouse "+table+"."+col] = n + " rows"
		}
	}
	names := js.StreamNames(ctx)
	var streams []string
	for n := range names.Name() {
		streams = append(streams, n)
	}
	sort.Strings(streams)
	for _, name := range streams {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if err != nil {
				continue // deleted
			}
			f.messages[name]++
			if m.Subject == "$KV."+events.BucketRoster+"."+events.KeyRosterCurrent {
				continue
			}
			whole := bytes.ToLower([]byte(fmt.Sprint(m.Subject, m.Header, string(m.Data))))
			for _, n := range forgotten {
				if bytes.Contains(whole, []byte(n)) {
					f.hits[fmt.Sprintf("stream %s message %d", name, seq)] = n
				}
			}
		}
	}
	buckets := js.KeyValueStoreNames(ctx)
	for b := range buckets.Name() {
		kv, err := js.KeyValue(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := kv.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k := range keys.Keys() {
			if k == events.KeyRosterCurrent {
				continue
			}
			e, err := kv.Get(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			whole := strings.ToLower(k + " " + string(e.Value()))
			for _, n := range forgotten {
				if strings.Contains(whole, n) {
					f.hits["kv "+b+" "+k] = n
				}
			}
		}
	}
	return f
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestResolve(t *testing.T) {
	ro, err := roster.Parse(strings.NewReader(forgetRoster + "e4,Dee,core,dee,dee@acme.com,2024-01-01,2024-06-30,true\ne4,Dee,web,dee,,2024-07-01,,true\n"))
	if err != nil {
		t.Fatal(err)
	}
	aliases := map[string]string{"AnnQ-Laptop@home.example": "ann-q", "old-bob": "bob"}
	for _, c := range []struct {
		who, want, namedBy string
		onRoster, optedOut bool
	}{
		{"e-9", "[ann-q quist-old] [ann.q@acme.com annq-laptop@home.example aq@home.example] [e-9]", enrich.NamedByEmployeeID, true, false},
		{"Quist-Old", "[ann-q quist-old] [ann.q@acme.com annq-laptop@home.example aq@home.example] [e-9]", enrich.NamedByLogin, true, false},
		{"AQ@home.example", "[ann-q quist-old] [ann.q@acme.com annq-laptop@home.example aq@home.example] [e-9]", enrich.NamedByEmail, true, false},
		{"dee", "[dee] [dee@acme.com] [e4]", enrich.NamedByLogin, true, true},
		{"stranger", "[stranger] [] []", enrich.NamedByLogin, false, false},
		{"12+stranger@users.noreply.github.com", "[stranger] [12+stranger@users.noreply.github.com] []", enrich.NamedByEmail, false, false},
		{"old-bob", "[bob old-bob] [bob@acme.com] [e2]", enrich.NamedByLogin, true, false},
	} {
		r, err := enrich.Resolve(ro, aliases, c.who)
		if err != nil {
			t.Fatalf("%s: %v", c.who, err)
		}
		got := fmt.Sprint(r.Person.Logins, " ", r.Person.Emails, " ", r.Person.EmployeeIDs)
		if got != c.want || r.NamedBy != c.namedBy || r.OnRoster != c.onRoster || r.OptedOut != c.optedOut {
			t.Errorf("%s: %s %s roster=%t opted_out=%t, want %s %s %t %t", c.who, got, r.NamedBy, r.OnRoster, r.OptedOut, c.want, c.namedBy, c.onRoster, c.optedOut)
		}
	}
	for who, msg := range map[string]string{
		"":                       "give a GitHub login",
		"ann q":                  "blank or control character",
		"ann\x00":                "blank or control character",
		"not/a-login":            "not on the roster and is neither a GitHub login nor an e-mail",
		"a@b@c":                  "is not an e-mail",
		strings.Repeat("x", 400): "too long",
	} {
		if _, err := enrich.Resolve(ro, nil, who); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Resolve(%q): %v, want an error saying %q", who, err, msg)
		}
	}
}

func TestDecodeForget(t *testing.T) {
	good, err := enrich.NewForget("ann-q", "root")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := enrich.DecodeForget(data); err != nil || !reflect.DeepEqual(got, good) {
		t.Fatalf("DecodeForget(%s) = %+v, %v", data, got, err)
	}
	for in, msg := range map[string]string{
		`{"schema":"giveback.forget.v2","request_id":"0123456789abcdef0123456789abcdef","who":"a","actor":"r"}`:       "request schema",
		`{"schema":"giveback.forget.v1","request_id":"0123","who":"a","actor":"r"}`:                                   "request_id",
		`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":" ","actor":"r"}`:       "give a GitHub login",
		`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":"a","actor":""}`:        "--actor",
		`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":"a","actor":"r","x":1}`: "unknown field",
		`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":"a","actor":"r"} {}`:    "data after",
		`[]`: "decode request",
		`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":"a","actor":"r","nats_removed":{"clickhouse.x":1}}`: "nats_removed",
		`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":"a","actor":"r","nats_removed":{"kv.x":-1}}`:        "nats_removed",
	} {
		if _, err := enrich.DecodeForget([]byte(in)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("DecodeForget(%s): %v, want an error saying %q", in, err, msg)
		}
	}
}

// FuzzDecodeForget: a request DecodeForget accepts names someone and encodes back to a request
// it accepts the same.
func FuzzDecodeForget(f *testing.F) {
	f.Add([]byte(`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":"ann","actor":"root"}`))
	f.Add([]byte(`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":"a@b.c","actor":"root\u0000"}`))
	f.Add([]byte(`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":" e1 ","actor":"x","who":"y"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"schema":"giveback.forget.v1","request_id":"0123456789abcdef0123456789abcdef","who":"ann","actor":"root","nats_removed":{"stream.A":3,"kv.b":0}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := enrich.DecodeForget(data)
		if err != nil {
			return
		}
		if req.Who == "" || req.Actor == "" || strings.TrimSpace(req.Who) != req.Who {
			t.Fatalf("accepted %+v", req)
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := enrich.DecodeForget(b)
		if err != nil || !reflect.DeepEqual(again, req) {
			t.Fatalf("round trip of %+v: %+v, %v", req, again, err)
		}
	})
}

// FuzzResolve: whatever the argument, Resolve either refuses it or names someone, and never
// someone with an empty identity (which would match every row without one).
func FuzzResolve(f *testing.F) {
	ro, err := roster.Parse(strings.NewReader(forgetRoster))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"e-9", "ann-q", "ANN.Q@acme.com", "1+x@users.noreply.github.com", "@", "a b", "", "é", "x[bot]", "e2", "\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, who string) {
		r, err := enrich.Resolve(ro, map[string]string{"x": "ann-q"}, who)
		if err != nil {
			return
		}
		if r.Person.Empty() {
			t.Fatalf("Resolve(%q) names nobody", who)
		}
		for _, v := range append(append(append([]string(nil), r.Person.Logins...), r.Person.Emails...), r.Person.EmployeeIDs...) {
			if strings.TrimSpace(v) == "" {
				t.Fatalf("Resolve(%q) gives an empty identity: %+v", who, r.Person)
			}
		}
	})
}
