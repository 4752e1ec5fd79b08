package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// adhocRows collects a streamed result.
type adhocRows struct {
	cols []store.Column
	rows [][]any
}

func (r *adhocRows) Columns(c []store.Column) error { r.cols = c; return nil }
func (r *adhocRows) Row(row []any) error {
	r.rows = append(r.rows, append([]any(nil), row...))
	return nil
}

// noGuard stands for a lexical guard that admits everything: what follows holds on ClickHouse's
// parser alone.
func noGuard(s string) (string, error) { return strings.TrimSpace(s), nil }

// TestAdHocWithoutTheGuard checks the store's own lock with a guard that lets everything
// through: only one statement, of a read kind, on the store's database runs.
func TestAdHocWithoutTheGuard(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	if err := s.Conn().Exec(ctx, "CREATE TABLE canary (n UInt8) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	if err := s.Conn().Exec(ctx, "INSERT INTO canary VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	opts := store.AdHocOptions{Check: noGuard, Settings: store.Settings{"readonly": 2, "max_threads": 1}}
	for _, tt := range []struct{ sql, why string }{
		{"SELECT 1; DROP TABLE canary", "second statement"},
		{"SELECT 1 // x\n; DROP TABLE canary", "second statement"},
		{"INSERT INTO canary VALUES (2)", "InsertQuery is not a read statement"},
		{"DROP TABLE canary", "not a read statement"},
		{"SYSTEM DROP DNS CACHE", "not a read statement"},
		{"SET readonly = 0", "not a read statement"},
		{"SELECT 1 SETTINGS readonly = 0", "SETTINGS clause is not allowed"},
		{"SELECT * FROM system.query_log", "system table query_log not allowed"},
		{"SELECT * FROM system.users", "system table users not allowed"},
		{"SELECT * FROM file('x', 'LineAsString')", "table function file not allowed"},
		{"SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')", "table function url not allowed"},
		{"SELECT * FROM default.t", "database default not allowed"},
		{"SELECT file('x')", "function file not allowed"},
		{"SELECT dictGet('d', 'a', 1)", "function dictget not allowed"},
		{"SELECT joinGet('j', 'a', 1)", "function joinget not allowed"},
		{"EXPLAIN INSERT INTO canary VALUES (2)", "EXPLAIN only of a SELECT"},
		{"SHOW SETTINGS LIKE 'max%'", "only SHOW TABLES"},
		{"SHOW DATABASES", "only SHOW TABLES"},
	} {
		var r adhocRows
		err := s.AdHoc(ctx, tt.sql, opts, &r)
		if err == nil || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("%q: %v; want an error naming %q", tt.sql, err, tt.why)
		}
	}
	var r adhocRows
	if err := s.AdHoc(ctx, "SELECT n, getSetting('max_threads') AS t FROM canary -- tail", opts, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.cols) != 2 || r.cols[0].Name != "n" || len(r.rows) != 1 || store.AsInt(r.rows[0][0]) != 1 || store.AsInt(r.rows[0][1]) != 1 {
		t.Fatalf("got %v %v", r.cols, r.rows)
	}
	res, err := s.Query(ctx, "SELECT count() FROM canary", nil)
	if err != nil || store.AsInt(res.Rows[0][0]) != 1 {
		t.Fatalf("canary: %v %v", res, err)
	}
}

// TestAdHocCancelledBeforeStart checks that a statement whose client has gone never runs.
func TestAdHocCancelledBeforeStart(t *testing.T) {
	s := testkit.Store(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.AdHoc(ctx, "SELECT 1", store.AdHocOptions{Check: noGuard}, &adhocRows{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestReaderUserOnServer runs where GIVEBACK_TEST_CLICKHOUSE_DSN names a server whose user may
// manage access: it creates a reader like deploy/compose/clickhouse-reader.xml's (no DDL,
// grants to read one database and to insert into its saved_queries) and checks that the server
// itself refuses what the store's checks would: DDL, writes but saved queries, the query log;
// and that an ad hoc statement runs with the readonly the store sends.
func TestReaderUserOnServer(t *testing.T) {
	dsn := os.Getenv("GIVEBACK_TEST_CLICKHOUSE_DSN")
	if dsn == "" {
		t.Skip("GIVEBACK_TEST_CLICKHOUSE_DSN is not set")
	}
	s := testkit.Store(t)
	ctx := context.Background()
	res, err := s.Query(ctx, "SELECT currentDatabase()", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := store.AsString(res.Rows[0][0])
	user, password := "giveback_test_reader_"+fmt.Sprint(os.Getpid()), "reader-"+fmt.Sprint(os.Getpid())+"-pw"
	for _, q := range []string{
		"CREATE SETTINGS PROFILE OR REPLACE " + user + " SETTINGS allow_ddl = 0 CONST, max_memory_usage = 536870912 MAX 2147483648, max_threads = 2 MAX 8",
		"CREATE QUOTA OR REPLACE " + user + " FOR INTERVAL 1 hour MAX queries = 20000",
		"CREATE USER OR REPLACE " + user + " IDENTIFIED BY " + store.Quote(password) + " SETTINGS PROFILE " + user,
		"GRANT SELECT, SHOW TABLES, SHOW COLUMNS ON " + store.Ident(db) + ".* TO " + user,
		"GRANT INSERT ON " + store.Ident(db) + ".saved_queries TO " + user,
		"ALTER QUOTA " + user + " TO " + user,
	} {
		if err := s.Conn().Exec(ctx, q); err != nil {
			t.Skipf("the test user may not manage access: %v", err)
		}
	}
	t.Cleanup(func() {
		for _, q := range []string{"DROP USER IF EXISTS " + user, "DROP QUOTA IF EXISTS " + user, "DROP SETTINGS PROFILE IF EXISTS " + user} {
			_ = s.Conn().Exec(context.Background(), q)
		}
	})
	conn, err := store.Open(ctx, store.Options{DSN: dsn, Database: db, User: user, Password: password, Reader: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reader := store.New(conn)
	if err := conn.Exec(ctx, "CREATE TABLE x (n UInt8) ENGINE = Memory"); err == nil {
		t.Error("the reader created a table")
	}
	if _, err := reader.Query(ctx, "SELECT count() FROM system.query_log", nil); err == nil {
		t.Error("the reader read system.query_log")
	}
	if err := conn.Exec(ctx, "INSERT INTO contributions (id) VALUES ('x')"); err == nil {
		t.Error("the reader wrote a contribution")
	}
	if err := reader.SaveQuery(ctx, store.SavedQuery{Name: "x", SQL: "SELECT 1"}, time.Now()); err != nil {
		t.Errorf("the reader cannot save a query: %v", err)
	}
	var r adhocRows
	opts := store.AdHocOptions{Check: noGuard, Settings: store.Settings{"readonly": 2, "max_threads": 1, "max_memory_usage": 64 << 20}}
	if err := reader.AdHoc(ctx, "SELECT getSetting('readonly'), getSetting('max_threads') FROM schema_migrations LIMIT 1", opts, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.rows) != 1 || store.AsInt(r.rows[0][0]) != 2 || store.AsInt(r.rows[0][1]) != 1 {
		t.Fatalf("got %v", r.rows)
	}
}

// TestAdHocHoldsOneClient checks how the embedded engine shares itself with ad hoc statements:
// a service's statements (six in a row, as a dashboard page sends them) that arrive while an ad
// hoc statement runs do not wait for it, and a second ad hoc statement waits for the first.
func TestAdHocHoldsOneClient(t *testing.T) {
	s := testkit.Store(t)
	if s.Conn().Driver() != "chdb" {
		t.Skip("the ad hoc statements of a ClickHouse server are bounded by its reader's profile")
	}
	ctx := context.Background()
	opts := store.AdHocOptions{Check: noGuard, MaxConcurrent: 4}
	done := make(chan string, 3)
	go func() {
		if err := s.AdHoc(ctx, "SELECT sleepEachRow(0.3) FROM numbers(3)", opts, &adhocRows{}); err != nil {
			t.Error(err)
		}
		done <- "slow ad hoc"
	}()
	time.Sleep(300 * time.Millisecond)
	go func() {
		if err := s.AdHoc(ctx, "SELECT 1", opts, &adhocRows{}); err != nil {
			t.Error(err)
		}
		done <- "second ad hoc"
	}()
	time.Sleep(100 * time.Millisecond)
	go func() {
		for range 6 {
			if _, err := s.Query(ctx, "SELECT 1", nil); err != nil {
				t.Error(err)
			}
		}
		done <- "service"
	}()
	var order []string
	for range 3 {
		order = append(order, <-done)
	}
	if strings.Join(order, ", ") != "service, slow ad hoc, second ad hoc" {
		t.Fatalf("finished in the order %v, want the service's statements first and the ad hoc ones in turn", order)
	}
}

// TestStatementsRunAtOnce checks that the store runs statements side by side: while one runs,
// another sees it in system.processes. Were they run one at a time, the second would run only
// after the first ended and never see it.
func TestStatementsRunAtOnce(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	const slow = "SELECT sleepEachRow(0.25), 'run-at-once' FROM numbers(8) SETTINGS max_block_size = 1"
	ended := make(chan error, 1)
	go func() {
		_, err := s.Query(ctx, slow, nil)
		ended <- err
	}()
	for {
		res, err := s.Query(ctx, "SELECT count() FROM system.processes WHERE query LIKE '%run-at-once%' AND query NOT LIKE '%system.processes%'", nil)
		if err != nil {
			t.Fatal(err)
		}
		if store.AsInt(res.Rows[0][0]) == 1 {
			break
		}
		select {
		case err := <-ended:
			t.Fatalf("the slow statement ended (%v) before another statement could see it running: statements run one at a time", err)
		default:
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := <-ended; err != nil {
		t.Fatal(err)
	}
}

// TestNumbersKeepTheirFraction: a number with a fraction reaches the metrics and the console as
// a float64, whole numbers as int64 (uint64 past int64), through both ways of reading results.
func TestNumbersKeepTheirFraction(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	const q = "SELECT 0.5 AS half, toFloat64(1) / 4 AS quarter, -2.5e-7 AS tiny, toUInt64(18446744073709551615) AS big, -3 AS neg, [1.5, 2.25] AS arr"
	check := func(how string, row []any) {
		t.Helper()
		want := []any{0.5, 0.25, -2.5e-7, uint64(18446744073709551615), int64(-3), []any{1.5, 2.25}}
		if fmt.Sprintf("%#v", row) != fmt.Sprintf("%#v", want) {
			t.Errorf("%s: got %#v, want %#v", how, row, want)
		}
	}
	res, err := s.Query(ctx, q, nil)
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("query: %v %v", res, err)
	}
	check("Query", res.Rows[0])
	var r adhocRows
	if err := s.AdHoc(ctx, q, store.AdHocOptions{Check: noGuard, Settings: store.Settings{"readonly": 2}}, &r); err != nil || len(r.rows) != 1 {
		t.Fatalf("ad hoc: %v %v", r.rows, err)
	}
	check("AdHoc", r.rows[0])
}
