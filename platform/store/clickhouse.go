package store

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// serverConn runs the same statements as chDB on a ClickHouse server through clickhouse-go.
type serverConn struct {
	conn driver.Conn
}

func openServer(ctx context.Context, o Options) (Conn, error) {
	opts, err := clickhouse.ParseDSN(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("store: clickhouse dsn: %w", err)
	}
	if o.Password != "" {
		opts.Auth.Password = o.Password
	}
	db := o.Database
	if db == "" {
		db = opts.Auth.Database
	}
	if db == "" || db == "default" {
		db = "giveback"
	}
	// Create the database through a connection to "default", then bind to it.
	opts.Auth.Database = "default"
	boot, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("store: connect clickhouse: %w", err)
	}
	create := "CREATE DATABASE IF NOT EXISTS " + Ident(db)
	if o.DatabaseEngine != "" {
		create += " ENGINE = " + o.DatabaseEngine
	}
	if err := boot.Exec(ctx, create); err != nil {
		boot.Close()
		return nil, fmt.Errorf("store: create database %s: %w", db, err)
	}
	boot.Close()
	opts.Auth.Database = db
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("store: connect clickhouse: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: ping clickhouse: %w", err)
	}
	return &serverConn{conn: conn}, nil
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
			row[i] = plain(reflect.ValueOf(d).Elem())
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: clickhouse: %w", err)
	}
	return res, nil
}

func (c *serverConn) Close() error { return c.conn.Close() }

// plain converts a scanned value to the JSON-ready values chDB's decoder yields.
func plain(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plain(v.Elem())
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
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = plain(v.MapIndex(k))
		}
		return out
	}
	if t, ok := v.Interface().(time.Time); ok {
		if t.Nanosecond() == 0 {
			return t.UTC().Format(time.DateTime)
		}
		return t.UTC().Format("2006-01-02 15:04:05.000")
	}
	return fmt.Sprint(v.Interface())
}
