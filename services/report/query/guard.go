// Package query runs the ad hoc, read-only SQL of the report service: a guard that admits one
// read statement, the limits it runs with, and writers that render a result as JSON or CSV while
// it is read.
//
// The guard is the first of three locks. The second is ClickHouse's own parser: the store
// (store.AdHoc) runs only the canonical text formatQuery prints for the statement, after this
// guard has read that text too and the statement's syntax tree has passed the allow lists of
// tables, databases and table functions; the text as sent never runs. The third is ClickHouse's
// read-only mode and limits (Settings): on a server they come with the reader user's profile and
// travel in the protocol; on chDB they follow the canonical text, which holds no comment and no
// control byte that could cut them off. The guard stays because it names what is wrong in the
// terms of the text the user wrote, and because it costs microseconds where the parser costs
// round trips.
package query

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen is the longest statement the guard reads, in bytes.
const MaxLen = 64 << 10

// ErrRejected is wrapped by every error Check returns.
var ErrRejected = errors.New("query rejected")

// leading lists the words a read statement may start with.
var leading = map[string]bool{
	"SELECT": true, "WITH": true, "SHOW": true, "DESCRIBE": true, "DESC": true, "EXPLAIN": true,
}

// clauses are keywords the guard refuses anywhere, with the reason given to the user.
var clauses = map[string]string{
	"FORMAT":   "a FORMAT clause is not allowed: choose the output with the format parameter (json or csv)",
	"SETTINGS": "a SETTINGS clause is not allowed: the server sets the query's limits and read-only mode",
	"OUTFILE":  "INTO OUTFILE is not allowed: the result is returned in the response",
	"INFILE":   "FROM INFILE is not allowed: ad hoc queries read Giveback's database only",
}

// outside lists functions (table and scalar) that read files, run programs or reach other
// servers. readonly=1 does not stop all of them (file() and DESCRIBE file() are allowed by it), so
// the guard refuses them by name. Compared in lower case.
var outside = map[string]bool{}

func init() {
	for _, f := range []string{
		"file", "fileCluster", "url", "urlCluster", "s3", "s3Cluster", "gcs", "oss", "cosn",
		"azureBlobStorage", "azureBlobStorageCluster", "hdfs", "hdfsCluster",
		"remote", "remoteSecure", "cluster", "clusterAllReplicas",
		"mysql", "postgresql", "sqlite", "mongodb", "redis", "jdbc", "odbc", "arrowFlight", "ytsaurus",
		"executable", "executablePool", "input", "catboostEvaluate", "naiveBayesClassifier",
		"hasColumnInTable", "merge", "view", "viewIfPermitted", "loop", "fuzzJSON", "fuzzQuery",
		"iceberg", "icebergS3", "icebergAzure", "icebergHDFS", "icebergLocal", "icebergCluster", "icebergS3Cluster",
		"icebergAzureCluster", "icebergHDFSCluster",
		"deltaLake", "deltaLakeS3", "deltaLakeAzure", "deltaLakeLocal", "deltaLakeCluster", "deltaLakeS3Cluster",
		"deltaLakeAzureCluster", "hudi", "hudiCluster", "hive", "paimon", "paimonS3", "paimonAzure", "paimonHDFS",
		"paimonLocal",
	} {
		outside[strings.ToLower(f)] = true
	}
}

type tokenKind int

const (
	word    tokenKind = iota // a bare word: keyword, identifier or number
	quoted                   // a quoted identifier: `x` or "x"
	literal                  // a string literal: 'x' or $tag$x$tag$
	punct                    // one character of punctuation
)

type token struct {
	kind       tokenKind
	text       string // the word, the identifier without quotes, or the punctuation
	start, end int
}

// Check admits one read-only statement and returns it ready to run: leading and trailing
// comments and spaces and the trailing semicolon removed. It returns an error wrapping
// ErrRejected, whose text starts with the class of the refusal ("control byte", "comment form
// not allowed", "second statement", "function X not allowed", …), for anything else.
//
// The guard lexes as ClickHouse's lexer does (src/Parsers/Lexer.cpp): the comment forms --,
// //, # and #! (the last three refused), nested /* */, strings and quoted identifiers with
// backslash escapes and doubled quotes, x'…' and b'…' literals and $tag$…$tag$ heredocs. What
// it cannot read exactly as ClickHouse would, it refuses.
func Check(sql string) (string, error) {
	if len(sql) > MaxLen {
		return "", reject("too long: the query is longer than %d KiB", MaxLen>>10)
	}
	for i := 0; i < len(sql); i++ {
		if c := sql[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return "", reject("control byte 0x%02x at byte %d: remove it", c, i+1)
		}
	}
	toks, err := lex(sql)
	if err != nil {
		return "", err
	}
	end := len(toks)
	for i, t := range toks {
		if t.kind == punct && t.text == ";" {
			if i != len(toks)-1 {
				return "", reject("second statement: a ';' may only end the query")
			}
			end = i
		}
	}
	toks = toks[:end]
	if len(toks) == 0 {
		return "", reject("the query is empty")
	}
	first := toks[0]
	if first.kind != word || !leading[strings.ToUpper(first.text)] {
		return "", reject("not a read statement: a query must start with SELECT, WITH, SHOW, DESCRIBE, DESC or EXPLAIN")
	}
	if strings.EqualFold(first.text, "SHOW") && !showAllowed(toks[1:]) {
		return "", reject("SHOW %s not allowed: only SHOW TABLES, SHOW COLUMNS and SHOW CREATE TABLE", showWhat(toks[1:]))
	}
	for i, t := range toks {
		call := i+1 < len(toks) && toks[i+1].kind == punct && toks[i+1].text == "("
		if t.kind == word && !qualified(toks, i) {
			up := strings.ToUpper(t.text)
			if reason, ok := clauses[up]; ok && !(up == "FORMAT" && call) {
				return "", reject("%s", reason)
			}
		}
		if (t.kind == word || t.kind == quoted) && call && Outside(t.text) {
			return "", reject("function %s not allowed: ad hoc queries read Giveback's database only", t.text)
		}
	}
	return sql[toks[0].start:toks[len(toks)-1].end], nil
}

// Outside reports whether the function (table or scalar) named f reads files, runs programs,
// reaches other servers or reads tables named in a string, out of reach of the table checks.
func Outside(f string) bool {
	f = strings.ToLower(f)
	return outside[f] || strings.HasPrefix(f, "dict") || strings.HasPrefix(f, "joinget")
}

// showAllowed reports whether the words after SHOW name tables, columns or a table's DDL.
func showAllowed(toks []token) bool {
	var words []string
	for _, t := range toks {
		if t.kind != word || len(words) == 3 {
			break
		}
		words = append(words, strings.ToUpper(t.text))
	}
	for len(words) > 0 && (words[0] == "FULL" || words[0] == "EXTENDED") {
		words = words[1:]
	}
	switch {
	case len(words) >= 1 && (words[0] == "TABLES" || words[0] == "COLUMNS" || words[0] == "FIELDS"):
		return true
	case len(words) >= 2 && words[0] == "CREATE" && words[1] == "TABLE":
		return true
	}
	return false
}

func showWhat(toks []token) string {
	if len(toks) == 0 {
		return "(nothing)"
	}
	return strings.ToUpper(toks[0].text)
}

// qualified reports whether toks[i] is the second part of a name such as system.settings: a dot
// right after an identifier, with no space on either side. "1. SETTINGS" is not: 1. is a number.
func qualified(toks []token, i int) bool {
	if i < 2 {
		return false
	}
	dot, name := toks[i-1], toks[i-2]
	if dot.kind != punct || dot.text != "." || dot.end != toks[i].start || name.end != dot.start {
		return false
	}
	return name.kind == quoted || name.kind == word && (name.text[0] < '0' || name.text[0] > '9')
}

func reject(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRejected, fmt.Sprintf(format, args...))
}

// lex splits a statement into tokens the way ClickHouse's lexer does: comments are dropped (and
// the forms // , # and #! refused); strings and quoted identifiers (with backslash escapes and
// doubled quotes), x'…'/b'…' literals and heredocs ($tag$…$tag$) are single tokens; words are
// ASCII only, as in ClickHouse. Unicode spaces are spaces, as ClickHouse skips them; any other
// byte outside a string or comment that ClickHouse does not read as a token is refused, as is
// whatever it cannot read with certainty, such as an unterminated string or comment.
func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			return nil, reject("comment form not allowed: // at byte %d; use -- or /* */", i+1)
		case c == '#':
			if i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '!') {
				return nil, reject("comment form not allowed: %s at byte %d; use -- or /* */", s[i:i+2], i+1)
			}
			return nil, reject("unexpected '#' at byte %d", i+1)
		case c == '\\':
			return nil, reject("unexpected '\\' at byte %d outside a string", i+1)
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j, err := skipBlock(s, i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '\'' || c == '"' || c == '`':
			j, text, err := quotedEnd(s, i)
			if err != nil {
				return nil, err
			}
			kind := quoted
			if c == '\'' {
				kind = literal
			}
			toks = append(toks, token{kind: kind, text: text, start: i, end: j})
			i = j
		case c == '$' && strings.IndexByte(s[i+1:], '$') >= 0:
			tag := heredocTag(s[i:])
			if tag == "" {
				return nil, reject("unexpected '$' at byte %d: a heredoc tag is $name$", i+1)
			}
			k := strings.Index(s[i+len(tag):], tag)
			if k < 0 {
				return nil, reject("unterminated heredoc string %s", tag)
			}
			j := i + len(tag) + k + len(tag)
			toks = append(toks, token{kind: literal, start: i, end: j})
			i = j
		case (c == 'x' || c == 'X' || c == 'b' || c == 'B') && i+2 < len(s) && s[i+1] == '\'':
			j := i + 2
			for j < len(s) && (c == 'x' || c == 'X') && isHex(s[j]) || j < len(s) && (c == 'b' || c == 'B') && (s[j] == '0' || s[j] == '1') {
				j++
			}
			if j >= len(s) || s[j] != '\'' {
				return nil, reject("unterminated %c'' literal at byte %d: it holds only digits", c, i+1)
			}
			toks = append(toks, token{kind: literal, start: i, end: j + 1})
			i = j + 1
		case isWord(c):
			j := i
			for j < len(s) && isWord(s[j]) {
				j++
			}
			toks = append(toks, token{kind: word, text: s[i:j], start: i, end: j})
			i = j
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || !unicode.IsSpace(r) {
				return nil, reject("unexpected character %q at byte %d outside a string", r, i+1)
			}
			i += n
		default:
			toks = append(toks, token{kind: punct, text: s[i : i+1], start: i, end: i + 1})
			i++
		}
	}
	return toks, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipBlock returns the index after the block comment opening at i; ClickHouse nests them.
func skipBlock(s string, i int) (int, error) {
	depth := 0
	for i < len(s) {
		switch {
		case strings.HasPrefix(s[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(s[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i, nil
			}
		default:
			i++
		}
	}
	return 0, reject("unterminated /* comment")
}

// quotedEnd returns the index after the quoted string or identifier opening at i, and its text.
func quotedEnd(s string, i int) (int, string, error) {
	q := s[i]
	var b strings.Builder
	j := i + 1
	for j < len(s) {
		switch c := s[j]; {
		case c == '\\':
			if j+1 < len(s) {
				b.WriteByte(s[j+1])
			}
			j += 2
		case c == q && j+1 < len(s) && s[j+1] == q:
			b.WriteByte(q)
			j += 2
		case c == q:
			return j + 1, b.String(), nil
		default:
			b.WriteByte(c)
			j++
		}
	}
	what := "string"
	if q != '\'' {
		what = "quoted identifier"
	}
	return 0, "", reject("unterminated %s starting at byte %d", what, i+1)
}

// heredocTag returns the opening $tag$ at the start of s, or "" when s does not open a heredoc.
func heredocTag(s string) string {
	for j := 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[:j+1]
		}
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return ""
}

func isWord(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
