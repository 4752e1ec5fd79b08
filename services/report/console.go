package report

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/services/report/query"
	"giveback.dev/services/report/web"
)

// consoleRows is the most rows the console page shows; the downloads have them all.
const consoleRows = 500

//go:embed web/assets/console.html
var consoleHTML string

var consoleTmpl = web.NewPage("console", consoleHTML, pageFuncs)

// consoleExample is one example query of the console.
type consoleExample struct {
	Title string
	SQL   string
}

// consoleExamples are shown beside the editor; each runs as it is.
var consoleExamples = []consoleExample{
	{"Upstream contributions by kind, this year",
		"SELECT kind, count() AS contributions\nFROM contributions FINAL\nWHERE is_upstream AND occurred_at >= toStartOfYear(now())\nGROUP BY kind\nORDER BY contributions DESC"},
	{"Top upstream repositories and their contributors",
		"SELECT repo, count() AS contributions, uniqExact(employee_id) AS people\nFROM contributions FINAL\nWHERE is_upstream\nGROUP BY repo\nORDER BY contributions DESC\nLIMIT 20"},
	{"Pull request acceptance per team",
		"SELECT team, countIf(merged) AS merged, countIf(state = 'closed') AS closed,\n       round(merged / nullIf(closed, 0), 3) AS acceptance\nFROM contributions FINAL\nWHERE kind = 'pull_request' AND is_upstream\nGROUP BY team\nORDER BY merged DESC"},
	{"Where the work goes: destinations per month",
		"SELECT toStartOfMonth(occurred_at) AS month, destination, count() AS contributions\nFROM contributions FINAL\nGROUP BY month, destination\nORDER BY month, destination"},
	{"Contributions to the dependencies, by criticality",
		"SELECT repo, any(dependency_criticality) AS criticality, count() AS contributions\nFROM contributions FINAL\nWHERE is_dependency\nGROUP BY repo\nORDER BY criticality DESC, contributions DESC\nLIMIT 20"},
}

// schemaTable is one table or view of the console's schema panel.
type schemaTable struct {
	Name    string
	Engine  string
	Columns []schemaColumn
}

type schemaColumn struct{ Name, Type, Comment string }

// resultTable collects the first rows of a result for the page, counting the rest.
type resultTable struct {
	Cols  []store.Column
	Rows  [][]string
	Total int
}

func (t *resultTable) Columns(cols []store.Column) error {
	t.Cols = append([]store.Column(nil), cols...)
	return nil
}

func (t *resultTable) Row(row []any) error {
	t.Total++
	if len(t.Rows) >= consoleRows {
		return nil
	}
	cells := make([]string, len(row))
	for i, v := range row {
		s, err := query.Field(v)
		if err != nil {
			return err
		}
		cells[i] = s
	}
	t.Rows = append(t.Rows, cells)
	return nil
}

// consoleParam is one parameter input of a saved query on the page.
type consoleParam struct {
	Name, Type, Value string
}

type consoleView struct {
	Chrome   web.Chrome
	SQL      string
	Saved    *store.SavedQuery
	Params   []consoleParam
	Error    string
	Ran      bool
	Result   resultTable
	Shown    int
	Elapsed  string
	CSV      string // the download links of the result
	JSON     string
	Schema   []schemaTable
	Examples []consoleExample
	Queries  []store.SavedQuery
	Notice   string // why the schema or the saved queries are missing
	// The save form of a statement of the editor: its name, description and a default for
	// each parameter (editorParams), as the user last gave them.
	SaveName, SaveDescription string
	SaveParams                []consoleParam
	SaveOpen                  bool   // the form failed, or the statement has parameters: show it open
	ParamsHint                string // why a statement with parameters did not run
}

// newConsoleView returns the console's view with its layout; base leads from the page's path
// to the site root.
func (s *Server) newConsoleView(base string) consoleView {
	return consoleView{Examples: consoleExamples, Chrome: web.Chrome{Company: s.opts.Company, Title: "Query console", Active: "query", Base: base, Nav: s.nav(),
		Subtitle: "Read-only SQL on the Giveback database, through the same endpoint as giveback query: one SELECT, WITH, SHOW, DESCRIBE or EXPLAIN"}}
}

// consolePage serves GET /query: the SQL console. sql=STATEMENT runs one ad hoc statement;
// saved=NAME shows a saved query with its parameters (param_NAME=value), and runs it when run=1.
// The result shows as a table (the first 500 rows) with CSV and JSON downloads of the whole of
// it through GET /api/v1/query, the endpoint the CLI uses. Beside the editor: the tables and
// columns of the database, the FINAL rule, example queries and the saved queries. A refused or
// failing statement shows ClickHouse's reason and answers 400.
func (s *Server) consolePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := s.newConsoleView("./")
	status := http.StatusOK
	q := r.URL.Query()

	sql, statement, err := s.consoleStatement(ctx, q, &v)
	if err == nil && v.Saved == nil && statement != "" && len(v.SaveParams) > 0 {
		// A statement with parameters runs as a saved query, which asks for their values.
		names := make([]string, len(v.SaveParams))
		for i, p := range v.SaveParams {
			names[i] = p.Name
		}
		v.ParamsHint = "This statement has parameters (" + strings.Join(names, ", ") + "): save it, with a default for each, then run it with the values you choose."
		v.SaveOpen, statement = true, ""
	}
	switch {
	case errors.Is(err, errNoSaved):
		v.Error, status = err.Error(), http.StatusNotFound
	case err != nil:
		v.Error, status = s.consoleError(err)
	case statement != "":
		v.Ran = true
		start := time.Now()
		err := s.st.AdHoc(ctx, statement, query.Options(s.opts.Query), &v.Result)
		v.Elapsed = time.Since(start).Round(time.Millisecond).String()
		if err != nil {
			v.Ran = false
			v.Error, status = s.consoleError(err)
		}
		v.Shown = len(v.Result.Rows)
		link := url.Values{"q": {sql}}
		if v.Saved != nil {
			link = url.Values{"saved": {v.Saved.Name}}
			for _, p := range v.Params {
				link.Set("param_"+p.Name, p.Value)
			}
		}
		link.Set("format", "csv")
		v.CSV = "api/v1/query?" + link.Encode()
		link.Set("format", "json")
		v.JSON = "api/v1/query?" + link.Encode()
	}

	s.renderConsole(w, r, v, status)
}

// editorParams returns the parameters {name:Type} of the editor's statement, each once in the
// order they first appear, with its value from defaults: the save form asks a default for each.
// A statement the scan cannot read gets none, and saving it names the fault.
func editorParams(sql string, defaults map[string]string) []consoleParam {
	ps, err := scanParams(sql)
	if err != nil {
		return nil
	}
	var out []consoleParam
	for _, p := range ps {
		if !slices.ContainsFunc(out, func(c consoleParam) bool { return c.Name == p.name }) {
			out = append(out, consoleParam{Name: p.name, Type: p.typ, Value: defaults[p.name]})
		}
	}
	return out
}

// renderConsole completes the console's view (freshness, schema, saved queries) and writes the
// page with status.
func (s *Server) renderConsole(w http.ResponseWriter, r *http.Request, v consoleView, status int) {
	ctx := r.Context()
	var err error
	if fr, err := freshness(ctx, s.st); err == nil {
		v.Chrome.Fresh = fr
	}
	if v.Schema, err = s.schema(ctx); err != nil {
		s.log.Error("console: schema", slog.Any("err", err))
		v.Notice = "The schema and the saved queries could not be read; the server log has the detail."
	} else if v.Queries, err = s.st.SavedQueries(ctx); err != nil {
		s.log.Error("console: saved queries", slog.Any("err", err))
		v.Notice = "The saved queries could not be read; the server log has the detail."
	}

	var buf bytes.Buffer
	if err := consoleTmpl.Execute(&buf, v); err != nil {
		s.log.Error("console page", slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.writePage(w, status, &buf, "console page")
}

// consoleStatement reads the page's parameters into v and returns the SQL as the user sees it
// and the statement to run; both are empty when there is nothing to run yet.
func (s *Server) consoleStatement(ctx context.Context, q url.Values, v *consoleView) (sql, statement string, err error) {
	values := map[string]string{}
	for k, vs := range q {
		if len(vs) > 1 {
			return "", "", badParam(k, "given %d times; give it once", len(vs))
		}
		switch {
		case k == "sql" || k == "saved" || k == "run":
		case strings.HasPrefix(k, "param_") && paramNameRE.MatchString(strings.TrimPrefix(k, "param_")):
			values[strings.TrimPrefix(k, "param_")] = vs[0]
		default:
			return "", "", badParam(k, "unknown parameter; the console takes sql, or saved, run and param_NAME")
		}
	}
	name := q.Get("saved")
	if name == "" {
		if len(values) > 0 {
			return "", "", badParam("saved", "parameters are for a saved query: give saved=NAME")
		}
		v.SQL = q.Get("sql")
		if strings.TrimSpace(v.SQL) == "" {
			return "", "", nil
		}
		v.SaveParams = editorParams(v.SQL, nil)
		if len(v.SQL) > query.MaxLen {
			return "", "", badParam("sql", "the statement is longer than %d KiB", query.MaxLen>>10)
		}
		return v.SQL, v.SQL, nil
	}
	if q.Has("sql") {
		return "", "", badParam("sql", "give either sql or saved, not both")
	}
	if !savedNameRE.MatchString(name) {
		return "", "", badParam("saved", "%q is not a saved query name", name)
	}
	sq, ok, err := s.st.SavedQuery(ctx, name)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", fmt.Errorf("%w: %q", errNoSaved, name)
	}
	v.Saved, v.SQL = &sq, sq.SQL
	for _, p := range sq.Params {
		cp := consoleParam{Name: p.Name, Type: p.Type}
		if p.Default != nil {
			cp.Value = *p.Default
		}
		if x, ok := values[p.Name]; ok {
			cp.Value = x
		}
		v.Params = append(v.Params, cp)
	}
	if q.Get("run") != "1" {
		return sq.SQL, "", nil
	}
	for _, p := range v.Params {
		values[p.Name] = p.Value
	}
	statement, err = s.savedStatement(ctx, name, values)
	return sq.SQL, statement, err
}

// consoleError is the page's text and status for a failed statement.
func (s *Server) consoleError(err error) (string, int) {
	var pe *paramError
	switch {
	case errors.As(err, &pe), errors.Is(err, query.ErrRejected), errors.Is(err, store.ErrRefused):
		return err.Error(), http.StatusBadRequest
	case errors.Is(err, store.ErrBusy):
		return "Too many ad hoc queries are running; run it again in a second.", http.StatusTooManyRequests
	case strings.Contains(err.Error(), "DB::Exception"):
		// The statement is the user's: ClickHouse's reason (syntax, unknown column, a limit or
		// the time limit) is theirs to act on.
		return "query failed: " + clickhouseMessage(err), http.StatusBadRequest
	}
	s.log.Error("console", slog.Any("err", err))
	return "the database did not answer; the server log has the detail", http.StatusInternalServerError
}

// schema returns the tables and views of the database with their columns, as DESCRIBE gives
// them, leaving out the migrations' bookkeeping and the hidden tables of materialized views.
func (s *Server) schema(ctx context.Context) ([]schemaTable, error) {
	res, err := s.st.Query(ctx, `SELECT c.table, t.engine, c.name, c.type, c.comment
FROM system.columns AS c
INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
WHERE c.database = currentDatabase() AND c.table != 'schema_migrations' AND NOT startsWith(c.table, '.')
ORDER BY c.table, c.position`, nil)
	if err != nil {
		return nil, fmt.Errorf("report: schema: %w", err)
	}
	var out []schemaTable
	for _, r := range res.Rows {
		name := store.AsString(r[0])
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, schemaTable{Name: name, Engine: store.AsString(r[1])})
		}
		t := &out[len(out)-1]
		t.Columns = append(t.Columns, schemaColumn{Name: store.AsString(r[2]), Type: store.AsString(r[3]), Comment: store.AsString(r[4])})
	}
	// The tables analysts query most come first.
	first := map[string]int{"contributions": 0, "raw_events": 1}
	sort.SliceStable(out, func(i, j int) bool {
		a, aok := first[out[i].Name]
		b, bok := first[out[j].Name]
		switch {
		case aok && bok:
			return a < b
		case aok != bok:
			return aok
		}
		return false
	})
	return out, nil
}
