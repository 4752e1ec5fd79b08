package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/services/report/client"
	"giveback.dev/services/report/query"
)

type queryAnswer struct {
	Columns   []store.Column `json:"columns"`
	Rows      [][]any        `json:"rows"`
	RowsCount int            `json:"rows_count"`
	ElapsedMS *float64       `json:"elapsed_ms"`
	Error     string         `json:"error"`
	Param     string         `json:"param"`
}

func postQuery(t *testing.T, base, contentType, body string, params url.Values) (int, http.Header, []byte) {
	t.Helper()
	u := base + "/api/v1/query"
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := http.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func decodeAnswer(t *testing.T, b []byte) queryAnswer {
	t.Helper()
	var a queryAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return a
}

func TestQueryJSON(t *testing.T) {
	ts, _ := server(t, config.Query{})
	sql := "SELECT kind, count() AS n FROM contributions FINAL WHERE occurred_at >= '2025-01-01' AND occurred_at < '2025-04-01' GROUP BY kind ORDER BY kind;"
	check := func(name string, status int, b []byte) {
		t.Helper()
		if status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", name, status, b)
		}
		a := decodeAnswer(t, b)
		wantCols := []store.Column{{Name: "kind", Type: "LowCardinality(String)"}, {Name: "n", Type: "UInt64"}}
		wantRows := [][]any{{"comment", 3.0}, {"commit", 1.0}, {"issue", 1.0}, {"pull_request", 5.0}, {"review", 1.0}}
		if !reflect.DeepEqual(a.Columns, wantCols) || !reflect.DeepEqual(a.Rows, wantRows) || a.RowsCount != 5 || a.ElapsedMS == nil {
			t.Fatalf("%s: got %s", name, b)
		}
	}
	status, _, b := postQuery(t, ts.URL, "application/sql", sql, nil)
	check("POST body", status, b)
	// The bodies a browser sends cross-site without a preflight are refused.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		status, _, b = postQuery(t, ts.URL, ct, sql, nil)
		if status != http.StatusUnsupportedMediaType || !strings.Contains(string(b), "application/sql") {
			t.Fatalf("POST %q: status %d: %s; want 415 naming application/sql", ct, status, b)
		}
	}
	resp, err := http.Get(ts.URL + "/api/v1/query?" + url.Values{"q": {sql}, "format": {"json"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	check("GET", resp.StatusCode, b)
}

func TestQueryCSV(t *testing.T) {
	ts, st := server(t, config.Query{})
	tricky := contribution("issue:a/b#9", events.KindIssue, "2025-02-01 00:00", "e1", "core", "a/b", true)
	tricky.Title = "comma, \"quote\"\nand newline"
	if err := st.InsertContributions(context.Background(), []events.Contribution{tricky}); err != nil {
		t.Fatal(err)
	}
	status, hdr, b := postQuery(t, ts.URL, "application/sql", "SELECT id, title, number, merged_at FROM contributions FINAL WHERE id = 'issue:a/b#9'", url.Values{"format": {"csv"}})
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d, %s: %s", status, hdr.Get("Content-Type"), b)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	want := [][]string{{"id", "title", "number", "merged_at"}, {"issue:a/b#9", tricky.Title, "0", ""}}
	if !reflect.DeepEqual(recs, want) {
		t.Fatalf("csv %q, want %q", recs, want)
	}
}

// TestQueryRefused sends writes, drops and smuggling attempts, each answered 400 with the
// reason, and then checks that nothing changed.
func TestQueryRefused(t *testing.T) {
	ts, st := server(t, config.Query{})
	ctx := context.Background()
	fingerprint := func() string {
		res, err := st.Query(ctx, "SELECT count(), arrayStringConcat(groupArray(name), ',') FROM (SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name)", nil)
		if err != nil {
			t.Fatal(err)
		}
		res2, err := st.Query(ctx, "SELECT count(), sum(cityHash64(id, version)) FROM contributions", nil)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(strings.Join([]string{store.AsString(res.Rows[0][1]), store.AsString(res2.Rows[0][0]), store.AsString(res2.Rows[0][1])}, " "))
	}
	before := fingerprint()
	tests := []struct{ sql, why string }{
		{"INSERT INTO contributions (id, kind, occurred_at) VALUES ('x', 'commit', now())", "must start"},
		{"DROP TABLE contributions", "must start"},
		{"TRUNCATE TABLE contributions", "must start"},
		{"ALTER TABLE contributions DELETE WHERE 1", "must start"},
		{"SELECT 1; DROP TABLE contributions", "second statement"},
		{"SELECT 1 /* ; */; DROP TABLE contributions", "second statement"},
		{"SELECT 1 -- ;\n; TRUNCATE TABLE contributions", "second statement"},
		{"SELECT 'x'; INSERT INTO contributions (id) VALUES ('y')", "second statement"},
		{"SELECT 1 SETTINGS readonly = 0", "SETTINGS"},
		{"SELECT * FROM contributions FORMAT CSV", "FORMAT"},
		{"SELECT * FROM contributions INTO OUTFILE '/tmp/out.csv'", "OUTFILE"},
		{"SELECT file('/etc/hostname')", "function file not allowed"},
		{"DESCRIBE file('/etc/hostname', 'LineAsString')", "function file not allowed"},
		{"SELECT * FROM executablePool('x', 'TSV', 'a String')", "function executablePool not allowed"},
		{"WITH 1 AS x SELECT * FROM numbers(10) WHERE throwIf(x = 1, 'boom')", "boom"},
		{"SELECT nope FROM contributions", "nope"},
	}
	for _, tt := range tests {
		status, _, b := postQuery(t, ts.URL, "application/sql", tt.sql, nil)
		a := decodeAnswer(t, b)
		if status != http.StatusBadRequest || a.Param != "q" || !strings.Contains(a.Error, tt.why) {
			t.Errorf("%q: status %d error %q param %q; want 400 naming %q", tt.sql, status, a.Error, a.Param, tt.why)
		}
	}
	if after := fingerprint(); after != before {
		t.Fatalf("the database changed: %s → %s", before, after)
	}
}

// TestQueryReadOnlyEnforced checks the second lock on its own: the settings the endpoint runs
// with refuse a write that reaches ClickHouse, and they are not swallowed by a trailing comment.
func TestQueryReadOnlyEnforced(t *testing.T) {
	ts, st := server(t, config.Query{})
	if _, err := st.Query(context.Background(), "INSERT INTO contributions (id) SELECT 'x'", query.Settings(config.Query{})); err == nil {
		t.Fatal("an INSERT ran under the ad hoc settings")
	}
	status, _, b := postQuery(t, ts.URL, "application/sql", "SELECT getSetting('readonly') AS ro, getSetting('result_overflow_mode') AS overflow -- a trailing comment", nil)
	a := decodeAnswer(t, b)
	if status != http.StatusOK || len(a.Rows) != 1 || a.Rows[0][0] != 2.0 || a.Rows[0][1] != "throw" {
		t.Fatalf("status %d: %s", status, b)
	}
}

func TestQueryLimits(t *testing.T) {
	ts, _ := server(t, config.Query{MaxRowsOut: 5})
	status, _, b := postQuery(t, ts.URL, "application/sql", "SELECT number FROM system.numbers LIMIT 100", nil)
	a := decodeAnswer(t, b)
	if status != http.StatusBadRequest || !strings.Contains(a.Error, "TOO_MANY_ROWS") {
		t.Fatalf("status %d: %s", status, b)
	}
	status, _, b = postQuery(t, ts.URL, "application/sql", "SELECT number FROM system.numbers LIMIT 5", nil)
	if a := decodeAnswer(t, b); status != http.StatusOK || a.RowsCount != 5 {
		t.Fatalf("status %d: %s", status, b)
	}
}

func TestQueryBadRequests(t *testing.T) {
	ts, _ := server(t, config.Query{})
	tests := []struct {
		params      url.Values
		body, param string
	}{
		{nil, "", "q"},
		{url.Values{"format": {"xml"}}, "SELECT 1", "format"},
		{url.Values{"fmt": {"csv"}}, "SELECT 1", "fmt"},
		{url.Values{"q": {"SELECT 1"}}, "SELECT 2", "q"},
		{nil, "SELECT '" + strings.Repeat("x", query.MaxLen) + "'", "q"},
	}
	for _, tt := range tests {
		status, _, b := postQuery(t, ts.URL, "application/sql", tt.body, tt.params)
		if a := decodeAnswer(t, b); status != http.StatusBadRequest || a.Param != tt.param || a.Error == "" {
			t.Errorf("%v %.40q: status %d %s; want 400 naming %s", tt.params, tt.body, status, b, tt.param)
		}
	}
}

// TestClientAgainstServer runs the CLI's client against the real handler.
func TestClientAgainstServer(t *testing.T) {
	ts, _ := server(t, config.Query{})
	var out bytes.Buffer
	err := client.Query(context.Background(), ts.URL, "SELECT team, count() AS n FROM contributions FINAL WHERE team != '' GROUP BY team ORDER BY team", "table", &out)
	if err != nil {
		t.Fatal(err)
	}
	if got := regexp.MustCompile(`[0-9.]+ ms\)`).ReplaceAllString(out.String(), "X ms)"); got != "team  n\n----  -\ncore  9\nweb   4\n(2 rows, X ms)\n" {
		t.Fatalf("table:\n%s", out.String())
	}
	err = client.Query(context.Background(), ts.URL, "SELECT 1; DROP TABLE contributions", "table", &out)
	if err == nil || !strings.Contains(err.Error(), "second statement") {
		t.Fatalf("refused query: %v", err)
	}
}
