// Package query runs the ad hoc, read-only SQL of the report service: a guard that admits one
// read statement, and writers that render a result as JSON or CSV.
//
// The guard is the first of two locks. The second is ClickHouse itself: every admitted statement
// runs with readonly=1 and result limits (see Limits), so a statement the guard misjudges still
// cannot write. The guard exists because the second lock is not enough on its own: chDB executes
// every statement of a multi-statement string, a trailing comment would swallow the SETTINGS clause
// that carries readonly=1, and readonly=1 still lets file() and url() reach outside the database.
package query

import (
	"errors"
	"fmt"
	"strings"
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
		"executable", "executablePool", "input",
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
// comments and spaces and the trailing semicolon removed, so that a SETTINGS clause appended by the driver takes effect. It
// returns an error wrapping ErrRejected, with the reason, for anything else.
func Check(sql string) (string, error) {
	if len(sql) > MaxLen {
		return "", reject("the query is longer than %d KiB", MaxLen>>10)
	}
	toks, err := lex(sql)
	if err != nil {
		return "", err
	}
	end := len(toks)
	for i, t := range toks {
		if t.kind == punct && t.text == ";" {
			if i != len(toks)-1 {
				return "", reject("only one statement is allowed: a ';' may only end the query")
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
		return "", reject("a query must start with SELECT, WITH, SHOW, DESCRIBE, DESC or EXPLAIN")
	}
	for i, t := range toks {
		call := i+1 < len(toks) && toks[i+1].kind == punct && toks[i+1].text == "("
		if t.kind == word && !qualified(toks, i) {
			up := strings.ToUpper(t.text)
			if reason, ok := clauses[up]; ok && !(up == "FORMAT" && call) {
				return "", reject("%s", reason)
			}
		}
		if (t.kind == word || t.kind == quoted) && call && outside[strings.ToLower(t.text)] {
			return "", reject("%s() is not allowed: ad hoc queries read Giveback's database only", t.text)
		}
	}
	return sql[toks[0].start:toks[len(toks)-1].end], nil
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

// lex splits a statement into tokens the way ClickHouse's lexer does for the parts that matter
// here: comments (--, #, and nested /* */) are dropped; strings and quoted identifiers (with
// backslash escapes and doubled quotes) and heredocs ($tag$…$tag$) are single tokens; words are
// ASCII only, as in ClickHouse, so a keyword next to a non-ASCII byte (a no-break space) is
// still seen. Whatever it cannot read with certainty, such as an unterminated string or
// comment, is rejected.
func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
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
		case c == '$' && heredocTag(s[i:]) != "":
			tag := heredocTag(s[i:])
			k := strings.Index(s[i+len(tag):], tag)
			if k < 0 {
				return nil, reject("unterminated heredoc string %s", tag)
			}
			j := i + len(tag) + k + len(tag)
			toks = append(toks, token{kind: literal, start: i, end: j})
			i = j
		case isWord(c):
			j := i
			for j < len(s) && isWord(s[j]) {
				j++
			}
			toks = append(toks, token{kind: word, text: s[i:j], start: i, end: j})
			i = j
		default:
			toks = append(toks, token{kind: punct, text: s[i : i+1], start: i, end: i + 1})
			i++
		}
	}
	return toks, nil
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
