package store

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"

	"giveback.dev/schemas"
)

// Store is the part of ClickHouse that Giveback's services share: migrations, the batched writes
// of enrich and the reads of report.
type Store struct {
	conn Conn
}

// New wraps an open connection. Its writes are counted (Generation).
func New(c Conn) *Store { return &Store{conn: countWrites(c)} }

// Conn returns the underlying connection.
func (s *Store) Conn() Conn { return s.conn }

// Close closes the connection.
func (s *Store) Close() error { return s.conn.Close() }

// Query runs a read statement.
func (s *Store) Query(ctx context.Context, q string, settings Settings) (*Result, error) {
	return s.conn.Query(ctx, q, settings)
}

// Migration is one versioned file of schemas/clickhouse.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// Migrations reads the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	files, err := fs.Glob(schemas.ClickHouse, "clickhouse/*.sql")
	if err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	sort.Strings(files)
	var out []Migration
	for _, f := range files {
		base := path.Base(f)
		num, name, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_name.sql", base)
		}
		body, err := fs.ReadFile(schemas.ClickHouse, f)
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", base, err)
		}
		out = append(out, Migration{Version: v, Name: name, Statements: SplitStatements(string(body))})
	}
	return out, nil
}

// SplitStatements splits a SQL file into statements at semicolons that end a line, dropping
// comment lines; the migrations keep semicolons out of literals.
func SplitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}

// Migrate applies the migrations not yet recorded in schema_migrations, in order. It is
// idempotent: every statement is IF NOT EXISTS, so a crash between a statement and its record
// only repeats harmless work.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) error {
	if err := s.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations
(version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
ENGINE = ReplacingMergeTree ORDER BY version`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	res, err := s.conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations", nil)
	if err != nil {
		return fmt.Errorf("store: migrate: read applied: %w", err)
	}
	applied := map[int]bool{}
	for _, r := range res.Rows {
		applied[int(AsInt(r[0]))] = true
	}
	ms, err := Migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		for i, st := range m.Statements {
			if err := s.conn.Exec(ctx, st); err != nil {
				return fmt.Errorf("store: migration %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := s.conn.Exec(ctx, fmt.Sprintf("INSERT INTO schema_migrations (version, name) VALUES (%d, %s)", m.Version, Quote(m.Name))); err != nil {
			return fmt.Errorf("store: record migration %d: %w", m.Version, err)
		}
		if log != nil {
			log.Info("migration applied", slog.Int("version", m.Version), slog.String("name", m.Name))
		}
	}
	return nil
}

// AsInt reads an integer column value from a Result (int64, uint64 or float64); 0 otherwise.
func AsInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		if i, err := strconv.ParseInt(x, 10, 64); err == nil {
			return i
		}
	}
	return 0
}

// AsFloat reads a numeric column value from a Result; 0 otherwise.
func AsFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return f
		}
	}
	return 0
}

// AsString reads a string column value from a Result; "" for NULL.
func AsString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return fmt.Sprint(v)
}
