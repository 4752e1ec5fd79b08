package store

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// serverConn runs the same statements as chDB on a ClickHouse server through clickhouse-go.
type serverConn struct {
	conn driver.Conn
	db   string

	roOnce  sync.Once
	roFixed bool
	roErr   error
}

// readonlyFixed reports whether the session is read-only already (the reader user's profile),
// so that an ad hoc statement need not, and must not, set readonly itself.
func (c *serverConn) readonlyFixed(ctx context.Context) (bool, error) {
	c.roOnce.Do(func() {
		var v string
		if err := c.conn.QueryRow(ctx, "SELECT getSetting('readonly')::String").Scan(&v); err != nil {
			c.roErr = fmt.Errorf("store: clickhouse: read the session's readonly: %w", err)
			return
		}
		c.roFixed = v != "0"
	})
	return c.roFixed, c.roErr
}

func openServer(ctx context.Context, o Options) (Conn, error) {
	opts, err := clickhouse.ParseDSN(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("store: clickhouse dsn: %w", err)
	}
	if o.Password != "" {
		opts.Auth.Password = o.Password
	}
	if o.User != "" {
		opts.Auth.Username = o.User
	}
	db := o.Database
	if db == "" {
		db = opts.Auth.Database
	}
	if db == "" || db == "default" {
		db = "giveback"
	}
	if !o.Reader {
		if err := createDatabase(ctx, opts, db, o.DatabaseEngine); err != nil {
			return nil, err
		}
	}
	opts.Auth.Database = db
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("store: connect clickhouse: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: ping clickhouse: %w", err)
	}
	return &serverConn{conn: conn, db: db}, nil
}

// createDatabase creates the database through a connection to "default".
func createDatabase(ctx context.Context, opts *clickhouse.Options, db, engine string) error {
	boot := *opts
	boot.Auth.Database = "default"
	conn, err := clickhouse.Open(&boot)
	if err != nil {
		return fmt.Errorf("store: connect clickhouse: %w", err)
	}
	defer conn.Close()
	create := "CREATE DATABASE IF NOT EXISTS " + Ident(db)
	if engine != "" {
		create += " ENGINE = " + engine
	}
	if err := conn.Exec(ctx, create); err != nil {
		return fmt.Errorf("store: create database %s: %w", db, err)
	}
	return nil
}

func (c *serverConn) Driver() string { return "clickhouse" }

func (c *serverConn) Exec(ctx context.Context, q string) error {
	if err := c.conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("store: clickhouse: %w", err)
	}
	return nil
}

func (c *serverConn) Query(ctx context.Context, q string, s Settings) (*Result, error) {
	if len(s) > 0 {
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings(s)))
	}
	rows, err := c.conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: clickhouse: %w", err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	res := &Result{Columns: make([]Column, len(types)), Rows: [][]any{}}
	for i, t := range types {
		res.Columns[i] = Column{Name: t.Name(), Type: t.DatabaseTypeName()}
	}
	for rows.Next() {
		dest := make([]any, len(types))
		for i, t := range types {
			dest[i] = reflect.New(t.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: clickhouse: scan: %w", err)
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			row[i] = plain(reflect.ValueOf(d).Elem(), res.Columns[i].Type)
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: clickhouse: %w", err)
	}
	return res, nil
}

func (c *serverConn) Close() error { return c.conn.Close() }

func (c *serverConn) database() string { return c.db }

// queryRows runs an ad hoc statement with its settings in the protocol, not the text, and hands
// each row to w as it arrives; the context cancels the statement on the server.
func (c *serverConn) queryRows(ctx context.Context, q string, s Settings, w RowWriter) error {
	if _, ok := s["readonly"]; ok {
		fixed, err := c.readonlyFixed(ctx)
		if err != nil {
			return err
		}
		if fixed {
			// The reader's profile fixes readonly, and a constraint may refuse even its own value.
			s = maps.Clone(s)
			delete(s, "readonly")
		}
	}
	if len(s) > 0 {
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings(s)))
	}
	rows, err := c.conn.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("store: clickhouse: %w", err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	cols := make([]Column, len(types))
	for i, t := range types {
		cols[i] = Column{Name: t.Name(), Type: t.DatabaseTypeName()}
	}
	if err := w.Columns(cols); err != nil {
		return err
	}
	dest := make([]any, len(types))
	row := make([]any, len(types))
	for rows.Next() {
		for i, t := range types {
			dest[i] = reflect.New(t.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("store: clickhouse: scan: %w", err)
		}
		for i, d := range dest {
			row[i] = plain(reflect.ValueOf(d).Elem(), cols[i].Type)
		}
		if err := w.Row(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: clickhouse: %w", err)
	}
	return nil
}

// plain converts a scanned value of the ClickHouse type typ to the JSON-ready values chDB's
// decoder yields, so that both engines hand the metrics the same values: a Date as YYYY-MM-DD, a
// DateTime64 with as many digits of the second as its precision, a DateTime without (chDB's
// JSON output; TestServerValuesAsChDB compares them).
func plain(v reflect.Value, typ string) any {
	typ = innerType(typ)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plain(v.Elem(), typ)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	case reflect.Slice, reflect.Array:
		elem, _ := typeArgs(typ, "Array")
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i), elem)
		}
		return out
	case reflect.Map:
		_, val := typeArgs(typ, "Map")
		out := make(map[string]any, v.Len())
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = plain(v.MapIndex(k), val)
		}
		return out
	}
	if t, ok := v.Interface().(time.Time); ok {
		t = t.UTC()
		switch {
		case typ == "Date" || typ == "Date32":
			return t.Format(time.DateOnly)
		case strings.HasPrefix(typ, "DateTime64("):
			p, _ := typeArgs(typ, "DateTime64")
			if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil && n > 0 && n <= 9 {
				return t.Format(time.DateTime + "." + strings.Repeat("0", n))
			}
			return t.Format(time.DateTime)
		case t.Nanosecond() == 0:
			return t.Format(time.DateTime)
		}
		return t.Format("2006-01-02 15:04:05.000")
	}
	return fmt.Sprint(v.Interface())
}

// innerType strips the Nullable and LowCardinality wrappers off a ClickHouse type.
func innerType(typ string) string {
	for {
		inner, ok := strings.CutPrefix(typ, "Nullable(")
		if !ok {
			inner, ok = strings.CutPrefix(typ, "LowCardinality(")
		}
		if !ok || !strings.HasSuffix(inner, ")") {
			return typ
		}
		typ = inner[:len(inner)-1]
	}
}

// typeArgs returns the first argument of a ClickHouse type named name (Array(T): T;
// DateTime64(3, 'UTC'): 3) and the rest after its comma (Map(K, V): V), split at the top level
// of parentheses; empty when typ is not of that name.
func typeArgs(typ, name string) (first, rest string) {
	args, ok := strings.CutPrefix(typ, name+"(")
	if !ok || !strings.HasSuffix(args, ")") {
		return "", ""
	}
	args = args[:len(args)-1]
	depth := 0
	for i, r := range args {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				return strings.TrimSpace(args[:i]), strings.TrimSpace(args[i+1:])
			}
		}
	}
	return strings.TrimSpace(args), ""
}
