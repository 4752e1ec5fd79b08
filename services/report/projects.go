package report

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/services/report/metrics"
)

// The CHAOSS metrics of projects and people: new and returning contributors, the organizations
// and foundations reached, the work per project with its share and Elephant Factor, the risk
// list, the maintainer seats and the seats of people leaving. Each takes the filter of
// parseFilter; seats, departures and projects also take repo=owner/name (one project). A team
// or a project the data does not know is refused with 400 naming team or repo, so a typo never
// reads as "no activity".

// maxRows is the largest limit these endpoints accept.
const maxRows = 1000

// Affiliate returns the organizations of the affiliations as the metrics package asks for them,
// with company (the company's name) counted as the company; nil affiliations leave every actor
// unaffiliated.
func (a *Affiliations) Affiliate(company string) metrics.Affiliate {
	return func(login string, day time.Time) (string, string) {
		p := a.at(login, day)
		switch {
		case p.kind == OrgOrganization && company != "" && strings.EqualFold(p.org, company):
			return metrics.AffiliationCompany, p.org
		case p.kind == OrgOrganization:
			return metrics.AffiliationOrganization, p.org
		case p.kind == OrgIndependent:
			return metrics.AffiliationIndependent, ""
		}
		return metrics.AffiliationUnknown, ""
	}
}

// checked parses and checks the filter of a CHAOSS endpoint (params besides the filter's are
// allowed as extra; repo when withRepo), runs compute and writes its answer.
func (s *Server) checked(w http.ResponseWriter, r *http.Request, def metrics.Upstream, withRepo bool,
	compute func(context.Context, metrics.Filter) (any, error), extra ...string) {
	q := r.URL.Query()
	allowed := append(extra, filterParams...)
	if withRepo {
		allowed = append(allowed, "repo")
	}
	if err := checkParams(q, allowed...); err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	f, err := parseFilter(q, s.opts.Now(), def)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	f.Repo = q.Get("repo")
	if err := f.Validate(); err != nil {
		var fe *metrics.FieldError
		if errors.As(err, &fe) {
			s.fail(w, r, http.StatusBadRequest, fe.Field, badParam(fe.Field, "%s", fe.Reason))
			return
		}
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	if err := s.known(r.Context(), f); err != nil {
		var pe *paramError
		if errors.As(err, &pe) {
			s.fail(w, r, http.StatusBadRequest, "", err)
			return
		}
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	out, err := compute(r.Context(), f)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// known refuses a team no contribution is attributed to and a repository Giveback knows
// nothing of (no contribution, no project totals, not a dependency).
func (s *Server) known(ctx context.Context, f metrics.Filter) error {
	if f.Team != "" {
		teams, err := metrics.GetTeams(ctx, s.st)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(teams, func(t metrics.Team) bool { return t.Team == f.Team }) {
			names := make([]string, 0, len(teams))
			for _, t := range teams {
				names = append(names, t.Team)
			}
			return badParam("team", "%q is not a team of the data; the teams are %v (GET /api/v1/teams)", f.Team, names)
		}
	}
	if f.Repo != "" {
		key := store.Quote(strings.ToLower(f.Repo))
		res, err := s.st.Query(ctx, `SELECT
    (SELECT count() FROM contributions WHERE lower(repo) = `+key+`) +
    (SELECT count() FROM project_activity WHERE lower(repo) = `+key+`) +
    (SELECT count() FROM current_dependencies WHERE lower(repo) = `+key+`)`, nil)
		if err != nil {
			return fmt.Errorf("report: look up repository %s: %w", f.Repo, err)
		}
		if len(res.Rows) == 0 || store.AsInt(res.Rows[0][0]) == 0 {
			return badParam("repo", "%q is not a project Giveback knows: no contribution, project activity or dependency names it", f.Repo)
		}
	}
	return nil
}

// newcomers serves GET /api/v1/metrics/newcomers, CHAOSS New and Returning Contributors for
// upstream work (upstream is always 1 and not a parameter):
//
//	{"filter": {…}, "new": 3, "returning": 11, "months": [{"month": "2025-01", "new": 1, "returning": 6}, …]}
func (s *Server) newcomers(w http.ResponseWriter, r *http.Request) {
	s.checkedUpstream(w, r, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetNewcomers(ctx, s.st, f)
	})
}

// reach serves GET /api/v1/metrics/reach?limit=N (default 10): the upstream organizations and
// foundations reached (upstream is always 1 and not a parameter):
//
//	{"filter": {…}, "orgs": 17, "foundations": 3,
//	 "top_orgs": [{"org": "kubernetes", "foundation": "CNCF", "contributions": 40, "repos": 3}, …],
//	 "by_foundation": [{"foundation": "CNCF", "contributions": 52, "repos": 5}, …]}
func (s *Server) reach(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query(), "limit", 10, maxRows)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	s.checkedUpstream(w, r, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetReach(ctx, s.st, f, limit)
	}, "limit")
}

// checkedUpstream serves a metric that counts upstream work by definition: upstream is not
// among its parameters.
func (s *Server) checkedUpstream(w http.ResponseWriter, r *http.Request, compute func(context.Context, metrics.Filter) (any, error), extra ...string) {
	if r.URL.Query().Has("upstream") {
		s.fail(w, r, http.StatusBadRequest, "", badParam("upstream", "this metric counts upstream work only; leave upstream out"))
		return
	}
	s.checked(w, r, metrics.UpstreamOnly, false, compute, extra...)
}

// projectsAPI serves GET /api/v1/metrics/projects?limit=N (default 20; upstream defaults to 1;
// repo=owner/name for one project): per project, the employees' contributions, acceptance and
// time to merge, their share of the project's activity and its Elephant Factor (project totals
// and Options.Affiliations), the maintainer seats and the project's monthly activity:
//
//	{"filter": {…}, "total": 31, "rows": [{"repo": "nats-io/nats.go", "is_dependency": true,
//	 "criticality": 6, "contributions": 12, "prs_merged": 3, "prs_closed": 4, "acceptance": 0.75,
//	 "median_merge_hours": 20.5, "share": 0.12, "elephant_factor": 2, "seats": 1,
//	 "trend": [310, 280, …], "last_activity": "2025-03-30"}, …]}
func (s *Server) projectsAPI(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query(), "limit", 20, maxRows)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	s.checked(w, r, metrics.UpstreamOnly, true, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetProjectsAffiliated(ctx, s.st, f, limit, s.opts.Affiliations.Affiliate(s.opts.Company))
	}, "limit")
}

// risks serves GET /api/v1/metrics/risks?limit=N (default 20): the company's dependencies with
// weak health that no employee (of team, when given) contributed to in the period:
//
//	{"filter": {…}, "total": 4, "rows": [{"repo": "left/pad", "criticality": 9,
//	 "reasons": ["elephant_factor_1", "no_merge_or_release_180d"], "elephant_factor": 1,
//	 "trend_change": -0.4, "last_merge_or_release": "2024-06-01"}, …]}
func (s *Server) risks(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query(), "limit", 20, maxRows)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	s.checked(w, r, metrics.UpstreamAll, false, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetRisksAffiliated(ctx, s.st, f, limit, s.opts.Affiliations.Affiliate(s.opts.Company))
	}, "limit")
}

// seats serves GET /api/v1/metrics/seats?limit=N (default 50; upstream defaults to 1;
// repo=owner/name for one project): the maintainer seats the employees hold, naming them:
//
//	{"filter": {…}, "total": 6, "rows": [{"repo": "nats-io/nats.go", "employee_id": "e1",
//	 "login": "ann", "team": "core", "approvals": 7, "merges": 2, "last": "2025-03-28"}, …]}
func (s *Server) seats(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query(), "limit", 50, maxRows)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	s.checked(w, r, metrics.UpstreamOnly, true, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetSeats(ctx, s.st, f, limit)
	}, "limit")
}

// Departure is a maintainer seat held by someone whose roster end date is set.
type Departure struct {
	metrics.Seat
	Name string `json:"name"`
	End  string `json:"end"`  // YYYY-MM-DD, the last day of the person's latest roster row
	Left bool   `json:"left"` // the end date has passed
}

// Departures is the departure risk: the maintainer seats of people who are leaving or left.
type Departures struct {
	Filter metrics.Period `json:"filter"`
	Total  int64          `json:"total"`
	Rows   []Departure    `json:"rows"` // the soonest end first, then as the seats
}

// departureSeats is how many seats GetDepartures reads before it keeps those of people leaving.
const departureSeats = 100000

// GetDepartures returns the maintainer seats of the period held by people whose roster end date
// is set, whether it is to come or has passed: the seats the company loses. A person's end date
// is that of their latest roster row (by start), so someone who came back holds no departure.
// A nil roster yields no rows.
func GetDepartures(ctx context.Context, q metrics.Querier, f metrics.Filter, r *roster.Roster, now time.Time, limit int) (Departures, error) {
	out := Departures{Rows: []Departure{}}
	seats, err := metrics.GetSeats(ctx, q, f, departureSeats)
	out.Filter = seats.Filter
	if err != nil || r == nil {
		return out, err
	}
	latest := map[string]roster.Period{}
	for _, p := range r.Periods {
		if cur, ok := latest[p.EmployeeID]; !ok || p.Start.After(cur.Start) {
			latest[p.EmployeeID] = p
		}
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var all []Departure
	for _, st := range seats.Rows {
		p, ok := latest[st.EmployeeID]
		if !ok || p.End.IsZero() || p.OptOut {
			continue
		}
		all = append(all, Departure{Seat: st, Name: p.Name, End: p.End.Format(time.DateOnly), Left: p.End.Before(today)})
	}
	slices.SortStableFunc(all, func(a, b Departure) int { return strings.Compare(a.End, b.End) })
	out.Total = int64(len(all))
	out.Rows = append(out.Rows, all[:min(len(all), limit)]...)
	return out, nil
}

// departures serves GET /api/v1/metrics/departures?limit=N (default 50; upstream defaults to
// 1; repo=owner/name): the maintainer seats held by people whose roster end date is set or
// passed (Options.Roster; without a roster, none):
//
//	{"filter": {…}, "total": 1, "rows": [{"repo": "nats-io/nats.go", "employee_id": "e3",
//	 "login": "cy", "team": "web", "approvals": 4, "merges": 1, "last": "2025-03-02",
//	 "name": "Cy", "end": "2025-04-30", "left": false}]}
func (s *Server) departures(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query(), "limit", 50, maxRows)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	s.checked(w, r, metrics.UpstreamOnly, true, func(ctx context.Context, f metrics.Filter) (any, error) {
		return GetDepartures(ctx, s.st, f, s.roster(), s.opts.Now(), limit)
	}, "limit")
}

// roster returns the current roster, or nil.
func (s *Server) roster() *roster.Roster {
	if s.opts.Roster == nil {
		return nil
	}
	return s.opts.Roster()
}
