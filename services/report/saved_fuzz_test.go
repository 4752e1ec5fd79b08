package report

import (
	"encoding/json"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"giveback.dev/platform/store"
	"giveback.dev/services/report/query"
)

// checkAccepted fails t unless req, which a parser accepted, has a valid name, a statement within
// the limit and distinct, well-named parameters with valid defaults.
func checkAccepted(t *testing.T, req savedRequest) {
	t.Helper()
	if !savedNameRE.MatchString(req.Name) || strings.TrimSpace(req.SQL) == "" || len(req.SQL) > query.MaxLen || len(req.Params) > maxParams {
		t.Fatalf("accepted %+v", req)
	}
	seen := map[string]bool{}
	for _, p := range req.Params {
		if !paramNameRE.MatchString(p.Name) || seen[p.Name] {
			t.Fatalf("accepted parameter %q of %+v", p.Name, req)
		}
		seen[p.Name] = true
		if p.Default != nil && checkValue(*p.Default) != nil {
			t.Fatalf("accepted default %q", *p.Default)
		}
	}
}

// FuzzSavedQueryJSON feeds bodies to the saved query parser. An accepted body has a valid name,
// a statement within the limit and distinct, well-named parameters with valid defaults, and
// encoding what was accepted reads back the same.
func FuzzSavedQueryJSON(f *testing.F) {
	for _, s := range []string{
		`{"name": "team-repos", "description": "d", "sql": "SELECT {team:String}", "params": [{"name": "team", "default": "core"}]}`,
		`{"name": "a", "sql": "SELECT 1"}`, `{"name": "a", "sql": "SELECT 1", "params": [{"name": "x"}, {"name": "x"}]}`,
		`{"name": "A", "sql": "SELECT 1"}`, `{"name": "a", "sql": ""}`, `{"name": "a", "sql": "SELECT 1", "x": 1}`,
		`{"name": "a", "sql": "SELECT 1"} []`, `[]`, `null`, `{"name": "a", "sql": "SELECT 1", "params": [{"name": "1x", "default": "\u0000"}]}`,
		`{"name": "a", "description": "\ud800", "sql": "SELECT 1"}`, `{"name": "a", "sql": "SELECT 1", "params": null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseSavedRequest(body)
		if err != nil {
			if !strings.Contains(err.Error(), ": ") {
				t.Fatalf("error %q names no field", err)
			}
			return
		}
		checkAccepted(t, req)
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseSavedRequest(again)
		if err != nil || !reflect.DeepEqual(back, req) {
			t.Fatalf("%s reads back as %+v (%v), not %+v", again, back, err, req)
		}
	})
}

// FuzzParams feeds statements and a value to the parameter scanner and binder. Whatever the
// statement, once its parameters are bound none remains, every one became a typed literal
// holding the value, and the value never ends up outside a string literal.
func FuzzParams(f *testing.F) {
	for _, s := range [][2]string{
		{"SELECT {a:String}", "x"}, {"SELECT {a:DateTime64(3, 'UTC')}, {b:Array(String)}", "it's"},
		{"SELECT '{a:String}', `{b:UInt8}`, \"{c:Int8}\"", "{a:String}"}, {"SELECT {a:String} FROM t WHERE s = '\\''", "\\"},
		{"SELECT {", ""}, {"SELECT }", ""}, {"SELECT {a}", ""}, {"SELECT {a:}", ""}, {"SELECT {a:Array(String}", ""},
		{"SELECT {a:String}, {a:String}", "') OR 1 = 1 --"}, {"SELECT {a:Identifier}", "t"}, {"SELECT 'unterminated", ""},
		{"SELECT {a:Tuple(x String, y Nullable(UInt8))}", "('a', NULL)"}, {"SELECT { a : String }", "a'b"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, sql, value string) {
		ps, err := scanParams(sql)
		if err != nil || checkValue(value) != nil {
			return
		}
		values := map[string]string{}
		for _, p := range ps {
			if sql[p.start] != '{' || sql[p.end-1] != '}' || !paramNameRE.MatchString(p.name) || p.typ == "" {
				t.Fatalf("placeholder %+v of %q", p, sql)
			}
			values[p.name] = value
		}
		bound, err := bind(sql, ps, values)
		if err != nil {
			t.Fatalf("bind %q: %v", sql, err)
		}
		left, err := scanParams(bound)
		if err != nil || len(left) != 0 {
			t.Fatalf("%q bound as %q still holds %+v (%v)", sql, bound, left, err)
		}
		if lit := "CAST(" + store.Quote(value) + " AS "; len(ps) > 0 && strings.Count(bound, lit) < len(ps) {
			t.Fatalf("%q bound as %q lacks %d literals %s", sql, bound, len(ps), lit)
		}
		if _, err := bind(sql, ps, map[string]string{}); len(ps) > 0 && err == nil {
			t.Fatalf("%q bound without values", sql)
		}
	})
}

// FuzzSavedQueryForm feeds form bodies to the console's save form parser. An accepted form has
// a valid name, a statement within the limit and distinct, well-named parameters with valid
// defaults, each one the form's default_NAME, and nothing else.
func FuzzSavedQueryForm(f *testing.F) {
	for _, s := range []string{
		"name=team-repos&description=d&sql=SELECT+%7Bteam%3AString%7D&default_team=core", "name=a&sql=SELECT+1",
		"name=a&name=b&sql=SELECT+1", "name=A&sql=SELECT+1", "name=a&sql=", "name=a&sql=SELECT+1&x=1",
		"name=a&sql=SELECT+1&default_1x=%00", "name=a&sql=SELECT+1&default_=1", "name=a&description=%ED%A0%80&sql=SELECT+1",
		"%zz", "name=a;sql=SELECT 1", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return // the handler refuses what ParseForm cannot read
		}
		req, defaults, err := parseSavedForm(form)
		if err != nil {
			if !strings.Contains(err.Error(), ": ") {
				t.Fatalf("error %q names no field", err)
			}
			return
		}
		checkAccepted(t, req)
		if len(form) != len(req.Params)+len(slices.DeleteFunc([]string{"name", "description", "sql"}, func(k string) bool { return !form.Has(k) })) {
			t.Fatalf("form %q: %d fields, accepted %+v", body, len(form), req)
		}
		for _, p := range req.Params {
			if p.Default == nil || form.Get("default_"+p.Name) != *p.Default || defaults[p.Name] != *p.Default {
				t.Fatalf("accepted parameter %q of %+v from %q", p.Name, req, body)
			}
		}
	})
}
