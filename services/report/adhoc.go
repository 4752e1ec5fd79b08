package report

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/services/report/query"
)

// query serves GET and POST /api/v1/query: one read-only statement, given as the q parameter
// or (POST) as the body with Content-Type application/sql (any other body type is 415). format=json
// (default) or csv.
//
// JSON: {"columns": [{"name": "kind", "type": "LowCardinality(String)"}], "rows": [["review"]],
// "rows_count": 1, "elapsed_ms": 2.4}. CSV: a header of column names, then the rows, with cells
// that a spreadsheet would read as formulas defused.
//
// The statement runs through store.AdHoc: query.Check (one SELECT, WITH, SHOW, DESCRIBE, DESC or
// EXPLAIN; no control byte, no comment form but -- and /* */, no FORMAT, SETTINGS or INTO
// OUTFILE; no file(), url() or other reach outside the database), then ClickHouse's own parser,
// whose canonical form alone runs, with readonly and the configured limits. A refused or failing
// statement is 400 {"error": "…", "param": "q"} whose reason starts with its class; nothing is
// changed. Beyond query.max_concurrent running statements the answer is 429 with Retry-After.
// The result is written as it is decoded; a client that leaves before the statement starts
// never starts it, and on a server its leaving cancels the statement.
//
// GET with saved=NAME runs a saved query instead (runSaved).
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Query().Has("saved") {
		s.runSaved(w, r)
		return
	}
	sql, format, err := readQuery(r)
	if errors.Is(err, errUnsupportedBody) {
		s.fail(w, r, http.StatusUnsupportedMediaType, "q", err)
		return
	}
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	s.runStatement(w, r, sql, format)
}

// runStatement runs one untrusted statement through store.AdHoc and writes its result in
// format (json or csv) as it is read, or the error as query describes.
func (s *Server) runStatement(w http.ResponseWriter, r *http.Request, sql, format string) {
	start := time.Now()
	var out interface {
		store.RowWriter
		Started() bool
		Close() error
	}
	if format == "csv" {
		out = query.NewCSVWriter(w)
	} else {
		out = query.NewJSONWriter(w, start)
	}
	head := &headOnFirst{RowWriter: out, set: func() {
		w.Header().Set("Cache-Control", "no-store")
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
		} else {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
	}}
	err := s.st.AdHoc(r.Context(), sql, query.Options(s.opts.Query), head)
	elapsed := time.Since(start)
	switch {
	case err == nil:
		if err := out.Close(); err != nil {
			s.log.Warn("write query result", slog.Any("err", err))
		}
		s.log.Debug("query", slog.Duration("elapsed", elapsed))
	case out.Started():
		// Part of the result reached the client when the statement failed (a client gone, or a
		// limit met in a server's stream): the truncated body is all it can get.
		s.log.Warn("query failed while writing", slog.Duration("elapsed", elapsed), slog.Any("err", err))
	case errors.Is(err, store.ErrBusy):
		w.Header().Set("Retry-After", "1")
		s.fail(w, r, http.StatusTooManyRequests, "", errors.New("too many ad hoc queries are running; retry in a second"))
	case errors.Is(err, query.ErrRejected), errors.Is(err, store.ErrRefused):
		s.log.Info("query refused", slog.String("reason", err.Error()))
		s.fail(w, r, http.StatusBadRequest, "q", err)
	case r.Context().Err() != nil:
		s.log.Info("query abandoned by its client", slog.Duration("elapsed", elapsed))
	default:
		// The statement is the user's: its failure (syntax, unknown column, a limit) is theirs to fix.
		s.log.Info("query failed", slog.Duration("elapsed", elapsed), slog.Any("err", err))
		s.fail(w, r, http.StatusBadRequest, "q", fmt.Errorf("query failed: %s", clickhouseMessage(err)))
	}
}

// headOnFirst sets the response headers just before the first byte of a result is written.
type headOnFirst struct {
	store.RowWriter
	set  func()
	done bool
}

func (h *headOnFirst) Columns(cols []store.Column) error {
	if !h.done {
		h.done = true
		h.set()
	}
	return h.RowWriter.Columns(cols)
}

// errUnsupportedBody refuses a POST body that is not application/sql.
var errUnsupportedBody = errors.New("the body must be the SQL statement with Content-Type: application/sql")

// readQuery reads the statement and the format of an ad hoc query request.
func readQuery(r *http.Request) (sql, format string, err error) {
	q := r.URL.Query()
	for k, v := range q {
		if k != "q" && k != "format" {
			return "", "", badParam(k, "unknown parameter; this endpoint takes q and format")
		}
		if len(v) > 1 {
			return "", "", badParam(k, "given %d times; give it once", len(v))
		}
	}
	format = strings.ToLower(q.Get("format"))
	switch format {
	case "":
		format = "json"
	case "json", "csv":
	default:
		return "", "", badParam("format", "%q must be json or csv", format)
	}
	sql = q.Get("q")
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, query.MaxLen+1))
		if err != nil {
			return "", "", badParam("q", "read body: %v", err)
		}
		if len(body) > query.MaxLen {
			return "", "", badParam("q", "the query is longer than %d KiB", query.MaxLen>>10)
		}
		// Only application/sql: a browser sends text/plain and form bodies cross-site without a
		// CORS preflight, so those are what a foreign page would use to run a query here.
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/sql" {
			return "", "", errUnsupportedBody
		}
		text := string(body)
		if strings.TrimSpace(text) != "" {
			if sql != "" {
				return "", "", badParam("q", "given both in the URL and in the body; give it once")
			}
			sql = text
		}
	}
	if strings.TrimSpace(sql) == "" {
		return "", "", badParam("q", "no query: pass q=SQL, or POST the SQL as the body")
	}
	return sql, format, nil
}

// clickhouseMessage shortens a store error to ClickHouse's own message.
func clickhouseMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"store: chdb: ", "store: clickhouse: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}
