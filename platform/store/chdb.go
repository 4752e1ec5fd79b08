//go:build chdb

package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	chdb "github.com/chdb-io/chdb-go/chdb-purego"

	_ "giveback.dev/platform/store/chdblib" // its init sets CHDB_LIB_PATH before chdb-go's opens the library; see its package comment
)

// engine is the process's one embedded ClickHouse server. chDB binds one data directory per
// process; every Conn opened on chDB shares it and names its own database. The engine serves
// the statements through up to chdbClients clients of that server (chdb_connect on the same
// path), each with its own session: statements on different clients run at once, as they do on
// a ClickHouse server, while one client runs its statements one at a time (a short statement sent
// during a long one on the same client returns after it). A page's statements, enrich's batches
// and the ad hoc statements thus no longer wait for one another, only for the cores. Ad hoc
// statements run one at a time, on one client, so they can hold at most one of them.
var engine struct {
	mu         sync.Mutex // guards path, refs and made
	path       string
	refs       int
	made       int        // clients connected
	connecting sync.Mutex // one client connects at a time (keepGoSignals)
	// free holds the clients running no statement; adhoc the ad hoc statement running, if any.
	free  chan *client
	adhoc chan struct{}
}

func init() {
	engine.free = make(chan *client, chdbClients)
	engine.adhoc = make(chan struct{}, 1)
}

// chdbClients bounds the clients of the engine: enough for a page's statements to use both
// cores of a small machine while others wait for one, few enough that concurrent pages do not
// split the cores among dozens of statements (docs/BENCHMARKS.md, "Statements side by side").
const chdbClients = 4

// client is one client of the engine and the database its session last switched to.
type client struct {
	conn    chdb.ChdbConn
	current string
}

// errEngineClosed is returned for a statement on a Conn whose engine was closed.
var errEngineClosed = errors.New("store: chdb connection is closed")

type chdbConn struct {
	db     string
	closed atomic.Bool
}

func openChDB(path, db string) (Conn, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: chdb path %q: %w", path, err)
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	switch {
	case engine.refs == 0:
		if err := os.MkdirAll(abs, 0o750); err != nil {
			return nil, fmt.Errorf("store: chdb path: %w", err)
		}
		cl, err := connect(abs)
		if err != nil {
			return nil, err
		}
		engine.path, engine.made = abs, 1
		engine.free <- cl
	case engine.path != abs:
		return nil, fmt.Errorf("store: chdb is already open at %s; one process holds one chDB engine (asked for %s)", engine.path, abs)
	}
	cl := <-engine.free
	err = cl.exec("CREATE DATABASE IF NOT EXISTS " + Ident(db))
	engine.free <- cl
	if err != nil {
		if engine.refs == 0 {
			closeClients()
		}
		return nil, err
	}
	engine.refs++
	return &chdbConn{db: db}, nil
}

// connect opens a client of the engine at path, with the session settings the decoding needs.
func connect(path string) (*client, error) {
	engine.connecting.Lock()
	defer engine.connecting.Unlock()
	restore := keepGoSignals() // chdb_signals.go
	c, err := chdb.NewConnectionFromConnString(path)
	restore()
	if err != nil {
		return nil, fmt.Errorf("store: open chdb at %s: %w", path, err)
	}
	cl := &client{conn: c}
	if err := cl.exec("SET output_format_json_quote_64bit_integers = 0"); err != nil {
		c.Close()
		return nil, err
	}
	return cl, nil
}

// acquire returns a client for a statement of c: a free one, a new one while fewer than
// chdbClients are connected, or the first one freed, unless ctx ends first. release gives it
// back.
func (c *chdbConn) acquire(ctx context.Context) (*client, error) {
	if c.closed.Load() {
		return nil, errEngineClosed
	}
	select {
	case cl := <-engine.free:
		return cl, nil
	default:
	}
	engine.mu.Lock()
	if engine.path == "" {
		engine.mu.Unlock()
		return nil, errEngineClosed
	}
	if engine.made < chdbClients {
		engine.made++
		path := engine.path
		engine.mu.Unlock()
		cl, err := connect(path)
		if err != nil {
			engine.mu.Lock()
			engine.made--
			engine.mu.Unlock()
			return nil, err
		}
		return cl, nil
	}
	engine.mu.Unlock()
	select {
	case cl := <-engine.free:
		return cl, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release gives back a client taken by acquire.
func release(cl *client) { engine.free <- cl }

// closeClients closes every client once its statement ends; engine.mu is held.
func closeClients() {
	for range engine.made {
		cl := <-engine.free
		cl.conn.Close()
	}
	engine.path, engine.made = "", 0
}

// flush clears what a query that failed while running may leave in the client's session: chDB
// hands its partial output to the next query otherwise.
func (cl *client) flush() {
	if r, err := cl.conn.Query("SELECT 1", "CSV"); err == nil {
		r.Free()
	}
}

// query runs a statement on the client in the given output format; the caller frees the result.
func (cl *client) query(q, format string) (chdb.ChdbResult, error) {
	r, err := cl.conn.Query(q, format)
	if err != nil {
		cl.flush()
		return nil, fmt.Errorf("store: chdb: %w", err)
	}
	if err := r.Error(); err != nil {
		r.Free()
		cl.flush()
		return nil, fmt.Errorf("store: chdb: %w", err)
	}
	return r, nil
}

// exec runs a statement on the client, dropping its output.
func (cl *client) exec(q string) error {
	r, err := cl.query(q, "CSV")
	if err != nil {
		return err
	}
	r.Free()
	return nil
}

// use switches the client's session to the database db.
func (cl *client) use(db string) error {
	if cl.current == db {
		return nil
	}
	if err := cl.exec("USE " + Ident(db)); err != nil {
		return err
	}
	cl.current = db
	return nil
}

// result runs q on a client switched to c's database, in the given output format, and returns
// its result, which the caller frees. The client is given back as soon as the statement ends:
// chDB keeps a result apart from the client, so decoding it holds no client. A statement whose
// context ends before it starts never starts.
func (c *chdbConn) result(ctx context.Context, q, format string) (chdb.ChdbResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cl, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release(cl)
	if err := cl.use(c.db); err != nil {
		return nil, err
	}
	return cl.query(q, format)
}

func (c *chdbConn) Driver() string { return "chdb" }

func (c *chdbConn) Exec(ctx context.Context, q string) error {
	r, err := c.result(ctx, q, "CSV")
	if err != nil {
		return err
	}
	r.Free()
	return nil
}

func (c *chdbConn) Query(ctx context.Context, q string, s Settings) (*Result, error) {
	r, err := c.result(ctx, q+s.clause(), "JSONCompact")
	if err != nil {
		return nil, err
	}
	defer r.Free()
	return decodeJSONCompact(r.Buf())
}

func (c *chdbConn) database() string { return c.db }

// queryRows runs an ad hoc statement, one at a time: it waits, as long as ctx allows, for the
// ad hoc statement before it, and then runs on one client, so the dashboards and enrich keep
// the others. Its result, which max_result_bytes bounds, is decoded and handed to w row by row
// once the client and the turn are given back, so a slow client holds no one up. A statement
// whose context ends before it starts never starts; once started, max_execution_time ends it.
func (c *chdbConn) queryRows(ctx context.Context, q string, s Settings, w RowWriter) error {
	if c.closed.Load() {
		return errEngineClosed
	}
	select {
	case engine.adhoc <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	r, err := c.result(ctx, q+s.clause(), "JSONCompactEachRowWithNamesAndTypes")
	<-engine.adhoc
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

// Close closes the Conn; closing the last one closes the engine's clients, once their
// statements end, after which the engine may open at another path.
func (c *chdbConn) Close() error {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if c.closed.Swap(true) {
		return nil
	}
	engine.refs--
	if engine.refs == 0 {
		closeClients()
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
