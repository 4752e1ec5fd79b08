package report_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/store"
)

// TestAdHocBypassClasses sends, through the real handler and chDB, attempts of each class of
// bypass of the read-only endpoint. Each must be refused with a reason naming its class, or
// (where ClickHouse reads the text harmlessly) run without effect. Afterwards a canary table,
// the list of tables and databases are unchanged and no file's content has been returned.
func TestAdHocBypassClasses(t *testing.T) {
	ts, st := server(t, config.Query{})
	ctx := context.Background()
	if err := st.Conn().Exec(ctx, "CREATE TABLE canary (n UInt8) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	if err := st.Conn().Exec(ctx, "INSERT INTO canary VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("the-secret-line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fingerprint := func() string {
		res, err := st.Query(ctx, `SELECT (SELECT groupArray(n) FROM canary),
			(SELECT arrayStringConcat(groupArray(name), ',') FROM (SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name)),
			(SELECT arrayStringConcat(groupArray(name), ',') FROM (SELECT name FROM system.databases ORDER BY name))`, nil)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(strings.Join([]string{store.AsString(res.Rows[0][0]), store.AsString(res.Rows[0][1]), store.AsString(res.Rows[0][2])}, " | "))
	}
	before := fingerprint()
	if !strings.Contains(before, "canary") || !strings.HasPrefix(before, "[1]") {
		t.Fatalf("fixture: %s", before)
	}
	const ok = "" // the statement runs, harmlessly
	groups := map[string][]struct{ sql, why string }{
		"1 lexing and comments": {
			{"SELECT 1 // it's\n; DROP TABLE canary -- '", "comment form not allowed: //"},
			{"SELECT 1 # it's\n; INSERT INTO canary VALUES (2) -- '", "comment form not allowed: # "},
			{"#!/bin/sh '\nSELECT 1; DROP TABLE canary", "comment form not allowed: #!"},
			{"SELECT #'\n; DROP TABLE canary", "unexpected '#'"},
			{"SELECT $a b$ ' $a b$; DROP TABLE canary -- '", "unexpected '$'"},
			{`SELECT x'41\'; DROP TABLE canary; --'`, "unterminated x''"},
			{"SELECT \u2018a\u2019; DROP TABLE canary", "unexpected character"},
			{"SELECT 1 /* /* */ ; DROP TABLE canary */", ok},
			{"SELECT 1 /* */ ; DROP TABLE canary /* */", "second statement"},
			{"SELECT 'it''s' AS \"a\"\"b\", 1 AS `c\\`d`, $x$;$x$ -- ; DROP TABLE canary", ok},
			{"SELECT 1\\G DROP TABLE canary", "unexpected '\\'"},
		},
		"2 tail and NUL": {
			{"SELECT 1\x00; DROP TABLE canary", "control byte 0x00"},
			{"SELECT 1 \x00", "control byte 0x00"},
			{"SELECT 1\x0b; DROP TABLE canary", "control byte 0x0b"},
			{"SELECT 1\x1a", "control byte 0x1a"},
			{"SELECT 1 /* the limits would follow", "unterminated /* comment"},
			{"SELECT getSetting('readonly') -- the limits would follow", ok},
			{"SELECT 1 SETTINGS readonly = 0", "SETTINGS clause is not allowed"},
			{"SELECT * FROM canary FORMAT TSV", "FORMAT clause is not allowed"},
		},
		"3 second statement": {
			{"SELECT 1; DROP TABLE canary", "second statement"},
			{"SELECT 1;; ", "second statement"},
			{"SELECT ';'; INSERT INTO canary VALUES (3)", "second statement"},
			{"SELECT 1 -- ;\n; CREATE DATABASE evil", "second statement"},
			{"SELECT 1;", ok},
		},
		"4 system tables, databases and table functions": {
			{"SELECT * FROM system.query_log", "system table query_log not allowed"},
			{"SELECT * FROM `system`.`users`", "system table users not allowed"},
			{"SELECT * FROM system.processes", "system table processes not allowed"},
			{"SELECT * FROM system.grants", "system table grants not allowed"},
			{"SELECT 'default' IN system.users", "system table users not allowed"},
			{"WITH (SELECT 1) AS x SELECT x FROM (SELECT * FROM system.settings)", "system table settings not allowed"},
			{"DESCRIBE system.query_log", "system table query_log not allowed"},
			{"EXPLAIN SELECT * FROM system.query_log", "system table query_log not allowed"},
			{"SHOW CREATE TABLE system.users", "system table users not allowed"},
			{"SHOW COLUMNS FROM users FROM system", "system table users not allowed"},
			{"SHOW TABLES FROM system", "database system not allowed"},
			{"SHOW USERS", "SHOW USERS not allowed"},
			{"SHOW GRANTS", "SHOW GRANTS not allowed"},
			{"SHOW PROCESSLIST", "SHOW PROCESSLIST not allowed"},
			{"SHOW DATABASES", "SHOW DATABASES not allowed"},
			{"SELECT * FROM information_schema.tables", "database information_schema not allowed"},
			{"SELECT * FROM default.canary", "database default not allowed"},
			{"SELECT * FROM file('" + secret + "', 'LineAsString')", "function file not allowed"},
			{"SELECT * FROM FILE('" + secret + "', 'LineAsString')", "function FILE not allowed"},
			{"SELECT file('" + secret + "')", "function file not allowed"},
			{"SELECT * FROM generateRandom('a UInt8') LIMIT 1", "table function generaterandom not allowed"},
			{"SELECT * FROM mergeTreeIndex(currentDatabase(), canary)", "table function mergetreeindex not allowed"},
			{"SELECT * FROM numbers(3)", ok},
			{"SELECT count() FROM system.tables WHERE database = currentDatabase()", ok},
			{"SHOW TABLES", ok},
			{"SHOW COLUMNS FROM canary", ok},
			{"SHOW CREATE TABLE canary", ok},
			{"DESCRIBE canary", ok},
			{"EXPLAIN SELECT * FROM canary", ok},
		},
	}
	for group, tests := range groups {
		t.Run(group, func(t *testing.T) {
			for _, tt := range tests {
				status, _, b := postQuery(t, ts.URL, "application/sql", tt.sql, nil)
				if strings.Contains(string(b), "the-secret-line") {
					t.Fatalf("%q read the file: %s", tt.sql, b)
				}
				a := decodeAnswer(t, b)
				if tt.why == ok {
					if status != http.StatusOK {
						t.Errorf("%q: status %d %s; want 200", tt.sql, status, b)
					}
					continue
				}
				if status != http.StatusBadRequest || a.Param != "q" || !strings.Contains(a.Error, tt.why) {
					t.Errorf("%q: status %d error %q; want 400 naming %q", tt.sql, status, a.Error, tt.why)
				}
			}
		})
	}
	if after := fingerprint(); after != before {
		t.Fatalf("the database changed: %s → %s", before, after)
	}
}

// TestAdHocLimits checks that the limits travel with every statement whatever its tail, and
// that memory is bounded.
func TestAdHocLimits(t *testing.T) {
	ts, _ := server(t, config.Query{MaxMemory: 16 << 20, MaxThreads: 1})
	status, _, b := postQuery(t, ts.URL, "application/sql", "SELECT getSetting('max_memory_usage'), getSetting('max_threads'), getSetting('readonly') -- ", nil)
	if a := decodeAnswer(t, b); status != http.StatusOK || len(a.Rows) != 1 || a.Rows[0][0] != float64(16<<20) || a.Rows[0][1] != 1.0 || a.Rows[0][2] != 2.0 {
		t.Fatalf("status %d: %s", status, b)
	}
	status, _, b = postQuery(t, ts.URL, "application/sql", "SELECT length(groupArray(repeat('x', 1000))) FROM numbers(200000)", nil)
	if a := decodeAnswer(t, b); status != http.StatusBadRequest || !strings.Contains(a.Error, "MEMORY_LIMIT_EXCEEDED") {
		t.Fatalf("status %d: %s", status, b)
	}
}

// TestAdHocConcurrency checks that a statement beyond query.max_concurrent is answered 429 with
// Retry-After, and runs once the others are done.
func TestAdHocConcurrency(t *testing.T) {
	ts, _ := server(t, config.Query{MaxConcurrent: 1})
	var wg sync.WaitGroup
	var slow int
	wg.Add(1)
	go func() {
		defer wg.Done()
		slow, _, _ = postQuery(t, ts.URL, "application/sql", "SELECT sleepEachRow(0.5) FROM numbers(3)", nil)
	}()
	time.Sleep(400 * time.Millisecond)
	status, h, b := postQuery(t, ts.URL, "application/sql", "SELECT 1", nil)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q: %s", status, h.Get("Retry-After"), b)
	}
	wg.Wait()
	if slow != http.StatusOK {
		t.Fatalf("the running statement: status %d", slow)
	}
	if status, _, b := postQuery(t, ts.URL, "application/sql", "SELECT 1", nil); status != http.StatusOK {
		t.Fatalf("after: status %d %s", status, b)
	}
}

// TestAdHocCSVFormulas checks that cells a spreadsheet would evaluate are defused, numbers not.
func TestAdHocCSVFormulas(t *testing.T) {
	ts, _ := server(t, config.Query{})
	status, _, b := postQuery(t, ts.URL, "application/sql",
		`SELECT '=HYPERLINK("x")' AS a, '+1+1' AS b, '-2+3' AS c, '@SUM(A1)' AS d, '\tx' AS e, '\rx' AS f, -3 AS g, 'plain' AS h`,
		map[string][]string{"format": {"csv"}})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, b)
	}
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("%v: %q", err, b)
	}
	want := []string{`'=HYPERLINK("x")`, "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "-3", "plain"}
	for i, w := range want {
		if recs[1][i] != w {
			t.Errorf("cell %d = %q, want %q", i, recs[1][i], w)
		}
	}
}
