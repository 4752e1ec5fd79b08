package client_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"giveback.dev/services/report/client"
	"giveback.dev/services/report/query"
)

// fake answers like the report service: a JSON or CSV result, or a 400 with a reason.
func fake(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var body bytes.Buffer
		if _, err := body.ReadFrom(r.Body); err != nil {
			t.Error(err)
		}
		if strings.HasPrefix(body.String(), "DROP") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"query rejected: a query must start with SELECT, WITH, SHOW, DESCRIBE, DESC or EXPLAIN","param":"q"}`))
			return
		}
		if r.URL.Query().Get("format") == "csv" {
			w.Write([]byte("kind,n\nreview,12\n"))
			return
		}
		w.Write([]byte(`{"columns":[{"name":"kind","type":"LowCardinality(String)"},{"name":"n","type":"UInt64"},{"name":"merged_at","type":"Nullable(DateTime64(3, 'UTC'))"}],` +
			`"rows":[["pull_request",1234567,null],["review",12,"2025-01-02 03:04:05.000"]],"rows_count":2,"elapsed_ms":1.5}`))
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestQueryTable(t *testing.T) {
	ts := fake(t)
	var out bytes.Buffer
	if err := client.Query(context.Background(), ts.URL+"/", "SELECT …", "table", &out); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"kind                n  merged_at\n" +
		"------------  -------  -----------------------\n" +
		"pull_request  1234567  NULL\n" +
		"review             12  2025-01-02 03:04:05.000\n" +
		"(2 rows, 1.5 ms)\n"
	if out.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestQueryCSVAndJSON(t *testing.T) {
	ts := fake(t)
	var out bytes.Buffer
	if err := client.Query(context.Background(), ts.URL, "SELECT …", "csv", &out); err != nil || out.String() != "kind,n\nreview,12\n" {
		t.Fatalf("csv %q, %v", out.String(), err)
	}
	out.Reset()
	if err := client.Query(context.Background(), ts.URL, "SELECT …", "json", &out); err != nil || !strings.HasPrefix(out.String(), `{"columns":`) {
		t.Fatalf("json %q, %v", out.String(), err)
	}
}

func TestQueryErrors(t *testing.T) {
	ts := fake(t)
	var out bytes.Buffer
	err := client.Query(context.Background(), ts.URL, "DROP TABLE contributions", "table", &out)
	if err == nil || !strings.Contains(err.Error(), "must start with SELECT") || !strings.Contains(err.Error(), "400") {
		t.Fatalf("refused query: %v", err)
	}
	if err := client.Query(context.Background(), ts.URL, "SELECT 1", "xml", &out); err == nil || !strings.Contains(err.Error(), "table, csv, json") {
		t.Fatalf("bad format: %v", err)
	}
	if err := client.Query(context.Background(), "localhost:8080", "SELECT 1", "", &out); err == nil || !strings.Contains(err.Error(), "http(s) URL") {
		t.Fatalf("bad server: %v", err)
	}
}

func TestWriteTableEmpty(t *testing.T) {
	var out bytes.Buffer
	res := query.Response{Columns: nil, Rows: nil}
	if err := client.WriteTable(&out, res); err != nil || out.String() != "\n\n(0 rows, 0.0 ms)\n" {
		t.Fatalf("%q %v", out.String(), err)
	}
}
