package web

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"giveback.dev/services/report/metrics"
)

// FuzzLayout renders the shared layout with any filter values and checks that its links keep
// them exactly (a shared link shows the same view) and that none reaches the page as markup.
func FuzzLayout(f *testing.F) {
	f.Add("2025-01-01", "2025-03-31", "core", "1", "golang/go")
	f.Add(`"><script>`, "&to=x", "a b&c=d", "?", "o/n?x=1#y")
	f.Fuzz(func(t *testing.T, from, to, team, upstream, repo string) {
		c := Chrome{Company: team, Title: repo, Base: "../", Active: "projects",
			Nav:     NavFor([]string{"GET /{$}", "GET /teams", "GET /projects", "GET /people", "GET /live"}),
			Filter:  &FilterBar{Period: metrics.Period{From: from, To: to, Team: team, Upstream: upstream}, Teams: []string{team}, Team: true, Upstream: true},
			APIPath: "api/v1/metrics/projects", APIParams: []string{"from", "to"}, APIRepo: repo}
		check := func(link string, want map[string]string) {
			u, err := url.Parse(link)
			if err != nil {
				t.Fatalf("link %q: %v", link, err)
			}
			q := u.Query()
			for k, v := range want {
				if v != "" && q.Get(k) != v {
					t.Fatalf("link %q carries %s=%q, want %q", link, k, q.Get(k), v)
				}
			}
		}
		check(c.Home(), map[string]string{"from": from, "to": to, "team": team, "upstream": upstream})
		check(c.Link("teams/x"), map[string]string{"from": from, "to": to})
		check(c.API(), map[string]string{"from": from, "to": to, "repo": repo})
		for _, it := range c.Nav {
			want := map[string]string{}
			for _, p := range it.Params {
				want[p] = map[string]string{"from": from, "to": to, "team": team, "upstream": upstream}[p]
			}
			check(c.Href(it), want)
		}
		render := func(c Chrome) string {
			var b bytes.Buffer
			if err := RenderPeople(&b, People{Chrome: c}); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}
		page := render(c)
		x := func(s string) string { // a harmless value, empty where s is
			if s == "" {
				return ""
			}
			return "x"
		}
		plain := c
		plain.Company, plain.Title, plain.APIRepo = x(team), x(repo), x(repo)
		plain.Filter = &FilterBar{Period: metrics.Period{From: x(from), To: x(to), Team: x(team), Upstream: x(upstream)}, Teams: []string{x(team)}, Team: true, Upstream: true}
		base := render(plain)
		// Markup from the values would add tags: the page has no more of them than with plain ones.
		if strings.Count(page, "<") != strings.Count(base, "<") {
			t.Fatalf("the values added markup to the page")
		}
	})
}
