package query

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/store"
)

// Settings returns the ClickHouse settings every ad hoc statement runs with: read-only, and the
// limits of the configuration, each throwing rather than returning a partial result. A zero
// limit takes the default of config.Default.
//
//	max_rows_to_read    query.max_rows      rows a query may scan
//	max_result_rows     query.max_rows_out  rows a result may hold
//	max_result_bytes    query.max_bytes     bytes a result may hold
//	max_execution_time  query.max_time      seconds a query may run
//	max_memory_usage    query.max_memory    bytes a query may allocate
//	max_threads         query.max_threads   threads a query may use
//
// readonly is 2, not 1: on a server the reader's profile fixes readonly at 2 with a
// constraint, and a session at readonly=1 could not send the limits at all. readonly=2 allows
// changing settings (the limits, bounded by the profile's constraints) but never writing.
func Settings(q config.Query) store.Settings {
	q = withDefaults(q)
	return store.Settings{
		"readonly":             2,
		"max_rows_to_read":     q.MaxRows,
		"max_result_rows":      q.MaxRowsOut,
		"max_result_bytes":     q.MaxBytes,
		"max_execution_time":   int64(q.MaxTime.D() / time.Second),
		"max_memory_usage":     q.MaxMemory,
		"max_threads":          q.MaxThreads,
		"result_overflow_mode": "throw",
		"read_overflow_mode":   "throw",
	}
}

// withDefaults fills the zero limits of q from config.Default.
func withDefaults(q config.Query) config.Query {
	def := config.Default().Query
	if q.MaxRows <= 0 {
		q.MaxRows = def.MaxRows
	}
	if q.MaxRowsOut <= 0 {
		q.MaxRowsOut = def.MaxRowsOut
	}
	if q.MaxBytes <= 0 {
		q.MaxBytes = def.MaxBytes
	}
	if q.MaxTime.D() < time.Second {
		q.MaxTime = def.MaxTime
	}
	if q.MaxMemory <= 0 {
		q.MaxMemory = def.MaxMemory
	}
	if q.MaxThreads <= 0 {
		q.MaxThreads = def.MaxThreads
	}
	if q.MaxConcurrent <= 0 {
		q.MaxConcurrent = def.MaxConcurrent
	}
	return q
}

// Options returns how the store admits and bounds an ad hoc statement under q.
func Options(q config.Query) store.AdHocOptions {
	return store.AdHocOptions{Check: Check, Settings: Settings(q), MaxConcurrent: withDefaults(q).MaxConcurrent}
}

// Response is the JSON body of an ad hoc query:
//
//	{"columns": [{"name": "kind", "type": "LowCardinality(String)"}],
//	 "rows": [["pull_request"]], "rows_count": 1, "elapsed_ms": 3.2}
type Response struct {
	Columns   []store.Column `json:"columns"`
	Rows      [][]any        `json:"rows"`
	RowsCount int            `json:"rows_count"`
	ElapsedMS float64        `json:"elapsed_ms"`
}

// counter counts the bytes that reached the client.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// JSONWriter writes a result as a Response while its rows arrive, through a 32 KiB buffer. A
// statement that fails before the first buffer reached the client can still be answered with
// an error (see Started).
type JSONWriter struct {
	out     *counter
	w       *bufio.Writer
	start   time.Time
	rows    int
	started bool
	err     error
}

// NewJSONWriter returns a JSONWriter to w; elapsed_ms counts from start.
func NewJSONWriter(w io.Writer, start time.Time) *JSONWriter {
	c := &counter{w: w}
	return &JSONWriter{out: c, w: bufio.NewWriterSize(c, 32<<10), start: start}
}

// Started reports whether any of the response reached the client.
func (j *JSONWriter) Started() bool { return j.out.n > 0 }

// Columns writes the head of the response.
func (j *JSONWriter) Columns(cols []store.Column) error {
	if cols == nil {
		cols = []store.Column{}
	}
	b, err := json.Marshal(cols)
	if err != nil {
		return fmt.Errorf("query: write json: %w", err)
	}
	j.started = true
	j.write(`{"columns":`)
	j.write(string(b))
	j.write(`,"rows":[`)
	return j.err
}

// Row writes one row.
func (j *JSONWriter) Row(row []any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(row); err != nil {
		return fmt.Errorf("query: write json: %w", err)
	}
	if j.rows > 0 {
		j.write(",")
	}
	j.write(string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
	j.rows++
	return j.err
}

// Close writes the tail of the response and flushes it.
func (j *JSONWriter) Close() error {
	if !j.started {
		if err := j.Columns(nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(j.w, `],"rows_count":%d,"elapsed_ms":%s}`+"\n", j.rows,
		strconv.FormatFloat(float64(time.Since(j.start).Microseconds())/1000, 'f', -1, 64))
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("query: write json: %w", err)
	}
	return j.err
}

func (j *JSONWriter) write(s string) {
	if j.err == nil {
		if _, err := j.w.WriteString(s); err != nil {
			j.err = fmt.Errorf("query: write json: %w", err)
		}
	}
}

// CSVWriter writes a result as RFC 4180 CSV with a header of column names while its rows
// arrive. NULL is an empty field; arrays, maps and tuples are written as JSON. A cell that a
// spreadsheet would read as a formula (starting with =, +, -, @, a tab or a carriage return)
// gets a leading single quote, as OWASP advises against CSV injection.
type CSVWriter struct {
	out *counter
	cw  *csv.Writer
	rec []string
}

// NewCSVWriter returns a CSVWriter to w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	c := &counter{w: w}
	return &CSVWriter{out: c, cw: csv.NewWriter(c)}
}

// Started reports whether any of the response reached the client.
func (c *CSVWriter) Started() bool { return c.out.n > 0 }

// Columns writes the header.
func (c *CSVWriter) Columns(cols []store.Column) error {
	header := make([]string, len(cols))
	for i, col := range cols {
		header[i] = Defuse(col.Name)
	}
	c.rec = make([]string, len(cols))
	if err := c.cw.Write(header); err != nil {
		return fmt.Errorf("query: write csv: %w", err)
	}
	return nil
}

// Row writes one row.
func (c *CSVWriter) Row(row []any) error {
	for i := range c.rec {
		c.rec[i] = ""
		if i < len(row) {
			s, err := Field(row[i])
			if err != nil {
				return err
			}
			c.rec[i] = Defuse(s)
		}
	}
	if err := c.cw.Write(c.rec); err != nil {
		return fmt.Errorf("query: write csv: %w", err)
	}
	return nil
}

// Close flushes the output.
func (c *CSVWriter) Close() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return fmt.Errorf("query: write csv: %w", err)
	}
	return nil
}

// Defuse prefixes a cell that a spreadsheet would evaluate as a formula with a single quote. A
// number such as -3 or +1.5e3 is left as it is: it is no formula.
func Defuse(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// WriteJSON writes a whole result as a Response.
func WriteJSON(w io.Writer, res *store.Result, elapsed time.Duration) error {
	j := NewJSONWriter(w, time.Now().Add(-elapsed))
	return writeAll(j, res, j.Close)
}

// WriteCSV writes a whole result as CSV (see CSVWriter).
func WriteCSV(w io.Writer, res *store.Result) error {
	c := NewCSVWriter(w)
	return writeAll(c, res, c.Close)
}

func writeAll(w store.RowWriter, res *store.Result, closeFn func() error) error {
	if err := w.Columns(res.Columns); err != nil {
		return err
	}
	for _, r := range res.Rows {
		if err := w.Row(r); err != nil {
			return err
		}
	}
	return closeFn()
}

// Field renders one result value as text: NULL as "", numbers in their shortest form, composite
// values as JSON.
func Field(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		if math.Abs(x) < 1e21 {
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("query: render %T: %w", v, err)
	}
	return string(b), nil
}
