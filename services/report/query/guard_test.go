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
		{"second statement", "SELECT 1; DROP TABLE contributions", "", "second statement"},
		{"second statement after a semicolon and comment", "SELECT 1; -- x\nDROP TABLE contributions", "", "second statement"},
		{"two semicolons", "SELECT 1;;", "", "second statement"},
		{"comment hides nothing", "SELECT 1 -- ; \n; DROP TABLE contributions", "", "second statement"},
		{"block comment ends early", "SELECT 1 /* x */; DROP TABLE contributions /* */", "", "second statement"},
		{"string ends early", "SELECT 'a'; DROP TABLE contributions; SELECT 'b'", "", "second statement"},
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
		{"file function", "SELECT file('/etc/passwd')", "", "function file not allowed"},
		{"file table function", "SELECT * FROM file('/etc/passwd', 'LineAsString')", "", "function file not allowed"},
		{"quoted file function", "SELECT `file`('/etc/passwd')", "", "function file not allowed"},
		{"file with a comment before the parenthesis", "SELECT File /**/ ('/etc/passwd')", "", "function File not allowed"},
		{"url table function", "SELECT * FROM url('http://example.com/', 'LineAsString')", "", "function url not allowed"},
		{"describe url", "DESCRIBE url('http://example.com/x.csv')", "", "function url not allowed"},
		{"s3", "SELECT * FROM s3('https://b.s3.amazonaws.com/x')", "", "function s3 not allowed"},
		{"remote", "SELECT * FROM remote('10.0.0.1', system.one)", "", "function remote not allowed"},
		{"executable", "SELECT * FROM executable('id', 'TSV', 'x String')", "", "function executable not allowed"},
		{"hash comment", "SELECT 1 # note", "", "comment form not allowed: # "},
		{"shebang comment", "#!/usr/bin/clickhouse\nSELECT 1", "", "comment form not allowed: #!"},
		{"slash comment", "SELECT 1 // note", "", "comment form not allowed: //"},
		{"quote in a slash comment", "SELECT 1 // it's\n; DROP TABLE contributions -- '", "", "comment form not allowed"},
		{"bare hash", "SELECT #x", "", "unexpected '#'"},
		{"nul", "SELECT 1\x00; DROP TABLE contributions", "", "control byte 0x00"},
		{"nul at the end", "SELECT 1\x00", "", "control byte 0x00"},
		{"form feed", "SELECT\f1", "", "control byte 0x0c"},
		{"vertical tab", "SELECT\v1", "", "control byte 0x0b"},
		{"escape", "SELECT\x1b1", "", "control byte 0x1b"},
		{"del", "SELECT 1\x7f", "", "control byte 0x7f"},
		{"nul in a string", "SELECT 'a\x00b'", "", "control byte"},
		{"backslash G", "SELECT 1\\G DROP TABLE contributions", "", "unexpected '\\'"},
		{"hex literal", "SELECT x'4142', b'01'", "SELECT x'4142', b'01'", ""},
		{"hex literal with a quote escape", `SELECT x'41\'; DROP TABLE contributions; --'`, "", "unterminated x''"},
		{"heredoc with spaces in the tag", "SELECT $a b$;$a b$", "", "unexpected '$'"},
		{"unicode space", "SELECT\u00a01", "SELECT\u00a01", ""},
		{"unicode quote", "SELECT \u2018a\u2019", "", "unexpected character"},
		{"show users", "SHOW USERS", "", "SHOW USERS not allowed"},
		{"show grants", "SHOW GRANTS", "", "SHOW GRANTS not allowed"},
		{"show processlist", "SHOW PROCESSLIST", "", "SHOW PROCESSLIST not allowed"},
		{"show databases", "SHOW DATABASES", "", "SHOW DATABASES not allowed"},
		{"show create user", "SHOW CREATE USER default", "", "SHOW CREATE not allowed"},
		{"show create table", "SHOW CREATE TABLE contributions", "SHOW CREATE TABLE contributions", ""},
		{"show columns", "SHOW COLUMNS FROM contributions", "SHOW COLUMNS FROM contributions", ""},
		{"dictGet", "SELECT dictGet('d', 'x', 1)", "", "function dictGet not allowed"},
		{"joinGet", "SELECT joinGet('db.t', 'x', 1)", "", "function joinGet not allowed"},
		{"infile", "SELECT 1 FROM INFILE 'x'", "", "INFILE"},
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
		"SELECT 1 // x", "SELECT 1 # x", "#!x\nSELECT 1", "SELECT 1\x00 -- x", "SELECT x'41', b'1'", "SELECT 1\\G",
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
