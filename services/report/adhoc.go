package report

import (
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"giveback.dev/services/report/query"
)

// query serves GET and POST /api/v1/query: one read-only statement, given as the q parameter
// or (POST) as the body, raw (text/plain, application/sql) or form-encoded (q=…). format=json
// (default) or csv.
//
// JSON: {"columns": [{"name": "kind", "type": "LowCardinality(String)"}], "rows": [["review"]],
// "rows_count": 1, "elapsed_ms": 2.4}. CSV: a header of column names, then the rows.
//
// The statement passes query.Check (one SELECT, WITH, SHOW, DESCRIBE, DESC or EXPLAIN; no
// FORMAT, SETTINGS or INTO OUTFILE; no file(), url() or other reach outside the database) and
// runs with readonly=1 and the configured limits. A refused or failing statement is 400
// {"error": "…", "param": "q"} with the reason; nothing is changed.
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	sql, format, err := readQuery(r)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	stmt, err := query.Check(sql)
	if err != nil {
		s.log.Info("query refused", slog.String("reason", err.Error()))
		s.fail(w, r, http.StatusBadRequest, "q", err)
		return
	}
	start := time.Now()
	res, err := s.st.Query(r.Context(), stmt, query.Settings(s.opts.Query))
	elapsed := time.Since(start)
	if err != nil {
		// The statement is the user's: its failure (syntax, unknown column, a limit) is theirs to fix.
		s.log.Info("query failed", slog.Duration("elapsed", elapsed), slog.Any("err", err))
		s.fail(w, r, http.StatusBadRequest, "q", fmt.Errorf("query failed: %s", clickhouseMessage(err)))
		return
	}
	s.log.Debug("query", slog.Duration("elapsed", elapsed), slog.Int("rows", len(res.Rows)))
	w.Header().Set("Cache-Control", "no-store")
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
		err = query.WriteCSV(w, res)
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		err = query.WriteJSON(w, res, elapsed)
	}
	if err != nil {
		s.log.Warn("write query result", slog.Any("err", err))
	}
}

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
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			mt = "text/plain" // no or unreadable Content-Type: the body is the statement
		}
		text := string(body)
		if mt == "application/x-www-form-urlencoded" {
			form, err := parseForm(text)
			if err != nil {
				return "", "", badParam("q", "%v", err)
			}
			text = form
		}
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

// parseForm returns q of a form-encoded body.
func parseForm(body string) (string, error) {
	vals, err := url.ParseQuery(body)
	if err != nil {
		return "", fmt.Errorf("form body: %w", err)
	}
	for k := range vals {
		if k != "q" {
			return "", fmt.Errorf("form body: unknown field %q; send q", k)
		}
	}
	return vals.Get("q"), nil
}

// clickhouseMessage shortens a store error to ClickHouse's own message.
func clickhouseMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"store: chdb: ", "store: clickhouse: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}
