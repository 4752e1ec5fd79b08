package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAffiliationsParse(t *testing.T) {
	const file = `[
  {"login": "ann", "email": "ann!example.com", "affiliation": "Google", "source": "config"},
  {"login": "Bob", "affiliation": "Red Hat < 2019-01-01, Google"},
  {"login": "cat", "affiliation": "Intel < 2018-06-01, NotFound < 2020-01-01, IBM < 2022-01-01"},
  {"login": "dan", "affiliation": "Independent"},
  {"login": "eve", "affiliation": "self"},
  {"login": "fay", "affiliation": "NotFound"},
  {"login": "gus", "affiliation": "(Unknown)"},
  {"login": "hal", "affiliation": "?"},
  {"login": "ida", "affiliation": ""},
  {"login": "jon", "affiliation": "(Unknown)"},
  {"login": "jon", "affiliation": "Microsoft"},
  {"login": "jon", "affiliation": "Amazon"},
  {"login": "kim", "affiliation": " Independent < 2021-03-01 ,  VMware "}
]`
	a, err := ParseAffiliations(strings.NewReader(file), "github_users.json")
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 11 {
		t.Fatalf("%d logins, want 11", a.Len())
	}
	for _, tc := range []struct {
		login, day string
		org, kind  string
	}{
		{"ann", "2010-01-01", "Google", OrgOrganization},
		{"ANN", "2030-01-01", "Google", OrgOrganization}, // logins compare case-insensitively
		{"bob", "2018-12-31", "Red Hat", OrgOrganization},
		{"bob", "2019-01-01", "Google", OrgOrganization}, // "< date": until the day before
		{"cat", "2018-05-31", "Intel", OrgOrganization},
		{"cat", "2019-01-01", "", OrgUnaffiliated},
		{"cat", "2021-12-31", "IBM", OrgOrganization},
		{"cat", "2022-01-01", "", OrgUnaffiliated}, // the last period ended: unknown after it
		{"dan", "2024-01-01", "", OrgIndependent},
		{"eve", "2024-01-01", "", OrgIndependent},
		{"fay", "2024-01-01", "", OrgUnaffiliated},
		{"gus", "2024-01-01", "", OrgUnaffiliated},
		{"hal", "2024-01-01", "", OrgUnaffiliated},
		{"ida", "2024-01-01", "", OrgUnaffiliated},
		{"jon", "2024-01-01", "Microsoft", OrgOrganization}, // the first entry naming an organization
		{"kim", "2021-02-28", "", OrgIndependent},
		{"kim", "2021-03-01", "VMware", OrgOrganization},
		{"nobody", "2024-01-01", "", OrgUnaffiliated},
	} {
		if got := a.at(tc.login, date(tc.day)); got.org != tc.org || got.kind != tc.kind {
			t.Errorf("%s on %s: %q %s, want %q %s", tc.login, tc.day, got.org, got.kind, tc.org, tc.kind)
		}
	}
	for _, tc := range []struct {
		login, from, to string
		want            bool
	}{
		{"bob", "2018-01-01", "2018-12-31", false},
		{"bob", "2018-01-01", "2019-01-01", true},
		{"bob", "2019-01-01", "2019-12-31", false}, // Google on every day of the period
		{"ann", "2000-01-01", "2030-01-01", false},
		{"cat", "2019-01-01", "2020-01-01", true},
		{"nobody", "2000-01-01", "2030-01-01", false},
	} {
		if got := a.changes(tc.login, date(tc.from), date(tc.to)); got != tc.want {
			t.Errorf("changes(%s, %s, %s) = %v", tc.login, tc.from, tc.to, got)
		}
	}
	var none *Affiliations
	if got := none.at("ann", date("2024-01-01")); got.kind != OrgUnaffiliated || none.changes("ann", date("2000-01-01"), date("2030-01-01")) || none.Len() != 0 {
		t.Fatalf("nil affiliations: %+v", got)
	}
}

func TestAffiliationsEmpty(t *testing.T) {
	a, err := ParseAffiliations(strings.NewReader(" [ ] \n"), "empty.json")
	if err != nil || a.Len() != 0 {
		t.Fatalf("%v %v", a, err)
	}
}

func TestAffiliationsBadInput(t *testing.T) {
	ok := `{"login": "ok", "affiliation": "Google"}, `
	for _, tc := range []struct{ name, file, want string }{
		{"bad date", `[` + ok + `{"login": "bob", "affiliation": "Google < 2019-13-01"}]`,
			`affiliations github_users.json: entry 1 (login "bob"): "affiliation" "Google < 2019-13-01": bad date "2019-13-01"`},
		{"date not a date", `[{"login": "bob", "affiliation": "Google < soon, IBM"}]`, `entry 0 (login "bob"): "affiliation" "Google < soon, IBM": bad date "soon"`},
		{"dates out of order", `[` + ok + ok + `{"login": "b", "affiliation": "A < 2020-01-01, B < 2019-01-01, C"}]`, `entry 2 (login "b"): "affiliation" "A < 2020-01-01, B < 2019-01-01, C": date 2019-01-01 is not after 2020-01-01`},
		{"no end date before the last", `[{"login": "b", "affiliation": "A, B"}]`, `entry 0 (login "b"): "affiliation" "A, B": "A" has no end date`},
		{"empty organization", `[{"login": "b", "affiliation": "A < 2020-01-01, "}]`, `entry 0 (login "b"): "affiliation" "A < 2020-01-01, ": organization 2 is empty`},
		{"no login", `[` + ok + `{"affiliation": "Google"}]`, `entry 1: "login" is missing or empty`},
		{"empty login", `[{"login": " ", "affiliation": "Google"}]`, `entry 0: "login" is missing or empty`},
		{"no affiliation", `[` + ok + ok + ok + `{"login": "b"}]`, `entry 3 (login "b"): "affiliation" is missing`},
		{"not a string", `[{"login": "b", "affiliation": 3}]`, `entry 0: json: cannot unmarshal number`},
		{"not an object", `[` + ok + `"b"]`, `entry 1: json: cannot unmarshal string`},
		{"not an array", `{"login": "b", "affiliation": "Google"}`, `affiliations github_users.json: want a JSON array`},
		{"empty file", ``, `want a JSON array`},
		{"truncated", `[` + ok, `affiliations github_users.json: `},
		{"syntax", `[` + ok + `{"login": "b" "affiliation": "x"}]`, `entry 1: invalid character`},
		{"trailing data", `[` + ok[:len(ok)-2] + `] []`, `data after the array`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAffiliations(strings.NewReader(tc.file), "github_users.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadAffiliations(t *testing.T) {
	p := filepath.Join(t.TempDir(), "github_users.json")
	if err := os.WriteFile(p, []byte(`[{"login": "ann", "affiliation": "Google < 2019-02-30"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAffiliations(p); err == nil || !strings.Contains(err.Error(), "affiliations "+p+": entry 0") {
		t.Fatalf("error %v, want it to name the file and the entry", err)
	}
	if _, err := LoadAffiliations(p + ".missing"); err == nil || !strings.Contains(err.Error(), p+".missing") {
		t.Fatalf("missing file: %v", err)
	}
}
