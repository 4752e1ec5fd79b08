package report

import (
	"context"
	"net/http"

	"giveback.dev/services/report/metrics"
)

// people serves GET /api/v1/people?limit=N (default 100): each employee's upstream record for
// the period (from, to, team; upstream is always 1 and not a parameter):
//
//	{"filter": {…}, "total": 14, "rows": [{"employee_id": "e1", "login": "ann", "team": "core",
//	 "contributions": 31, "prs_merged": 4, "repos": 5, "first": "2023-05-02", "last": "2025-03-28"}, …]}
//
// Nobody who opted out is ever listed. Their opt-out reaches the store through enrich, which
// stores none of their activity and deletes what was stored when a roster marking them arrives
// (giveback roster load); this route also drops every employee id that the current roster
// (Options.Roster) marks opted out, so rows stored before the opt-out took effect never show.
func (s *Server) people(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query(), "limit", 100, maxRows)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	optedOut := map[string]bool{}
	if ro := s.roster(); ro != nil {
		for _, p := range ro.Periods {
			if p.OptOut {
				optedOut[p.EmployeeID] = true
			}
		}
	}
	s.checkedUpstream(w, r, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetPeople(ctx, s.st, f, limit, func(id string) bool { return optedOut[id] })
	}, "limit")
}
