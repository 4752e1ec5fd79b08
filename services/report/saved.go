package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/store"
	"giveback.dev/services/report/query"
)

// Saved queries are read-only statements kept under a name in ClickHouse (saved_queries), with a
// description and parameters written in ClickHouse's own form, {name:Type}. A run binds each
// parameter's value as a typed literal, CAST('value' AS Type), in ClickHouse's canonical form of
// the statement (formatQuery), where no comment remains and every string literal is quoted, so
// a value can never be read as SQL; the bound statement then goes through the whole ad hoc path
// (store.AdHoc: the guard, ClickHouse's parser, the syntax tree's allow lists, readonly and the
// limits). A statement is saved only when it passes that guard with its parameters bound.

const (
	// maxSavedBody is the largest body POST /api/v1/saved-queries reads.
	maxSavedBody = query.MaxLen + 16<<10
	// maxDescription is the longest description, in characters.
	maxDescription = 2000
	// maxParamValue is the longest parameter value or default, in bytes.
	maxParamValue = 4 << 10
	// maxParams is the most parameters a saved query may have.
	maxParams = 32
)

var (
	savedNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	paramNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
)

// savedRequest is the body of POST /api/v1/saved-queries.
type savedRequest struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	SQL         string         `json:"sql"`
	Params      []paramRequest `json:"params"`
}

// paramRequest declares one parameter's default, and optionally its type, which must then be
// the one the SQL gives it.
type paramRequest struct {
	Name    string  `json:"name"`
	Type    string  `json:"type"`
	Default *string `json:"default"`
}

// parseSavedRequest decodes and checks a saved query's body, everything that needs no database:
// the name, the description, the statement's size, and the parameters' names and defaults.
// Errors name the field at fault.
func parseSavedRequest(body []byte) (savedRequest, error) {
	var req savedRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, badParam("body", "not a saved query: %v; send {\"name\": \"…\", \"description\": \"…\", \"sql\": \"SELECT …\", \"params\": [{\"name\": \"…\", \"default\": \"…\"}]}", err)
	}
	if dec.More() {
		return req, badParam("body", "more than one JSON value; send one object")
	}
	return req, req.check()
}

// check checks what needs no database: the name, the description, the statement's size, and
// the parameters' names and defaults. Errors name the field at fault.
func (req savedRequest) check() error {
	if !savedNameRE.MatchString(req.Name) {
		return badParam("name", "%q must be 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit", req.Name)
	}
	if !utf8.ValidString(req.Description) || utf8.RuneCountInString(req.Description) > maxDescription {
		return badParam("description", "must be valid UTF-8 of at most %d characters", maxDescription)
	}
	if strings.TrimSpace(req.SQL) == "" {
		return badParam("sql", "the statement is empty")
	}
	if len(req.SQL) > query.MaxLen {
		return badParam("sql", "the statement is longer than %d KiB", query.MaxLen>>10)
	}
	if len(req.Params) > maxParams {
		return badParam("params", "%d parameters; at most %d", len(req.Params), maxParams)
	}
	seen := map[string]bool{}
	for _, p := range req.Params {
		if !paramNameRE.MatchString(p.Name) {
			return badParam("params", "parameter name %q must be a letter or '_' then letters, digits or '_'", p.Name)
		}
		if seen[p.Name] {
			return badParam("params", "parameter %s is declared twice", p.Name)
		}
		seen[p.Name] = true
		if p.Default != nil {
			if err := checkValue(*p.Default); err != nil {
				return badParam("params", "default of %s: %v", p.Name, err)
			}
		}
	}
	return nil
}

// checkValue refuses a parameter value the guard would refuse once bound: too long, not UTF-8,
// or holding a control byte other than tab and newline.
func checkValue(v string) error {
	if len(v) > maxParamValue {
		return fmt.Errorf("longer than %d KiB", maxParamValue>>10)
	}
	if !utf8.ValidString(v) {
		return errors.New("not valid UTF-8")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return fmt.Errorf("control byte 0x%02x at byte %d", c, i+1)
		}
	}
	return nil
}

// placeholder is one {name:Type} of a canonical statement: its byte range, name and type.
type placeholder struct {
	start, end int
	name, typ  string
}

// scanParams finds the {name:Type} parameters of a statement in ClickHouse's canonical form
// (formatQuery): outside string literals and quoted identifiers, where no comment remains. It
// refuses a brace it cannot read as a parameter.
func scanParams(sql string) ([]placeholder, error) {
	var out []placeholder
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; c {
		case '\'', '"', '`':
			end, ok := quoteEnd(sql, i)
			if !ok {
				return nil, fmt.Errorf("unterminated %c at byte %d", c, i+1)
			}
			i = end - 1
		case '{':
			p, err := readPlaceholder(sql, i)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
			i = p.end - 1
		case '}':
			return nil, fmt.Errorf("a '}' without its '{' at byte %d", i+1)
		}
	}
	return out, nil
}

// quoteEnd returns the index just past the quoted token that starts at sql[i], with backslash
// escapes and doubled quotes as ClickHouse reads them.
func quoteEnd(sql string, i int) (int, bool) {
	q := sql[i]
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			j++
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return 0, false
}

// readPlaceholder reads {name:Type} at sql[i]. The type may hold parentheses and quoted
// arguments, as in DateTime64(3, 'UTC').
func readPlaceholder(sql string, i int) (placeholder, error) {
	colon := strings.IndexByte(sql[i:], ':')
	if colon < 0 {
		return placeholder{}, fmt.Errorf("a '{' at byte %d is not a parameter {name:Type}", i+1)
	}
	name := strings.TrimSpace(sql[i+1 : i+colon])
	if !paramNameRE.MatchString(name) {
		return placeholder{}, fmt.Errorf("a '{' at byte %d is not a parameter {name:Type}: %q is not a parameter name", i+1, name)
	}
	depth := 0
	for j := i + colon + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\'', '"', '`':
			end, ok := quoteEnd(sql, j)
			if !ok {
				return placeholder{}, fmt.Errorf("unterminated %c at byte %d", sql[j], j+1)
			}
			j = end - 1
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return placeholder{}, fmt.Errorf("parameter %s: unbalanced ')' in its type", name)
			}
		case '{':
			return placeholder{}, fmt.Errorf("parameter %s: a '{' inside its type", name)
		case '}':
			typ := strings.TrimSpace(sql[i+colon+1 : j])
			if depth != 0 || typ == "" {
				return placeholder{}, fmt.Errorf("parameter %s: its type %q is incomplete", name, typ)
			}
			if strings.EqualFold(typ, "Identifier") {
				return placeholder{}, fmt.Errorf("parameter %s: type Identifier is not supported; parameters are values (a table or column must be written in the statement)", name)
			}
			return placeholder{start: i, end: j + 1, name: name, typ: typ}, nil
		}
	}
	return placeholder{}, fmt.Errorf("parameter %s: no closing '}'", name)
}

// bind replaces each parameter of a canonical statement by its value as a typed literal. A
// parameter that values lacks is an error naming it.
func bind(sql string, ps []placeholder, values map[string]string) (string, error) {
	var b strings.Builder
	last := 0
	for _, p := range ps {
		v, ok := values[p.name]
		if !ok {
			return "", badParam("param_"+p.name, "no value: give param_%s=… (type %s)", p.name, p.typ)
		}
		b.WriteString(sql[last:p.start])
		b.WriteString("CAST(" + store.Quote(v) + " AS " + p.typ + ")")
		last = p.end
	}
	b.WriteString(sql[last:])
	return b.String(), nil
}

// paramsOf returns the distinct parameters of ps, in order of first use; a parameter given two
// different types is an error.
func paramsOf(ps []placeholder) ([]store.SavedParam, error) {
	var out []store.SavedParam
	types := map[string]string{}
	for _, p := range ps {
		if t, ok := types[p.name]; ok {
			if t != p.typ {
				return nil, fmt.Errorf("parameter %s has two types, %s and %s", p.name, t, p.typ)
			}
			continue
		}
		types[p.name] = p.typ
		out = append(out, store.SavedParam{Name: p.name, Type: p.typ})
	}
	return out, nil
}

// canonicalWithParams checks a statement with the guard and returns ClickHouse's canonical form
// of it, its parameters still unbound, and their placeholders. Errors wrap query.ErrRejected or
// store.ErrRefused for a statement that cannot be run, and name ClickHouse's reason for one it
// cannot parse.
func (s *Server) canonicalWithParams(ctx context.Context, sql string) (string, []placeholder, error) {
	trimmed, err := query.Check(sql)
	if err != nil {
		return "", nil, err
	}
	res, err := s.st.Query(ctx, "SELECT formatQuery("+store.Quote(trimmed)+")", nil)
	if err != nil {
		if strings.Contains(err.Error(), "Multi-statements are not allowed") {
			return "", nil, fmt.Errorf("%w: second statement: ClickHouse reads more than one statement here", store.ErrRefused)
		}
		return "", nil, fmt.Errorf("%w: ClickHouse cannot parse it: %s", store.ErrRefused, clickhouseMessage(err))
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return "", nil, fmt.Errorf("report: formatQuery returned %d rows", len(res.Rows))
	}
	canonical := strings.TrimSpace(store.AsString(res.Rows[0][0]))
	ps, err := scanParams(canonical)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", query.ErrRejected, err)
	}
	return canonical, ps, nil
}

// savedList serves GET /api/v1/saved-queries:
//
//	{"queries": [{"name": "merged-by-team", "description": "…", "sql": "SELECT … {team:String} …",
//	  "params": [{"name": "team", "type": "String", "default": "core"}], "author": "alice",
//	  "updated_at": "2025-03-01T10:00:00Z"}, …]}
func (s *Server) savedList(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r.URL.Query()); err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	qs, err := s.st.SavedQueries(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"queries": qs})
}

// savedCreate serves POST /api/v1/saved-queries with a JSON body (Content-Type application/json):
//
//	{"name": "merged-by-team", "description": "Merged pull requests of a team",
//	 "sql": "SELECT repo, count() FROM contributions FINAL WHERE team = {team:String} AND merged GROUP BY repo",
//	 "params": [{"name": "team", "default": "core"}]}
//
// The parameters are read from the SQL; params only gives defaults (and, if it names a type,
// that must be the SQL's). Saving under an existing name replaces the query. It answers 200
// with the saved query; 400 naming the field for a bad body, and naming the reason for a
// statement the read-only guard refuses or ClickHouse cannot parse.
func (s *Server) savedCreate(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.fail(w, r, http.StatusUnsupportedMediaType, "body", errors.New("send the saved query as JSON with Content-Type: application/json"))
		return
	}
	if err := checkParams(r.URL.Query()); err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSavedBody+1))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "body", fmt.Errorf("read body: %w", err))
		return
	}
	if len(body) > maxSavedBody {
		s.fail(w, r, http.StatusRequestEntityTooLarge, "body", fmt.Errorf("the body is longer than %d KiB", maxSavedBody>>10))
		return
	}
	req, err := parseSavedRequest(body)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	sq, err := s.saveQuery(r.Context(), req)
	var se *saveError
	switch {
	case errors.As(err, &se):
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	case err != nil:
		s.failStatement(w, r, "sql", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, sq)
}

// saveError is a failure to write a checked saved query (the database's fault, not the query's).
type saveError struct{ err error }

func (e *saveError) Error() string { return e.err.Error() }
func (e *saveError) Unwrap() error { return e.err }

// saveQuery checks the request's statement (checkSaved) and saves it under the caller's name;
// a failure to write is a *saveError, any other error is the statement's.
func (s *Server) saveQuery(ctx context.Context, req savedRequest) (store.SavedQuery, error) {
	sq, err := s.checkSaved(ctx, req)
	if err != nil {
		return sq, err
	}
	if id, ok := auth.FromContext(ctx); ok {
		sq.Author = id.Subject
	}
	now := s.opts.Now()
	if err := s.st.SaveQuery(ctx, sq, now); err != nil {
		return sq, &saveError{err}
	}
	sq.UpdatedAt = now.UTC().Truncate(1e6)
	s.log.Info("query saved", slog.String("name", sq.Name), slog.String("author", sq.Author))
	return sq, nil
}

// checkSaved turns a request into the saved query it describes, after checking its statement
// with every parameter bound (to its default, or an empty value) through the read-only guard.
func (s *Server) checkSaved(ctx context.Context, req savedRequest) (store.SavedQuery, error) {
	sq := store.SavedQuery{Name: req.Name, Description: req.Description}
	trimmed, err := query.Check(req.SQL)
	if err != nil {
		return sq, err
	}
	sq.SQL = trimmed
	canonical, ps, err := s.canonicalWithParams(ctx, trimmed)
	if err != nil {
		return sq, err
	}
	params, err := paramsOf(ps)
	if err != nil {
		return sq, fmt.Errorf("%w: %v", query.ErrRejected, err)
	}
	declared := map[string]paramRequest{}
	for _, p := range req.Params {
		declared[p.Name] = p
	}
	values := map[string]string{}
	for i, p := range params {
		d, ok := declared[p.Name]
		delete(declared, p.Name)
		if ok && d.Type != "" && d.Type != p.Type {
			return sq, badParam("params", "parameter %s is %s in the statement, not %s", p.Name, p.Type, d.Type)
		}
		params[i].Default = d.Default
		values[p.Name] = ""
		if d.Default != nil {
			values[p.Name] = *d.Default
		}
	}
	if len(declared) > 0 {
		names := make([]string, 0, len(declared))
		for n := range declared {
			names = append(names, n)
		}
		sort.Strings(names)
		return sq, badParam("params", "%s not in the statement; write {%s:Type} in the SQL or remove it from params", strings.Join(names, ", "), names[0])
	}
	bound, err := bind(canonical, ps, values)
	if err != nil {
		return sq, err
	}
	if _, err := s.st.Canonical(ctx, bound, query.Check); err != nil {
		return sq, err
	}
	if params == nil {
		params = []store.SavedParam{}
	}
	sq.Params = params
	return sq, nil
}

// failStatement answers the error of checking or running a statement: 400 naming the reason
// for a refused or failing statement or a bad parameter, 500 for anything else.
func (s *Server) failStatement(w http.ResponseWriter, r *http.Request, param string, err error) {
	var pe *paramError
	switch {
	case errors.As(err, &pe):
		s.fail(w, r, http.StatusBadRequest, "", err)
	case errors.Is(err, query.ErrRejected), errors.Is(err, store.ErrRefused):
		s.fail(w, r, http.StatusBadRequest, param, err)
	case errors.Is(err, store.ErrBusy):
		w.Header().Set("Retry-After", "1")
		s.fail(w, r, http.StatusTooManyRequests, "", errors.New("too many ad hoc queries are running; retry in a second"))
	case strings.Contains(err.Error(), "DB::Exception"):
		s.fail(w, r, http.StatusBadRequest, param, fmt.Errorf("query failed: %s", clickhouseMessage(err)))
	default:
		s.fail(w, r, http.StatusInternalServerError, "", err)
	}
}

// savedDelete serves DELETE /api/v1/saved-queries/{name}: {"name": "team-repos", "deleted": true},
// with deleted false when there was no such query (deleting is idempotent). The guard wants a
// Content-Type (application/json) even with an empty body.
func (s *Server) savedDelete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !savedNameRE.MatchString(name) {
		s.fail(w, r, http.StatusBadRequest, "name", fmt.Errorf("%q is not a saved query name", name))
		return
	}
	ok, err := s.deleteSaved(r.Context(), name)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"name": name, "deleted": ok})
}

// deleteSaved deletes the saved query name in the caller's name, and reports whether there was
// one.
func (s *Server) deleteSaved(ctx context.Context, name string) (bool, error) {
	author := ""
	if id, ok := auth.FromContext(ctx); ok {
		author = id.Subject
	}
	ok, err := s.st.DeleteSavedQuery(ctx, name, author, s.opts.Now())
	if ok && err == nil {
		s.log.Info("saved query deleted", slog.String("name", name), slog.String("author", author))
	}
	return ok, err
}

// savedStatement returns the statement of the saved query name with the parameters of q
// (param_NAME=value, or each one's default) bound, ready for store.AdHoc. An unknown query is
// errNoSaved.
func (s *Server) savedStatement(ctx context.Context, name string, values map[string]string) (string, error) {
	sq, ok, err := s.st.SavedQuery(ctx, name)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: %q", errNoSaved, name)
	}
	all := map[string]string{}
	known := map[string]bool{}
	for _, p := range sq.Params {
		known[p.Name] = true
		if p.Default != nil {
			all[p.Name] = *p.Default
		}
	}
	for k, v := range values {
		if !known[k] {
			return "", badParam("param_"+k, "query %s has no parameter %s", name, k)
		}
		if err := checkValue(v); err != nil {
			return "", badParam("param_"+k, "%v", err)
		}
		all[k] = v
	}
	canonical, ps, err := s.canonicalWithParams(ctx, sq.SQL)
	if err != nil {
		return "", err
	}
	return bind(canonical, ps, all)
}

// errNoSaved is a run of a saved query that does not exist.
var errNoSaved = errors.New("no such saved query")

// readSavedRun reads the parameters of a run of a saved query: saved=NAME, format and
// param_NAME=value, each given once.
func readSavedRun(r *http.Request) (name, format string, values map[string]string, err error) {
	q := r.URL.Query()
	values = map[string]string{}
	for k, v := range q {
		if len(v) > 1 {
			return "", "", nil, badParam(k, "given %d times; give it once", len(v))
		}
		switch {
		case k == "saved" || k == "format":
		case strings.HasPrefix(k, "param_") && paramNameRE.MatchString(strings.TrimPrefix(k, "param_")):
			values[strings.TrimPrefix(k, "param_")] = v[0]
		default:
			return "", "", nil, badParam(k, "unknown parameter; a run of a saved query takes saved, format and param_NAME")
		}
	}
	name = q.Get("saved")
	if !savedNameRE.MatchString(name) {
		return "", "", nil, badParam("saved", "%q is not a saved query name", name)
	}
	format = strings.ToLower(q.Get("format"))
	switch format {
	case "":
		format = "json"
	case "json", "csv":
	default:
		return "", "", nil, badParam("format", "%q must be json or csv", format)
	}
	return name, format, values, nil
}

// runSaved serves GET /api/v1/query?saved=NAME&param_x=…&format=json|csv: the saved query with
// its parameters bound, answered as an ad hoc query. An unknown query is 404; a missing or
// unknown parameter is 400 naming it.
func (s *Server) runSaved(w http.ResponseWriter, r *http.Request) {
	name, format, values, err := readSavedRun(r)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	sql, err := s.savedStatement(r.Context(), name, values)
	if errors.Is(err, errNoSaved) {
		s.fail(w, r, http.StatusNotFound, "saved", err)
		return
	}
	if err != nil {
		s.failStatement(w, r, "saved", err)
		return
	}
	if format == "csv" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	}
	s.runStatement(w, r, sql, format)
}
