package query

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
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
func Settings(q config.Query) store.Settings {
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
	return store.Settings{
		"readonly":             1,
		"max_rows_to_read":     q.MaxRows,
		"max_result_rows":      q.MaxRowsOut,
		"max_result_bytes":     q.MaxBytes,
		"max_execution_time":   int64(q.MaxTime.D() / time.Second),
		"result_overflow_mode": "throw",
		"read_overflow_mode":   "throw",
	}
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

// WriteJSON writes the result as a Response.
func WriteJSON(w io.Writer, res *store.Result, elapsed time.Duration) error {
	resp := Response{Columns: res.Columns, Rows: res.Rows, RowsCount: len(res.Rows),
		ElapsedMS: float64(elapsed.Microseconds()) / 1000}
	if resp.Columns == nil {
		resp.Columns = []store.Column{}
	}
	if resp.Rows == nil {
		resp.Rows = [][]any{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		return fmt.Errorf("query: write json: %w", err)
	}
	return nil
}

// WriteCSV writes the result as RFC 4180 CSV with a header of column names. NULL is an empty
// field; arrays, maps and tuples are written as JSON.
func WriteCSV(w io.Writer, res *store.Result) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("query: write csv: %w", err)
	}
	rec := make([]string, len(res.Columns))
	for _, row := range res.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) {
				s, err := Field(row[i])
				if err != nil {
					return err
				}
				rec[i] = s
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("query: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("query: write csv: %w", err)
	}
	return nil
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
