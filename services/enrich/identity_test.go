package enrich_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/enrich"
)

// pushEvent is a GH Archive PushEvent with one commit per author e-mail.
func pushEvent(id, pusher, repo, at string, emails ...string) string {
	var cs []string
	for i, e := range emails {
		cs = append(cs, `{"sha":"`+id+`c`+itoa(i)+`","author":{"email":"`+e+`","name":"N"},"message":"m","distinct":true}`)
	}
	return `{"id":"` + id + `","type":"PushEvent","actor":{"login":"` + pusher + `"},"repo":{"name":"` + repo + `"},` +
		`"payload":{"commits":[` + strings.Join(cs, ",") + `]},"created_at":"` + at + `"}`
}

const identityRoster = `employee_id,name,team,github_logins,emails,start_date,end_date,opt_out
e1,Ann,core,ann,ann@acme.com,2024-01-01,,false
e2,Bob,web,bob,,2024-01-01,,false
e3,Cat,data,cat,,2024-01-01,,false
`

// TestCommitAttribution: a commit is attributed by its author e-mail, by the login of a noreply
// e-mail, through an alias, and only else to the pusher; bots are never attributed and are
// counted; company-looking identities off the roster are recorded as unmatched.
func TestCommitAttribution(t *testing.T) {
	st := testkit.Store(t)
	_, _, js := testkit.NATS(t)
	ro, err := roster.Parse(strings.NewReader(identityRoster))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc := newService(t, enrich.Options{Store: st, JS: js, Company: config.Company{Name: "Acme", GitHubOrgs: []string{"acme"}, EmailDomains: []string{"acme.com"}}, Roster: ro, Registry: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Identities: config.Identities{Bots: []string{"acme-ci"}, Aliases: map[string]string{"cat@home.example": "cat"}}})
	at := "2024-05-01T10:00:00Z"
	rs := []events.Raw{
		// pushed by bob: Ann's by e-mail, Cat's by noreply login, Cat's by alias, a stranger's
		// (the pusher's, as a last resort), a bot's by noreply
		raw(t, "PushEvent", "1", pushEvent("1", "bob", "golang/go", at,
			"Ann@Acme.com", "123+Cat@users.noreply.github.com", "cat@home.example", "x@example.org", "49699333+dependabot[bot]@users.noreply.github.com")),
		// in the company org: by a configured bot, and by an unknown company e-mail
		raw(t, "PushEvent", "2", pushEvent("2", "acme-ci", "acme/tool", at, "ci@example.org")),
		raw(t, "PushEvent", "3", pushEvent("3", "zed", "acme/tool", at, "zed@acme.com")),
	}
	res := svc.Process(encode(t, rs))
	if err := svc.Store(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	got := query(t, st, "SELECT id, actor_login, author_email, employee_id FROM contributions FINAL ORDER BY id")
	want := []string{
		"commit:acme/tool@2c0 acme-ci ci@example.org ",
		"commit:acme/tool@3c0 zed zed@acme.com ",
		"commit:golang/go@1c0 bob ann@acme.com e1",
		"commit:golang/go@1c1 Cat 123+cat@users.noreply.github.com e3",
		"commit:golang/go@1c2 bob cat@home.example e3",
		"commit:golang/go@1c3 bob x@example.org e2",
		"commit:golang/go@1c4 dependabot[bot] 49699333+dependabot[bot]@users.noreply.github.com ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("contributions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := botCount(t, reg); n != 2 {
		t.Fatalf("bot contributions %v, want 2", n)
	}
	// acme/tool is public (GH Archive shows it): zed's login there is community inflow, not an
	// unmatched identity; the company e-mail domain keeps the address unmatched.
	un := query(t, st, "SELECT identity, kind, reason, repo, contributions FROM current_unmatched_identities ORDER BY identity, reason")
	if w := "zed@acme.com email company_email acme/tool 1"; strings.Join(un, "|") != w {
		t.Fatalf("unmatched %q, want %q", un, w)
	}
}

func botCount(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == "giveback_enrich_bot_contributions_total" {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func encode(t *testing.T, rs []events.Raw) [][]byte {
	t.Helper()
	out := make([][]byte, len(rs))
	for i := range rs {
		b, err := json.Marshal(&rs[i])
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// query returns the rows of q, each as its values joined by spaces.
func query(t *testing.T, st *store.Store, q string) []string {
	t.Helper()
	res, err := st.Query(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res.Rows {
		vs := make([]string, len(r))
		for i, v := range r {
			vs[i] = store.AsString(v)
		}
		out = append(out, strings.Join(vs, " "))
	}
	sort.Strings(out)
	return out
}
