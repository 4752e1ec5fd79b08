package auth

import (
	"fmt"
	"net/http"
)

// Rule is one route of the authorisation table.
type Rule struct {
	// Pattern is the route exactly as it is registered on its http.ServeMux ("GET /sources").
	Pattern string
	// Min is the lowest role that may use the route; Anonymous means anyone.
	Min Role
	// People marks a route that shows individuals (logins, e-mails, per-person status, or
	// anything ad hoc SQL can select). It needs the analyst role and privacy.people, the admin
	// role otherwise, and is refused to everyone under privacy.aggregate_only.
	People bool
	// Query marks a route that runs a query or changes state whatever its method: it refuses
	// cross-site requests, and bodies of the content types a cross-site form or a simple fetch
	// can send (text/plain, form-urlencoded, multipart, none).
	Query bool
	// Metrics marks /metrics, which auth.metrics_anonymous opens to anyone.
	Metrics bool
}

// Table is the one authorisation table of every route Giveback serves over HTTP: the report
// service's pages and API, the webhook receiver, health and metrics, and Guard's own login
// routes. A request whose route is not here is refused, so a new route must be added here
// before anyone can use it; a test fails for a route that is mounted but missing.
//
// Roles: a viewer sees aggregates; an analyst adds per-project detail, the ad hoc SQL console
// and, where privacy.people allows, individuals; an admin adds the operations (report runs,
// roster and dependency loads, tokens, forget).
var Table = []Rule{
	// Operations. /readyz answers anyone but names its errors only to an admin.
	{Pattern: "GET /healthz", Min: Anonymous},
	{Pattern: "GET /readyz", Min: Anonymous},
	{Pattern: "GET /metrics", Min: Viewer, Metrics: true},
	// The webhook receiver checks each delivery's HMAC itself.
	{Pattern: "/webhooks/github", Min: Anonymous},

	// Login (oidc, and the token form).
	{Pattern: "GET /auth/login", Min: Anonymous},
	{Pattern: "POST /auth/login", Min: Anonymous},
	{Pattern: "GET /auth/callback", Min: Anonymous},
	{Pattern: "POST /auth/logout", Min: Anonymous},

	// Aggregates.
	{Pattern: "GET /{$}", Min: Viewer},
	{Pattern: "GET /teams", Min: Viewer},
	{Pattern: "GET /teams/{team}", Min: Viewer},
	{Pattern: "GET /projects", Min: Viewer},
	{Pattern: "GET /community", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/summary", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/contributions", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/contributors", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/repos", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/acceptance", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/responsiveness", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/cycle", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/community", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/newcomers", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/reach", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/projects", Min: Viewer},
	{Pattern: "GET /api/v1/metrics/risks", Min: Viewer},
	// The live feed names no one to a caller who may not see individuals (report.Server.peopleAllowed).
	{Pattern: "GET /live", Min: Viewer},
	{Pattern: "GET /live.js", Min: Viewer},
	{Pattern: "GET /api/v1/live", Min: Viewer},
	{Pattern: "GET /api/v1/teams", Min: Viewer},
	{Pattern: "GET /docs/METRICS.md", Min: Viewer},

	// Per-project detail and individuals. The influence of a project names unaffiliated actors
	// by login; the sources list the REST sync per login.
	{Pattern: "GET /api/v1/metrics/influence", Min: Analyst, People: true},
	// A project's page names the most active organizations and, for actors of none, logins.
	{Pattern: "GET /projects/{owner}/{name}", Min: Analyst, People: true},
	{Pattern: "GET /people", Min: Analyst, People: true},
	// Maintainer seats and departures name the employees who hold them; people, each one's record.
	{Pattern: "GET /api/v1/metrics/seats", Min: Analyst, People: true},
	{Pattern: "GET /api/v1/metrics/departures", Min: Analyst, People: true},
	{Pattern: "GET /api/v1/people", Min: Analyst, People: true},
	{Pattern: "GET /api/v1/identities/unmatched", Min: Analyst, People: true},
	{Pattern: "GET /identities", Min: Analyst, People: true},
	{Pattern: "GET /api/v1/sources", Min: Analyst, People: true},
	{Pattern: "GET /sources", Min: Analyst, People: true},
	{Pattern: "GET /api/v1/query", Min: Analyst, People: true, Query: true},
	{Pattern: "POST /api/v1/query", Min: Analyst, People: true, Query: true},
	// The console runs the statement of its URL; saved queries are ad hoc SQL kept for later.
	{Pattern: "GET /query", Min: Analyst, People: true, Query: true},
	{Pattern: "GET /api/v1/saved-queries", Min: Analyst, People: true},
	{Pattern: "POST /api/v1/saved-queries", Min: Analyst, People: true, Query: true},
	{Pattern: "DELETE /api/v1/saved-queries/{name}", Min: Analyst, People: true, Query: true},
	// The console's forms: save the editor's statement, delete a saved query (form posts, refused
	// from another site or origin).
	{Pattern: "POST /query/saved", Min: Analyst, People: true},
	{Pattern: "POST /query/saved/{name}/delete", Min: Analyst, People: true},

	// Operations: the scheduled reports, their archive and a run now (which sends mail and
	// posts to chat, so it refuses cross-site requests like a query).
	{Pattern: "GET /reports", Min: Admin},
	{Pattern: "GET /reports/{name}/{period}", Min: Admin},
	{Pattern: "GET /api/v1/reports", Min: Admin},
	{Pattern: "GET /api/v1/reports/{name}/{period}", Min: Admin},
	{Pattern: "POST /api/v1/reports/{name}/run", Min: Admin, Query: true},
	{Pattern: "POST /reports/{name}/{period}/send", Min: Admin},
}

// Policy is what the configuration changes in the table.
type Policy struct {
	// People lets analysts use the routes that show individuals; without it only admins can.
	People bool
	// AggregateOnly refuses the routes that show individuals to everyone.
	AggregateOnly bool
	// MetricsAnonymous opens /metrics to anyone.
	MetricsAnonymous bool
}

// Min returns the lowest role that may use the route of rule under the policy.
func (p Policy) Min(rule Rule) Role {
	min := rule.Min
	if rule.Metrics && p.MetricsAnonymous {
		min = Anonymous
	}
	if rule.People {
		switch {
		case p.AggregateOnly:
			return Nobody
		case !p.People:
			min = max(min, Admin)
		}
	}
	return min
}

// matcher finds the rule of a request with the same pattern matching as http.ServeMux, so a
// request gets the rule of the very route that serves it.
type matcher struct {
	mux   *http.ServeMux
	rules map[string]Rule
}

func newMatcher(table []Rule) (*matcher, error) {
	m := &matcher{mux: http.NewServeMux(), rules: map[string]Rule{}}
	for _, r := range table {
		if _, dup := m.rules[r.Pattern]; dup {
			return nil, fmt.Errorf("auth: route %q is twice in the table", r.Pattern)
		}
		m.rules[r.Pattern] = r
		if err := register(m.mux, r.Pattern); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func register(mux *http.ServeMux, pattern string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("auth: route %q: %v", pattern, p)
		}
	}()
	mux.Handle(pattern, http.NotFoundHandler())
	return nil
}

// rule returns the rule of r's route; ok is false when no route of the table matches.
func (m *matcher) rule(r *http.Request) (Rule, bool) {
	_, pattern := m.mux.Handler(r)
	rule, ok := m.rules[pattern]
	return rule, ok
}

// Missing returns the patterns among routes that the table lacks.
func Missing(routes []string) []string {
	have := map[string]bool{}
	for _, r := range Table {
		have[r.Pattern] = true
	}
	var miss []string
	for _, p := range routes {
		if !have[p] {
			miss = append(miss, p)
		}
	}
	return miss
}
