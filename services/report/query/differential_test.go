//go:build chdb

package query_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"giveback.dev/platform/store"
	"giveback.dev/services/report/query"
)

var (
	diffOnce  sync.Once
	diffStore *store.Store
	diffErr   error
)

// diffDB opens this process's chDB session (each fuzz worker is a process of its own) with a
// table t in the database fuzz.
func diffDB(f *testing.F) *store.Store {
	diffOnce.Do(func() {
		var c store.Conn
		c, diffErr = store.Open(context.Background(), store.Options{DSN: "chdb://" + f.TempDir(), Database: "fuzz"})
		if diffErr != nil {
			return
		}
		diffStore = store.New(c)
		diffErr = c.Exec(context.Background(), "CREATE TABLE IF NOT EXISTS t (a UInt64, s String) ENGINE = MergeTree ORDER BY a")
	})
	if diffErr != nil {
		f.Fatal(diffErr)
	}
	return diffStore
}

// lexerSeeds hold every comment form, quoting form, escape, heredoc and control byte of
// ClickHouse's lexer (src/Parsers/Lexer.cpp), each in a statement and next to a second one.
var lexerSeeds = []string{
	"SELECT 1", "SELECT 1;", "SELECT 1;;", "SELECT 1; DROP TABLE t", "SELECT a FROM t",
	"SELECT 1 -- c\n", "SELECT 1 -- c'\n; DROP TABLE t", "SELECT 1 --c", "SELECT 1 // c'\n; DROP TABLE t",
	"SELECT 1 # c'\n; DROP TABLE t", "#!/x'\nSELECT 1", "SELECT 1 #!c", "SELECT #x", "SELECT 1 /* c */",
	"SELECT 1 /* /* ' */ ; */", "SELECT 1 /* ; DROP TABLE t", "SELECT 1 /*/ ; */ 2", "SELECT 1 */",
	"SELECT 'a'", "SELECT 'a''b'", `SELECT 'a\'b'`, `SELECT 'a\\'; DROP TABLE t; --'`, `SELECT 'a\'; DROP TABLE t; --'`,
	`SELECT "a" FROM t`, `SELECT "a""b"`, `SELECT "a\"b"`, "SELECT `a`", "SELECT `a``b`", "SELECT `a\\`b`",
	"SELECT x'41'", "SELECT X'4'", "SELECT b'01'", "SELECT B'2'", `SELECT x'41\'; DROP TABLE t; --'`,
	"SELECT $$a$$", "SELECT $x$;'$x$", "SELECT $x$a$y$", "SELECT $a b$;$a b$", "SELECT $", "SELECT a$b$c",
	"SELECT \u2018a\u2019", "SELECT \u201ca\u201d", "SELECT\u00a01", "SELECT\u30001", "SELECT 1\\G", "SELECT 1 \\",
	"SELECT 1\x00; DROP TABLE t", "SELECT\t1\r\n", "SELECT\f1", "SELECT\v1", "SELECT 1\x1a", "SELECT 1\x7f",
	"SELECT 1 SETTINGS readonly=0", "SELECT 1 FORMAT CSV", "SELECT 1 INTO OUTFILE 'x'", "SELECT 1. SETTINGS readonly=0",
	"SELECT * FROM system.query_log", "SELECT * FROM `system`.\"users\"", "SELECT * FROM numbers(3)", "SELECT * FROM file('x')",
	"SELECT 1 IN system.users", "SHOW TABLES", "SHOW TABLES FROM system", "SHOW CREATE TABLE t", "SHOW COLUMNS FROM t",
	"DESCRIBE t", "DESC file('x')", "EXPLAIN SELECT 1", "EXPLAIN PIPELINE SELECT a FROM t", "WITH 1 AS x SELECT x",
	"SELECT 1 UNION ALL SELECT 2", "SELECT 1 x.1.1", "SELECT 0x1p-2, 1e-3, .5, 1_000", "(SELECT 1)", "SELECT 1 -> 2",
}

// allowedRoots are the syntax trees a statement the store admits may have, checked here
// independently of the store's own walk.
var allowedRoots = map[string]bool{"SelectWithUnionQuery": true, "ShowTables": true, "ShowColumns": true,
	"ShowCreateTableQuery": true, "DescribeQuery": true, "Explain": true}

// FuzzDifferential compares the guard with ClickHouse's parser. Whenever query.Check accepts a
// string, ClickHouse must read it (formatQuery, which never runs it) as exactly one statement,
// the same one as the guard's trimmed form; and whenever the store admits it, the syntax tree of
// the canonical form must be SELECT-like and name no table function, database or system table
// outside the allow lists.
func FuzzDifferential(f *testing.F) {
	for _, s := range lexerSeeds {
		f.Add(s)
	}
	st := diffDB(f)
	ctx := context.Background()
	format := func(s string) (string, error) {
		res, err := st.Query(ctx, "SELECT formatQuery("+store.Quote(s)+")", nil)
		if err != nil {
			return "", err
		}
		return store.AsString(res.Rows[0][0]), nil
	}
	f.Fuzz(func(t *testing.T, sql string) {
		trimmed, err := query.Check(sql)
		if err != nil {
			return
		}
		whole, err := format(sql)
		if err != nil && strings.Contains(err.Error(), "Multi-statements") {
			t.Fatalf("the guard accepted %q, which ClickHouse reads as several statements", sql)
		}
		if err == nil {
			again, err := format(trimmed)
			if err != nil || again != whole {
				t.Fatalf("the guard's form %q of %q reads as %q (%v), the whole as %q", trimmed, sql, again, err, whole)
			}
		}
		canonical, err := st.Canonical(ctx, sql, query.Check)
		if err != nil {
			if !errors.Is(err, query.ErrRejected) && !errors.Is(err, store.ErrRefused) && !strings.Contains(err.Error(), "DB::Exception") {
				t.Fatalf("Canonical(%q): %v", sql, err)
			}
			return
		}
		tree, err := st.Query(ctx, "EXPLAIN AST "+canonical, nil)
		if err != nil {
			t.Fatalf("EXPLAIN AST of admitted %q: %v", canonical, err)
		}
		for i, r := range tree.Rows {
			line := store.AsString(r[0])
			kind, rest, _ := strings.Cut(strings.TrimLeft(line, " "), " ")
			if i == 0 && !allowedRoots[kind] {
				t.Fatalf("admitted %q is a %s", canonical, kind)
			}
			name, _, _ := strings.Cut(rest, " ")
			name = strings.ToLower(strings.ReplaceAll(name, "`", ""))
			switch {
			case kind == "TableIdentifier" && strings.Contains(name, ".") &&
				!strings.HasPrefix(name, "fuzz.") && name != "system.tables" && name != "system.columns" &&
				name != "system.one" && name != "system.numbers" && name != "system.numbers_mt" &&
				name != "system.zeros" && name != "system.zeros_mt":
				t.Fatalf("admitted %q reads %s", canonical, name)
			case kind == "Function" && query.Outside(name):
				t.Fatalf("admitted %q calls %s", canonical, name)
			case kind == "Set":
				t.Fatalf("admitted %q carries settings", canonical)
			}
			if kind == "Function" && i > 0 && strings.HasPrefix(strings.TrimLeft(store.AsString(tree.Rows[i-1][0]), " "), "TableExpression") &&
				!store.AllowedTableFunctions[name] {
				t.Fatalf("admitted %q uses table function %s", canonical, name)
			}
		}
	})
}
