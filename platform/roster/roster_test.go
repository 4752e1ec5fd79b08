package roster_test

import (
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/roster"
)

const head = "employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\n"

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAttributionFollowsPeriods(t *testing.T) {
	r, err := roster.Parse(strings.NewReader(head +
		"e1,Ann,core,Ann-GH;ann2,ann@example.com,2023-01-01,2024-06-30,false\n" +
		"e1,Ann,platform,Ann-GH;ann2,ann@example.com,2024-07-01,,false\n" +
		"e2,Bob,core,bob,,2024-01-01,2024-03-31,false\n" +
		"e3,Cy,core,cy,cy@example.com,2020-01-01,,true\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		login, at string
		ok        bool
		id, team  string
	}{
		{"ann-gh", "2022-12-31", false, "", ""},
		{"ANN-GH", "2023-01-01", true, "e1", "core"},
		{"ann2", "2024-06-30", true, "e1", "core"}, // the end date is inclusive
		{"ann2", "2024-07-01", true, "e1", "platform"},
		{"bob", "2024-04-01", false, "", ""}, // left
		{"nobody", "2024-04-01", false, "", ""},
	} {
		m, ok := r.ByLogin(tc.login, day(tc.at).Add(13*time.Hour))
		if ok != tc.ok || m.EmployeeID != tc.id || m.Team != tc.team {
			t.Errorf("ByLogin(%s, %s) = %+v, %v; want %s/%s, %v", tc.login, tc.at, m, ok, tc.id, tc.team, tc.ok)
		}
	}
	if m, ok := r.ByEmail("Ann@Example.com", day("2025-01-01")); !ok || m.Team != "platform" {
		t.Errorf("ByEmail = %+v, %v", m, ok)
	}
	if !r.OptedOut("cy") || !r.OptedOut("cy@example.com") || r.OptedOut("bob") {
		t.Error("opt-out not recorded per identity")
	}
	if got := strings.Join(r.Teams(), ","); got != "core,platform" {
		t.Errorf("teams %s", got)
	}
	if len(r.Digest) != 64 {
		t.Errorf("digest %q", r.Digest)
	}
}

func TestBadRowsNameLineAndColumn(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"unknown column", "employee_id,name,team,github_logins,emails,start_date,end_date,opt_out,extra\n", "line 1: header must be"},
		{"wrong column", "id,name,team,github_logins,emails,start_date,end_date,opt_out\n", `column 1 is "id"`},
		{"bad date", head + "e1,A,t,a,,2024-13-01,,false\n", "line 2: start_date"},
		{"end before start", head + "e1,A,t,a,,2024-02-01,2024-01-01,false\n", "line 2: end_date"},
		{"bad opt_out", head + "e1,A,t,a,,2024-01-01,,maybe\n", "line 2: opt_out"},
		{"no identity", head + "e1,A,t,,,2024-01-01,,false\n", "line 2: github_logins and emails"},
		{"short row", head + "e1,A,t\n", "line 2: 3 columns"},
		{"second row bad", head + "e1,A,t,a,,2024-01-01,,false\ne2,B,t,b,,nope,,false\n", "line 3: start_date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := roster.Parse(strings.NewReader(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
