package roster_test

import (
	"strings"
	"testing"

	"giveback.dev/platform/roster"
)

func TestLoginFromNoreply(t *testing.T) {
	for email, want := range map[string]string{
		"12345+Octocat@users.noreply.github.com":            "Octocat",
		"octocat@Users.NoReply.GitHub.com":                  "octocat",
		"49699333+dependabot[bot]@users.noreply.github.com": "dependabot[bot]",
		"octocat@example.com":                               "",
		"@users.noreply.github.com":                         "",
		"abc+octocat@users.noreply.github.com":              "",
		"+octocat@users.noreply.github.com":                 "",
		"12+@users.noreply.github.com":                      "",
	} {
		got, ok := roster.LoginFromNoreply(email)
		if got != want || ok != (want != "") {
			t.Errorf("LoginFromNoreply(%q) = %q, %t; want %q", email, got, ok, want)
		}
	}
}

func TestChanged(t *testing.T) {
	parse := func(rows string) *roster.Roster {
		t.Helper()
		r, err := roster.Parse(strings.NewReader("employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\n" + rows))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	old := parse(`e1,Ann,core,ann,ann@acme.com,2024-01-01,,false
e2,Bob,core,bob,,2024-01-01,,false
e3,Cid,core,cid,,2024-01-01,,false
e4,Dee,web,dee,,2024-01-01,,false
`)
	cur := parse(`e1,Ann Renamed,core,ann,ann@acme.com,2024-01-01,,false
e2,Bob,core,bob,,2024-01-01,2024-06-30,false
e2,Bob,web,bob,,2024-07-01,,false
e3,Cid,core,cid,,2024-01-01,,true
e5,Eve,web,eve,eve@acme.com,2023-01-01,,false
`)
	got := strings.Join(roster.Changed(old, cur), ",")
	if want := "bob,cid,dee,eve,eve@acme.com"; got != want {
		t.Fatalf("Changed = %s, want %s", got, want)
	}
	if got := strings.Join(roster.Changed(nil, old), ","); got != "ann,ann@acme.com,bob,cid,dee" {
		t.Fatalf("Changed(nil) = %s", got)
	}
}

// TestParseRefusesWholeRosterNamingLine keeps the existing behaviour: one bad row refuses the
// whole file, and the error names its line.
func TestParseRefusesWholeRosterNamingLine(t *testing.T) {
	_, err := roster.Parse(strings.NewReader("employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\n" +
		"e1,Ann,core,ann,,2024-01-01,,false\ne2,Bob,core,bob,,2024-13-01,,false\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "start_date") {
		t.Fatalf("err = %v, want line 3 start_date", err)
	}
}
