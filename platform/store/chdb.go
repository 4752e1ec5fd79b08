//go:build chdb

package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	chdb "github.com/chdb-io/chdb-go/chdb-purego"

	_ "giveback.dev/platform/store/chdblib" // its init sets CHDB_LIB_PATH before chdb-go's opens the library; see its package comment
)

// engine is the process's one chDB session: the library allows one, so every Conn opened on
// chDB shares it, serialised by mu, and each Conn switches to its own database before it runs.
// chDB 26.5 runs the statements of one session one at a time even when called from several
// goroutines (a short statement sent during a long one returns after it), so the lock costs
// nothing that the library would give. Ad hoc statements take it last: they wait while any
// other statement waits, and for adhocGrace after the last one ended, so a dashboard's
// statements or enrich's batches are never queued behind more than one ad hoc statement.
var engine struct {
	mu      sync.Mutex
	waiting atomic.Int32 // statements other than ad hoc waiting for mu
	last    atomic.Int64 // when a statement other than ad hoc last released mu, in UnixNano
	adhoc   sync.Mutex   // one ad hoc statement waits for mu at a time
	conn    chdb.ChdbConn
	path    string
	current string // database of the last USE
	refs    int
}

// adhocGrace is how long after another statement an ad hoc statement waits before it may start,
// so that the next statement of a dashboard page or of an enrich batch finds the engine free;
// after adhocPatience of waiting, an ad hoc statement queues behind those already waiting and
// before any that come later, so a steady stream of other statements cannot starve it.
const (
	adhocGrace    = 100 * time.Millisecond
	adhocPatience = 3 * time.Second
)

// lock takes engine.mu for a statement that goes before ad hoc ones.
func lock() {
	engine.waiting.Add(1)
	engine.mu.Lock()
	engine.waiting.Add(-1)
}

// unlock releases engine.mu taken by lock.
func unlock() {
	engine.last.Store(time.Now().UnixNano())
	engine.mu.Unlock()
}

// lockAdHoc takes engine.mu for an ad hoc statement once no other statement waits, or returns
// the context's error when it ends first. After adhocPatience it queues on the lock itself:
// Go's mutex hands a lock that its waiters have waited more than a millisecond for to them in
// arrival order, so only the statements already waiting go first, and a dashboard and enrich
// that always have one statement waiting cannot starve it.
func lockAdHoc(ctx context.Context) error {
	engine.adhoc.Lock()
	defer engine.adhoc.Unlock()
	began := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Since(began) >= adhocPatience {
			engine.mu.Lock()
			if err := ctx.Err(); err != nil {
				engine.mu.Unlock()
				return err
			}
			return nil
		}
		idle := time.Since(time.Unix(0, engine.last.Load()))
		if engine.waiting.Load() == 0 && idle >= adhocGrace {
			engine.mu.Lock()
			if engine.waiting.Load() == 0 {
				return nil
			}
			engine.mu.Unlock()
		}
		time.Sleep(time.Millisecond)
	}
}

type chdbConn struct {
	db     string
	closed bool
}

func openChDB(path, db string) (Conn, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: chdb path %q: %w", path, err)
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.conn == nil {
		if err := os.MkdirAll(abs, 0o750); err != nil {
			return nil, fmt.Errorf("store: chdb path: %w", err)
		}
		restore := keepGoSignals() // chdb_signals.go
		c, err := chdb.NewConnectionFromConnString(abs)
		restore()
		if err != nil {
			return nil, fmt.Errorf("store: open chdb at %s: %w", abs, err)
		}
		engine.conn, engine.path, engine.current = c, abs, ""
		if err := rawExec("SET output_format_json_quote_64bit_integers = 0"); err != nil {
			return nil, err
		}
	} else if engine.path != abs {
		return nil, fmt.Errorf("store: chdb is already open at %s; one process holds one chDB session (asked for %s)", engine.path, abs)
	}
	if err := rawExec("CREATE DATABASE IF NOT EXISTS " + Ident(db)); err != nil {
		return nil, err
	}
	engine.refs++
	return &chdbConn{db: db}, nil
}

// flush clears what a query that failed while running may leave in the session: chDB hands its
// partial output to the next query otherwise. engine.mu is held.
func flush() {
	if r, err := engine.conn.Query("SELECT 1", "CSV"); err == nil {
		r.Free()
	}
}

// rawExec runs a statement on the session; engine.mu is held.
func rawExec(q string) error {
	r, err := engine.conn.Query(q, "CSV")
	if err != nil {
		flush()
		return fmt.Errorf("store: chdb: %w", err)
	}
	defer r.Free()
	if err := r.Error(); err != nil {
		flush()
		return fmt.Errorf("store: chdb: %w", err)
	}
	return nil
}

// use switches the session to the connection's database; engine.mu is held.
func (c *chdbConn) use() error {
	if c.closed {
		return fmt.Errorf("store: chdb connection is closed")
	}
	if engine.current == c.db {
		return nil
	}
	if err := rawExec("USE " + Ident(c.db)); err != nil {
		return err
	}
	engine.current = c.db
	return nil
}

func (c *chdbConn) Driver() string { return "chdb" }

func (c *chdbConn) Exec(ctx context.Context, q string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lock()
	defer unlock()
	if err := c.use(); err != nil {
		return err
	}
	return rawExec(q)
}

func (c *chdbConn) Query(ctx context.Context, q string, s Settings) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lock()
	defer unlock()
	if err := c.use(); err != nil {
		return nil, err
	}
	r, err := engine.conn.Query(q+s.clause(), "JSONCompact")
	if err != nil {
		flush()
		return nil, fmt.Errorf("store: chdb: %w", err)
	}
	defer r.Free()
	if err := r.Error(); err != nil {
		flush()
		return nil, fmt.Errorf("store: chdb: %w", err)
	}
	return decodeJSONCompact(r.Buf())
}

func (c *chdbConn) database() string { return c.db }

// queryRows runs an ad hoc statement at the lowest priority. The statement holds the engine
// only while it runs: its result, which max_result_bytes bounds, is then decoded and handed to
// w row by row with the engine free, so a slow client holds no one up. A statement whose
// context ends before it starts never starts; once started, max_execution_time ends it.
func (c *chdbConn) queryRows(ctx context.Context, q string, s Settings, w RowWriter) error {
	if err := lockAdHoc(ctx); err != nil {
		return err
	}
	r, err := func() (chdb.ChdbResult, error) {
		defer engine.mu.Unlock()
		if err := c.use(); err != nil {
			return nil, err
		}
		r, err := engine.conn.Query(q+s.clause(), "JSONCompactEachRowWithNamesAndTypes")
		if err != nil {
			flush()
			return nil, fmt.Errorf("store: chdb: %w", err)
		}
		if err := r.Error(); err != nil {
			r.Free()
			flush()
			return nil, fmt.Errorf("store: chdb: %w", err)
		}
		return r, nil
	}()
	if err != nil {
		return err
	}
	defer r.Free()
	return decodeEachRow(r.Buf(), w)
}

// decodeEachRow reads JSONCompactEachRowWithNamesAndTypes output, one line at a time.
func decodeEachRow(buf []byte, w RowWriter) error {
	next := func() []byte {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			line := buf
			buf = nil
			return line
		}
		line := buf[:i]
		buf = buf[i+1:]
		return line
	}
	var names, types []string
	if len(bytes.TrimSpace(buf)) > 0 {
		if err := json.Unmarshal(next(), &names); err != nil {
			return fmt.Errorf("store: chdb: decode column names: %w", err)
		}
		if err := json.Unmarshal(next(), &types); err != nil {
			return fmt.Errorf("store: chdb: decode column types: %w", err)
		}
	}
	cols := make([]Column, len(names))
	for i := range names {
		cols[i] = Column{Name: names[i]}
		if i < len(types) {
			cols[i].Type = types[i]
		}
	}
	if err := w.Columns(cols); err != nil {
		return err
	}
	for len(buf) > 0 {
		line := next()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		var row []any
		if err := d.Decode(&row); err != nil {
			return fmt.Errorf("store: chdb: decode row: %w", err)
		}
		for i, v := range row {
			row[i] = normalize(v)
		}
		if err := w.Row(row); err != nil {
			return err
		}
	}
	return nil
}

func (c *chdbConn) Close() error {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	engine.refs--
	if engine.refs == 0 && engine.conn != nil {
		engine.conn.Close()
		engine.conn, engine.path, engine.current = nil, "", ""
	}
	return nil
}

// decodeJSONCompact reads ClickHouse's JSONCompact output.
func decodeJSONCompact(buf []byte) (*Result, error) {
	res := &Result{Columns: []Column{}, Rows: [][]any{}}
	if len(bytes.TrimSpace(buf)) == 0 {
		return res, nil
	}
	// One pass over the output, its rows decoded in place: a page's statements return up to tens
	// of thousands of rows, and decoding each row again from its raw bytes took twice as long
	// (BenchmarkDecodeJSONCompact).
	var out struct {
		Meta []Column `json:"meta"`
		Data [][]any  `json:"data"`
	}
	d := json.NewDecoder(bytes.NewReader(buf))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("store: chdb: decode result: %w", err)
	}
	if out.Meta != nil {
		res.Columns = out.Meta
	}
	for _, row := range out.Data {
		if row == nil {
			return nil, fmt.Errorf("store: chdb: decode row: a row is null, not an array")
		}
		for i, v := range row {
			row[i] = normalize(v)
		}
	}
	if len(out.Data) > 0 {
		res.Rows = out.Data
	}
	return res, nil
}

// normalize turns json.Number into int64, uint64 or float64, recursively: a number written
// with a fraction or an exponent is a float64, an integer an int64, or a uint64 past int64.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := x.String()
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i
			}
			if u, err := strconv.ParseUint(s, 10, 64); err == nil {
				return u
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return s
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}
