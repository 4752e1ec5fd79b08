package report_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"giveback.dev/platform/config"
	"giveback.dev/platform/store"
)

// The console's forms: the editor's statement is saved with a name, a description and a default
// per parameter, shows on its page, runs with other values and downloads; a statement the guard
// refuses is not saved and the form comes back with the reason and what was typed; the saved
// query's page deletes it. On the real handler and chDB.
func TestSavedQueryForms(t *testing.T) {
	ts, _ := server(t, config.Query{})
	form := "application/x-www-form-urlencoded"

	// The editor holding a statement with parameters offers a default for each.
	status, page := send(t, ts, http.MethodGet, "/query?"+url.Values{"sql": {teamRepos}}.Encode(), "", "")
	for _, want := range []string{`id="save-form"`, `action="./query/saved"`, `name="default_team"`, `name="default_since"`, `<small>Date</small>`,
		`id="params-hint"`, `<details class="save" open>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the editor's save form lacks %s", want)
		}
	}
	if status != http.StatusOK || strings.Contains(page, `id="result"`) || t.Failed() {
		t.Fatalf("editor: %d\n%s", status, page)
	}

	save := url.Values{"name": {"team-repos-form"}, "description": {"A team's repositories, from the page"}, "sql": {teamRepos},
		"default_team": {"core"}, "default_since": {"2025-01-01"}}
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/query/saved", strings.NewReader(save.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", form)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/query" || resp.Request.URL.Query().Get("saved") != "team-repos-form" {
		t.Fatalf("save from the page: %d, ended at %s", resp.StatusCode, resp.Request.URL)
	}
	var list struct{ Queries []store.SavedQuery }
	if status := get(t, ts, "/api/v1/saved-queries", nil, &list); status != http.StatusOK || len(list.Queries) != 1 ||
		list.Queries[0].Description != "A team's repositories, from the page" || len(list.Queries[0].Params) != 2 {
		t.Fatalf("saved queries after the form: %+v", list)
	}
	for _, p := range list.Queries[0].Params {
		if want := map[string]string{"team": "core", "since": "2025-01-01"}[p.Name]; p.Default == nil || *p.Default != want {
			t.Errorf("parameter %s saved with default %v, want %q", p.Name, p.Default, want)
		}
	}

	// Its page, run with another team: the team web made four contributions in four
	// repositories since 2025-01-01 (fixture); the download has the same rows.
	status, page = send(t, ts, http.MethodGet, "/query?saved=team-repos-form&run=1&param_team=web&param_since=2025-01-01", "", "")
	if status != http.StatusOK || !strings.Contains(page, `id="saved-name">team-repos-form<`) || !strings.Contains(page, `id="delete-saved"`) {
		t.Fatalf("saved query page: %d\n%s", status, page)
	}
	status, csv := send(t, ts, http.MethodGet, "/api/v1/query?saved=team-repos-form&param_team=web&param_since=2025-01-01&format=csv", "", "")
	rows := strings.Count(strings.TrimSpace(csv), "\n")
	if status != http.StatusOK || !strings.HasPrefix(csv, "repo,n\n") || rows == 0 || !strings.Contains(page, `<span id="rows-count">`+strconv.Itoa(rows)+`</span>`) {
		t.Fatalf("download: %d %q; page rows of %d wanted", status, csv, rows)
	}

	// A statement the guard refuses is not saved; the form comes back open, as typed.
	bad := url.Values{"name": {"leak"}, "description": {"reads a file"}, "sql": {"SELECT * FROM file({path:String})"}, "default_path": {"/etc/passwd"}}
	status, page = send(t, ts, http.MethodPost, "/query/saved", form, bad.Encode())
	for _, want := range []string{"The query was not saved", "function file not allowed", `<details class="save" open>`, `value="leak"`,
		`value="reads a file"`, `name="default_path" value="/etc/passwd"`, `action="../query/saved"`} {
		if !strings.Contains(page, want) {
			t.Errorf("refused save: the page lacks %s", want)
		}
	}
	if status != http.StatusBadRequest || t.Failed() {
		t.Fatalf("refused save: %d\n%s", status, page)
	}
	for _, c := range []struct{ body, want string }{
		{"name=Bad+Name&sql=SELECT+1", "name: &#34;Bad Name&#34; must be"},
		{"name=x&sql=SELECT+1&owner=me", "owner: unknown field"},
		{"name=x&name=y&sql=SELECT+1", "name: given 2 times"},
		{"name=x&sql=SELECT+1&default_n=1", "n not in the statement"},
		{"name=x&sql=SELECT+FROM+WHERE", "ClickHouse cannot parse it"},
	} {
		if status, page := send(t, ts, http.MethodPost, "/query/saved", form, c.body); status != http.StatusBadRequest || !strings.Contains(page, c.want) {
			t.Errorf("save %s: %d, want 400 with %q", c.body, status, c.want)
		}
	}
	if status := get(t, ts, "/api/v1/saved-queries", nil, &list); status != http.StatusOK || len(list.Queries) != 1 {
		t.Fatalf("refused forms saved queries: %+v", list)
	}

	// Deleted from its page: the console no longer lists it.
	req, err = http.NewRequest(http.MethodPost, ts.URL+"/query/saved/team-repos-form/delete", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", form)
	resp, err = ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/query" {
		t.Fatalf("delete from the page: %d, ended at %s", resp.StatusCode, resp.Request.URL)
	}
	if status := get(t, ts, "/api/v1/saved-queries", nil, &list); status != http.StatusOK || len(list.Queries) != 0 {
		t.Fatalf("after the delete: %+v", list)
	}
	if status, _ := send(t, ts, http.MethodPost, "/query/saved/Bad%20Name/delete", form, ""); status != http.StatusBadRequest {
		t.Errorf("delete of a bad name: %d, want 400", status)
	}
}
