// Package store is Giveback's ClickHouse layer: one set of statements run by two drivers, chDB
// (the ClickHouse engine in-process, for the embedded mode and every test) and clickhouse-go (a
// ClickHouse server). It applies the migrations of schemas/clickhouse and writes and reads the
// tables the services share.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Conn is a connection to ClickHouse bound to one database. Statements are plain ClickHouse SQL
// without a FORMAT clause; the driver picks the wire format.
type Conn interface {
	// Exec runs a statement that returns no rows (DDL, INSERT … FORMAT JSONEachRow with inline data).
	Exec(ctx context.Context, query string) error
	// Query runs a statement that returns rows, with per-query settings (limits, readonly).
	Query(ctx context.Context, query string, settings Settings) (*Result, error)
	// Close releases the connection.
	Close() error
	// Driver names the driver: "chdb" or "clickhouse".
	Driver() string
}

// Settings are ClickHouse settings applied to one query.
type Settings map[string]any

// clause renders the settings as a SETTINGS clause, keys sorted; empty when there are none.
func (s Settings) clause() string {
	if len(s) == 0 {
		return ""
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(" SETTINGS ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		switch v := s[k].(type) {
		case string:
			fmt.Fprintf(&b, "%s=%s", k, Quote(v))
		default:
			fmt.Fprintf(&b, "%s=%v", k, v)
		}
	}
	return b.String()
}

// Column names one result column and its ClickHouse type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Result is a whole query result. Values are JSON-ready: strings, int64, uint64, float64, bool,
// nil, or slices and maps of those; dates and times are strings as ClickHouse prints them.
type Result struct {
	Columns []Column `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Options says where ClickHouse is.
type Options struct {
	// DSN is "clickhouse://user:password@host:9000/db?…" for a server, or "chdb:///abs/dir" (or
	// "chdb:relative/dir") for the embedded engine.
	DSN string
	// Database is the database the statements run in; created when absent. Overrides the DSN's.
	Database string
	// DatabaseEngine, on a server, is the engine of a database created by Open (e.g. Replicated(…)).
	DatabaseEngine string
	// Password, on a server, overrides the DSN's (which should hold none).
	Password string
	// User, on a server, overrides the DSN's user: the report service's reader.
	User string
	// Reader, on a server, connects to an existing database without creating it: the reader
	// has no right to.
	Reader bool
}

// ErrNoChDB is returned when a chDB DSN is opened by a binary built without chDB.
var ErrNoChDB = errors.New("store: this binary was built without chDB (build with -tags chdb, or use a clickhouse:// DSN)")

// Open connects to ClickHouse, creates the database when absent and binds the connection to it.
func Open(ctx context.Context, o Options) (Conn, error) {
	u, err := url.Parse(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("store: clickhouse dsn: %w", err)
	}
	switch u.Scheme {
	case "chdb":
		path := u.Path
		if path == "" {
			path = u.Opaque
		}
		if path == "" {
			return nil, fmt.Errorf("store: clickhouse dsn %q: chdb needs a directory, e.g. chdb:///var/lib/giveback/clickhouse", o.DSN)
		}
		db := o.Database
		if db == "" {
			db = "giveback"
		}
		return openChDB(path, db)
	case "clickhouse", "tcp", "http", "https":
		return openServer(ctx, o)
	default:
		return nil, fmt.Errorf("store: clickhouse dsn %q: scheme must be chdb or clickhouse", o.DSN)
	}
}

// Quote returns s as a ClickHouse string literal.
func Quote(s string) string {
	return "'" + quoted.Replace(s) + "'"
}

var quoted = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// Ident returns s as a quoted ClickHouse identifier.
func Ident(s string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "`", "\\`") + "`"
}
