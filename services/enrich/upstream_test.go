package enrich_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/repoclass"
	"giveback.dev/platform/roster"
	"giveback.dev/services/enrich"
)

// is_upstream is the upstream destination alone: a pull request by one login of a person to a
// repository of another of their logins is personal, to the company's org is the company's,
// and only someone else's repository is upstream.
func TestUpstreamIsThirdParty(t *testing.T) {
	ro, err := roster.Parse(strings.NewReader("employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\n" +
		"e3,Bo,core,bo;bo-work,,2020-01-01,,false\n"))
	if err != nil {
		t.Fatal(err)
	}
	company := config.Company{Name: "Acme", GitHubOrgs: []string{"acme"}}
	for _, withClassifier := range []bool{true, false} {
		o := enrich.Options{Company: company, Roster: ro, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if withClassifier {
			if o.Classifier, err = repoclass.New(company.GitHubOrgs, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		svc := newService(t, o)
		want := map[string]struct {
			dest     string
			upstream bool
		}{
			"bo/dotfiles":  {repoclass.Personal, false}, // bo-work acted; bo is the same person
			"Bo-Work/site": {repoclass.Personal, false},
			"acme/sdk":     {repoclass.CompanyOSS, false},
			"carol/lib":    {repoclass.Upstream, true},
		}
		var rs []events.Raw
		n := 0
		for repo := range want {
			n++
			rs = append(rs, raw(t, "PullRequestEvent", "u"+itoa(n), prEvent("u"+itoa(n), "bo-work", "bo-work", repo, n, "opened", false, "2025-01-01T15:00:00Z")))
		}
		res := svc.Process(encode(t, rs))
		if len(res.Contributions) != len(want) {
			t.Fatalf("classifier %v: %d contributions, want %d", withClassifier, len(res.Contributions), len(want))
		}
		for _, c := range res.Contributions {
			w := want[c.Repo]
			if c.EmployeeID != "e3" || c.Destination != w.dest || c.IsUpstream != w.upstream {
				t.Errorf("classifier %v: %s: employee %q, destination %q, upstream %v; want e3, %q, %v",
					withClassifier, c.Repo, c.EmployeeID, c.Destination, c.IsUpstream, w.dest, w.upstream)
			}
		}
	}
}
