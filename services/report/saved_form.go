package report

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// The console's forms for saved queries: save the editor's statement, delete a saved query.
// They are plain form posts, so the page needs no script; the guard refuses them from another
// site or origin, as it does every request that changes state.

// savedFormCreate serves POST /query/saved, the console's "Save" form (form-urlencoded): name,
// description, sql, and default_NAME for each parameter {NAME:Type} of the statement. The
// statement is checked as POST /api/v1/saved-queries checks it, and saving under an existing
// name replaces the query. It answers 303 to the saved query's page; a bad form or statement
// shows the console again with the reason and the form as it was (400).
func (s *Server) savedFormCreate(w http.ResponseWriter, r *http.Request) {
	v := s.newConsoleView("../")
	fail := func(err error) {
		var status int
		v.Error, status = s.consoleError(err)
		v.Error, v.SaveOpen = "The query was not saved: "+v.Error, true
		s.renderConsole(w, r, v, status)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSavedBody)
	if err := r.ParseForm(); err != nil {
		fail(badParam("body", "the form could not be read: %v", err))
		return
	}
	if len(r.URL.RawQuery) > 0 {
		fail(badParam("query", "the form takes no URL parameters"))
		return
	}
	req, defaults, err := parseSavedForm(r.PostForm)
	v.SQL, v.SaveName, v.SaveDescription, v.SaveParams = req.SQL, req.Name, req.Description, editorParams(req.SQL, defaults)
	if err != nil {
		fail(err)
		return
	}
	sq, err := s.saveQuery(r.Context(), req)
	if err != nil {
		fail(err)
		return
	}
	// Relative, so that the page is found behind a proxy that serves Giveback under a prefix.
	w.Header().Set("Location", "../query?"+url.Values{"saved": {sq.Name}}.Encode())
	w.WriteHeader(http.StatusSeeOther)
}

// parseSavedForm reads the save form's fields into a saved query request and checks it as
// parseSavedRequest does (savedRequest.check); defaults are the parameters' defaults as given,
// to show the form again. Errors name the field at fault.
func parseSavedForm(f url.Values) (savedRequest, map[string]string, error) {
	req := savedRequest{Name: f.Get("name"), Description: f.Get("description"), SQL: f.Get("sql")}
	defaults := map[string]string{}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first fault named is the same at every try
	for _, k := range keys {
		vs := f[k]
		if len(vs) > 1 {
			return req, defaults, badParam(k, "given %d times; give it once", len(vs))
		}
		name, isDefault := strings.CutPrefix(k, "default_")
		switch {
		case k == "name" || k == "description" || k == "sql":
		case isDefault && paramNameRE.MatchString(name):
			d := vs[0]
			defaults[name] = d
			req.Params = append(req.Params, paramRequest{Name: name, Default: &d})
		default:
			return req, defaults, badParam(k, "unknown field; the form takes name, description, sql and default_NAME")
		}
	}
	return req, defaults, req.check()
}

// savedFormDelete serves POST /query/saved/{name}/delete, the saved query page's "Delete"
// button: it deletes the query (deleting one that is gone already is no error) and answers 303
// to the console.
func (s *Server) savedFormDelete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !savedNameRE.MatchString(name) {
		s.fail(w, r, http.StatusBadRequest, "name", fmt.Errorf("%q is not a saved query name", name))
		return
	}
	if _, err := s.deleteSaved(r.Context(), name); err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	w.Header().Set("Location", "../../../query")
	w.WriteHeader(http.StatusSeeOther)
}
