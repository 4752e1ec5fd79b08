package report_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/store"
)

// send makes a request with a body of content type ct and returns the status and the body.
func send(t *testing.T, ts *httptest.Server, method, path, ct, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// teamRepos counts, per repository, the contributions of a team since a day: on the fixture,
// team core since 2025-01-01 made PRs #1, #2, #3, #13, the review of #1, comment 8 and the April
// commit; since 2025-02-01 only #3, #13, comment 8 and the April commit. Team web (comment 10
// moved to it) made #4, the issue, commit 9 and comment 10.
const teamRepos = `SELECT repo, toUInt32(count()) AS n
FROM contributions FINAL
WHERE team = {team:String} AND occurred_at >= {since:Date} -- the day the count starts
GROUP BY repo ORDER BY n DESC, repo`

// TestSavedQueryRoundTrip saves a query with parameters, lists it, runs it with parameters as
// JSON and as a CSV download and on the console page, and deletes it, on the real handler and
// chDB.
func TestSavedQueryRoundTrip(t *testing.T) {
	ts, _ := server(t, config.Query{})
	body, err := json.Marshal(map[string]any{"name": "team-repos", "description": "A team's contributions per repository",
		"sql": teamRepos, "params": []map[string]any{{"name": "team", "default": "core"}}})
	if err != nil {
		t.Fatal(err)
	}
	status, out := send(t, ts, http.MethodPost, "/api/v1/saved-queries", "application/json", string(body))
	if status != http.StatusOK || !strings.Contains(out, `"name":"team-repos"`) {
		t.Fatalf("save: %d %s", status, out)
	}

	var list struct{ Queries []store.SavedQuery }
	if status := get(t, ts, "/api/v1/saved-queries", nil, &list); status != http.StatusOK || len(list.Queries) != 1 {
		t.Fatalf("list: %d %+v", status, list)
	}
	q := list.Queries[0]
	if q.Name != "team-repos" || q.SQL != teamRepos || q.Description == "" || len(q.Params) != 2 ||
		q.Params[0].Name != "team" || q.Params[0].Type != "String" || q.Params[0].Default == nil || *q.Params[0].Default != "core" ||
		q.Params[1].Name != "since" || q.Params[1].Type != "Date" || q.Params[1].Default != nil || q.UpdatedAt.IsZero() {
		t.Fatalf("listed %+v", q)
	}

	run := func(format string, params url.Values) (int, string) {
		v := url.Values{"saved": {"team-repos"}, "format": {format}}
		for k, p := range params {
			v[k] = p
		}
		return send(t, ts, http.MethodGet, "/api/v1/query?"+v.Encode(), "", "")
	}
	// The default team (core) and a day given.
	status, out = run("csv", url.Values{"param_since": {"2025-02-01"}})
	if want := "repo,n\ngolang/go,2\nacme/internal,1\nnodejs/node,1\n"; status != http.StatusOK || out != want {
		t.Fatalf("run as CSV: %d\n%s\nwant\n%s", status, out, want)
	}
	status, out = run("json", url.Values{"param_team": {"web"}, "param_since": {"2025-01-01"}})
	var res struct{ Rows [][]any }
	if err := json.Unmarshal([]byte(out), &res); status != http.StatusOK || err != nil {
		t.Fatalf("run as JSON: %d %v %s", status, err, out)
	}
	if got, _ := json.Marshal(res.Rows); string(got) != `[["golang/go",2],["kubernetes/website",1],["nodejs/node",1]]` {
		t.Fatalf("run as JSON for team web: %s", got)
	}
	// A value is a value: what would widen the statement if pasted into it matches no team.
	status, out = run("csv", url.Values{"param_team": {"core' OR 1 = 1 OR team = '"}, "param_since": {"2025-01-01"}})
	if status != http.StatusOK || out != "repo,n\n" {
		t.Fatalf("run with a quote in a value: %d %s", status, out)
	}
	for _, c := range []struct {
		params url.Values
		want   string
	}{
		{url.Values{}, `"param":"param_since"`},
		{url.Values{"param_since": {"2025-01-01"}, "param_nope": {"1"}}, `"param":"param_nope"`},
		{url.Values{"param_since": {"yesterday"}}, "query failed: "},
	} {
		if status, out := run("json", c.params); status != http.StatusBadRequest || !strings.Contains(out, c.want) {
			t.Errorf("run with %v: %d %s, want 400 with %s", c.params, status, out, c.want)
		}
	}

	// The console shows it with its parameters, and runs it.
	status, page := send(t, ts, http.MethodGet, "/query?saved=team-repos&run=1&param_since=2025-02-01", "", "")
	for _, want := range []string{`<td>golang/go</td><td>2</td>`, `<td>nodejs/node</td><td>1</td>`, `<span id="rows-count">3</span>`,
		`name="param_team" value="core"`, `name="param_since" value="2025-02-01"`,
		`href="api/v1/query?format=csv&amp;param_since=2025-02-01&amp;param_team=core&amp;saved=team-repos"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the console page lacks %s", want)
		}
	}
	if status != http.StatusOK || t.Failed() {
		t.Fatalf("console: %d\n%s", status, page)
	}

	status, out = send(t, ts, http.MethodDelete, "/api/v1/saved-queries/team-repos", "application/json", "")
	if status != http.StatusOK || out != `{"deleted":true,"name":"team-repos"}`+"\n" {
		t.Fatalf("delete: %d %s", status, out)
	}
	if status, out := send(t, ts, http.MethodDelete, "/api/v1/saved-queries/team-repos", "application/json", ""); status != http.StatusOK || !strings.Contains(out, `"deleted":false`) {
		t.Fatalf("delete again: %d %s", status, out)
	}
	if status := get(t, ts, "/api/v1/saved-queries", nil, &list); status != http.StatusOK || len(list.Queries) != 0 {
		t.Fatalf("list after delete: %d %+v", status, list)
	}
	if status, out := run("csv", url.Values{"param_since": {"2025-01-01"}}); status != http.StatusNotFound {
		t.Fatalf("run after delete: %d %s", status, out)
	}
}

// TestSavedQueryRefused: a statement the read-only guard refuses, with its parameters bound,
// cannot be saved, and the answer names why; so does a malformed body.
func TestSavedQueryRefused(t *testing.T) {
	ts, _ := server(t, config.Query{})
	for _, c := range []struct {
		body, want string
	}{
		{`{"name": "drop", "sql": "SELECT 1; DROP TABLE contributions"}`, "second statement"},
		{`{"name": "file", "sql": "SELECT * FROM file({path:String})"}`, "function file not allowed"},
		{`{"name": "log", "sql": "SELECT query FROM system.query_log WHERE user = {u:String}"}`, "system table query_log not allowed"},
		{`{"name": "insert", "sql": "INSERT INTO saved_queries (name) VALUES ({n:String})"}`, "not a read statement"},
		{`{"name": "settings", "sql": "SELECT {n:UInt8} SETTINGS readonly = 0"}`, "SETTINGS clause is not allowed"},
		{`{"name": "ident", "sql": "SELECT * FROM {t:Identifier}"}`, "type Identifier is not supported"},
		{`{"name": "twotypes", "sql": "SELECT {n:UInt8}, {n:String}"}`, "parameter n has two types"},
		{`{"name": "extra", "sql": "SELECT 1", "params": [{"name": "n", "default": "1"}]}`, `"param":"params"`},
		{`{"name": "badtype", "sql": "SELECT {n:UInt8}", "params": [{"name": "n", "type": "String"}]}`, "parameter n is UInt8 in the statement, not String"},
		{`{"name": "Bad Name", "sql": "SELECT 1"}`, `"param":"name"`},
		{`{"name": "empty", "sql": "  "}`, `"param":"sql"`},
		{`{"name": "x", "sql": "SELECT 1", "owner": "me"}`, `unknown field \"owner\"`},
		{`{"name": "x", "sql": "SELECT 1"} {}`, "more than one JSON value"},
		{`{"name": "parse", "sql": "SELECT FROM WHERE"}`, "ClickHouse cannot parse it"},
	} {
		status, out := send(t, ts, http.MethodPost, "/api/v1/saved-queries", "application/json", c.body)
		if status != http.StatusBadRequest || !strings.Contains(out, c.want) {
			t.Errorf("save %s: %d %s, want 400 with %s", c.body, status, out, c.want)
		}
	}
	if status, _ := send(t, ts, http.MethodPost, "/api/v1/saved-queries", "text/plain", `{"name": "x", "sql": "SELECT 1"}`); status != http.StatusUnsupportedMediaType {
		t.Errorf("save as text/plain: %d, want 415", status)
	}
	var list struct{ Queries []store.SavedQuery }
	if status := get(t, ts, "/api/v1/saved-queries", nil, &list); status != http.StatusOK || len(list.Queries) != 0 {
		t.Fatalf("refused queries were saved: %+v", list)
	}
}

// TestConsole shows the schema, the FINAL rule and the examples beside the editor, runs a
// statement of the URL, and gives ClickHouse's reason for a statement that times out.
func TestConsole(t *testing.T) {
	ts, _ := server(t, config.Query{MaxTime: config.Duration(time.Second)})
	status, page := send(t, ts, http.MethodGet, "/query", "", "")
	for _, want := range []string{`data-table="contributions"`, `<td>occurred_at</td><td class="type">DateTime64(3, &#39;UTC&#39;)</td>`,
		`data-table="saved_queries"`, "The FINAL rule", "Upstream contributions by kind", `class="fresh" data-fresh="`} {
		if !strings.Contains(page, want) {
			t.Errorf("the console lacks %s", want)
		}
	}
	if status != http.StatusOK || strings.Contains(page, `id="result"`) || t.Failed() {
		t.Fatalf("console: %d\n%s", status, page)
	}

	sql := "SELECT kind, toUInt32(count()) AS n FROM contributions FINAL WHERE team = 'web' GROUP BY kind ORDER BY kind"
	status, page = send(t, ts, http.MethodGet, "/query?"+url.Values{"sql": {sql}}.Encode(), "", "")
	for _, want := range []string{`<td>comment</td><td>1</td>`, `<td>commit</td><td>1</td>`, `<td>issue</td><td>1</td>`,
		`<td>pull_request</td><td>1</td>`, `<span id="rows-count">4</span>`, `id="csv" href="api/v1/query?format=csv&amp;q=SELECT`} {
		if !strings.Contains(page, want) {
			t.Errorf("the result lacks %s", want)
		}
	}
	if status != http.StatusOK || t.Failed() {
		t.Fatalf("console with sql: %d\n%s", status, page)
	}

	// Reading little, computing long: the time limit (1 s here) ends it, in ClickHouse's words.
	slow := "SELECT count() FROM numbers(1000000) AS a, numbers(1000000) AS b WHERE a.number * b.number = 7"
	status, page = send(t, ts, http.MethodGet, "/query?"+url.Values{"sql": {slow}}.Encode(), "", "")
	if status != http.StatusBadRequest || !strings.Contains(page, "TIMEOUT_EXCEEDED") {
		t.Fatalf("slow statement: %d\n%s", status, page)
	}
	status, out := send(t, ts, http.MethodGet, "/api/v1/query?"+url.Values{"q": {slow}}.Encode(), "", "")
	if status != http.StatusBadRequest || !strings.Contains(out, "TIMEOUT_EXCEEDED") {
		t.Fatalf("slow statement through the API: %d %s", status, out)
	}

	for _, c := range []struct{ query, want string }{
		{"sql=SELECT+1&saved=x", "give either sql or saved"},
		{"sort=1", "sort: unknown parameter"},
		{"param_x=1", "parameters are for a saved query"},
		{"sql=DROP+TABLE+contributions", "not a read statement"},
	} {
		if status, page := send(t, ts, http.MethodGet, "/query?"+c.query, "", ""); status != http.StatusBadRequest || !strings.Contains(page, c.want) {
			t.Errorf("console ?%s: %d, want 400 with %q", c.query, status, c.want)
		}
	}
	if status, page := send(t, ts, http.MethodGet, "/query?saved=nope", "", ""); status != http.StatusNotFound || !strings.Contains(page, "no such saved query") {
		t.Errorf("console with an unknown saved query: %d", status)
	}
}
