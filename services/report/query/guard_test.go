package query

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want string // the statement returned; "" when refused
		why  string // a word of the reason when refused
	}{
		{"select", "SELECT 1", "SELECT 1", ""},
		{"lower case and spaces", "  select count() from contributions  ", "select count() from contributions", ""},
		{"with", "WITH 1 AS x SELECT x", "WITH 1 AS x SELECT x", ""},
		{"show", "SHOW TABLES", "SHOW TABLES", ""},
		{"describe", "DESCRIBE TABLE contributions", "DESCRIBE TABLE contributions", ""},
		{"desc", "desc contributions", "desc contributions", ""},
		{"explain", "EXPLAIN SELECT 1", "EXPLAIN SELECT 1", ""},
		{"trailing semicolon", "SELECT 1;", "SELECT 1", ""},
		{"trailing semicolon and comment", "SELECT 1; -- done\n", "SELECT 1", ""},
		{"trailing line comment is cut", "SELECT 1 -- the SETTINGS would be commented out", "SELECT 1", ""},
		{"trailing hash comment is cut", "SELECT 1 # note", "SELECT 1", ""},
		{"trailing block comment is cut", "SELECT 1 /* note */", "SELECT 1", ""},
		{"semicolon in a string", "SELECT 'a;b'", "SELECT 'a;b'", ""},
		{"semicolon in an escaped string", `SELECT 'it\'s; fine', 'it''s; fine'`, `SELECT 'it\'s; fine', 'it''s; fine'`, ""},
		{"semicolon in a quoted identifier", "SELECT 1 AS `a;b`, 2 AS \"c;d\"", "SELECT 1 AS `a;b`, 2 AS \"c;d\"", ""},
		{"semicolon in a heredoc", "SELECT $$a;b$$, $x$c;d$x$", "SELECT $$a;b$$, $x$c;d$x$", ""},
		{"semicolon in a comment", "SELECT 1 /* ; */ + 1", "SELECT 1 /* ; */ + 1", ""},
		{"nested comment", "SELECT 1 /* a /* ; */ b */ + 1", "SELECT 1 /* a /* ; */ b */ + 1", ""},
		{"keyword in a string", "SELECT 'FORMAT CSV SETTINGS readonly=0'", "SELECT 'FORMAT CSV SETTINGS readonly=0'", ""},
		{"format function", "SELECT format('{} {}', 'a', 'b')", "SELECT format('{} {}', 'a', 'b')", ""},
		{"system.settings table", "SELECT name FROM system.settings WHERE changed", "SELECT name FROM system.settings WHERE changed", ""},
		{"system.formats table", "SELECT * FROM system.formats", "SELECT * FROM system.formats", ""},
		{"url column", "SELECT url FROM contributions", "SELECT url FROM contributions", ""},
		{"dollar identifier", "SELECT 1 AS a$b", "SELECT 1 AS a$b", ""},

		{"empty", "", "", "empty"},
		{"only a comment", "-- nothing", "", "empty"},
		{"only a semicolon", ";", "", "empty"},
		{"insert", "INSERT INTO contributions (id) VALUES ('x')", "", "must start"},
		{"drop", "DROP TABLE contributions", "", "must start"},
		{"truncate", "TRUNCATE TABLE contributions", "", "must start"},
		{"alter", "ALTER TABLE contributions DELETE WHERE 1", "", "must start"},
		{"set", "SET readonly = 0", "", "must start"},
		{"system", "SYSTEM STOP MERGES", "", "must start"},
		{"parenthesised", "(SELECT 1)", "", "must start"},
		{"second statement", "SELECT 1; DROP TABLE contributions", "", "one statement"},
		{"second statement after a semicolon and comment", "SELECT 1; -- x\nDROP TABLE contributions", "", "one statement"},
		{"two semicolons", "SELECT 1;;", "", "one statement"},
		{"comment hides nothing", "SELECT 1 -- ; \n; DROP TABLE contributions", "", "one statement"},
		{"block comment ends early", "SELECT 1 /* x */; DROP TABLE contributions /* */", "", "one statement"},
		{"string ends early", "SELECT 'a'; DROP TABLE contributions; SELECT 'b'", "", "one statement"},
		{"escaped quote does not end the string", `SELECT 'a\'; DROP TABLE contributions; --'`, `SELECT 'a\'; DROP TABLE contributions; --'`, ""},
		{"unterminated string", "SELECT 'a; DROP TABLE contributions", "", "unterminated"},
		{"unterminated identifier", "SELECT `a; DROP TABLE contributions", "", "unterminated"},
		{"unterminated comment", "SELECT 1 /* ; DROP TABLE contributions", "", "unterminated"},
		{"unterminated nested comment", "SELECT 1 /* /* */ ; DROP TABLE contributions", "", "unterminated"},
		{"unterminated heredoc", "SELECT $$a; DROP TABLE contributions", "", "unterminated"},
		{"settings smuggling", "SELECT 1 SETTINGS readonly = 0", "", "SETTINGS"},
		{"settings in a subquery", "SELECT * FROM (SELECT 1 SETTINGS readonly=0)", "", "SETTINGS"},
		{"settings after a comment", "SELECT 1 /* */SETTINGS readonly=0", "", "SETTINGS"},
		{"settings after a number and a dot", "SELECT 1. SETTINGS readonly=0", "", "SETTINGS"},
		{"settings after a no-break space", "SELECT 1\u00a0SETTINGS readonly=0", "", "SETTINGS"},
		{"show settings", "SHOW SETTINGS LIKE 'max%'", "", "SETTINGS"},
		{"format clause", "SELECT 1 FORMAT CSV", "", "FORMAT"},
		{"format clause lower case", "select 1 format JSONEachRow", "", "FORMAT"},
		{"into outfile", "SELECT 1 INTO OUTFILE '/tmp/x'", "", "OUTFILE"},
		{"file function", "SELECT file('/etc/passwd')", "", "file()"},
		{"file table function", "SELECT * FROM file('/etc/passwd', 'LineAsString')", "", "file()"},
		{"quoted file function", "SELECT `file`('/etc/passwd')", "", "file()"},
		{"file with a comment before the parenthesis", "SELECT File /**/ ('/etc/passwd')", "", "File()"},
		{"url table function", "SELECT * FROM url('http://example.com/', 'LineAsString')", "", "url()"},
		{"describe url", "DESCRIBE url('http://example.com/x.csv')", "", "url()"},
		{"s3", "SELECT * FROM s3('https://b.s3.amazonaws.com/x')", "", "s3()"},
		{"remote", "SELECT * FROM remote('10.0.0.1', system.one)", "", "remote()"},
		{"executable", "SELECT * FROM executable('id', 'TSV', 'x String')", "", "executable()"},
		{"too long", "SELECT '" + strings.Repeat("x", MaxLen) + "'", "", "longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(tt.sql)
			if tt.want != "" {
				if err != nil {
					t.Fatalf("Check(%q): %v", tt.sql, err)
				}
				if got != tt.want {
					t.Fatalf("Check(%q) = %q, want %q", tt.sql, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) accepted %q", tt.sql, got)
			}
			if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("Check(%q): %v; want a rejection mentioning %q", tt.sql, err, tt.why)
			}
		})
	}
}

// FuzzGuard checks that Check never panics, and that what it accepts is one statement: it starts
// with a read keyword, has no statement separator outside strings and comments, does not end
// inside a comment (which would swallow an appended SETTINGS clause) and is accepted again
// unchanged.
func FuzzGuard(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SELECT 1;", "SELECT 1; DROP TABLE contributions", "SELECT 'a;b'", "SELECT `a;b`",
		"SELECT 1 -- x", "SELECT 1 /* /* */ */", "SELECT $$;$$", "SELECT $a$;$a$", `SELECT 'a\';'`,
		"SELECT 1 SETTINGS readonly=0", "WITH x AS (SELECT 1) SELECT * FROM x", "EXPLAIN SELECT 1 # c\n",
		"SHOW TABLES", "DESC t", "SELECT \"a\"\"b\"", "SELECT 'it''s'", "SELECT file('x')", "SELECT 1.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmt, err := Check(sql)
		if err != nil {
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("Check(%q): error %v does not wrap ErrRejected", sql, err)
			}
			return
		}
		toks, err := lex(stmt)
		if err != nil {
			t.Fatalf("Check(%q) = %q, which does not lex: %v", sql, stmt, err)
		}
		for _, tk := range toks {
			if tk.kind == punct && tk.text == ";" {
				t.Fatalf("Check(%q) = %q holds a ';'", sql, stmt)
			}
		}
		if len(toks) == 0 || toks[len(toks)-1].end != len(stmt) {
			t.Fatalf("Check(%q) = %q does not end on a token", sql, stmt)
		}
		if !leading[strings.ToUpper(toks[0].text)] {
			t.Fatalf("Check(%q) = %q starts with %q", sql, stmt, toks[0].text)
		}
		again, err := Check(stmt)
		if err != nil || again != stmt {
			t.Fatalf("Check(Check(%q)) = %q, %v; want %q", sql, again, err, stmt)
		}
		if !strings.Contains(sql, stmt) {
			t.Fatalf("Check(%q) = %q is not part of the input", sql, stmt)
		}
	})
}
