package report

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"giveback.dev/services/report/metrics"
)

// The JSON API, version 1. Every metric takes the filter parameters of parseFilter:
//
//	from=YYYY-MM-DD  first day, inclusive (default: start of the month 11 months before to)
//	to=YYYY-MM-DD    last day, INCLUSIVE (default: today, UTC); to=2025-03-31 includes March 31
//	team=NAME        one team (default: every team)
//	upstream=1|0|all upstream repositories only, internal only, or both (default: all;
//	                 for metrics/repos: 1)
//
// Days are UTC. Every answer echoes the filter it was computed for as "filter":
// {"from": "2025-01-01", "to": "2025-03-31", "team": "", "upstream": "all"}. Months are
// "YYYY-MM", and every month of the period is listed, with zeros where nothing happened.
//
// A bad parameter is answered 400 with {"error": "from: \"2025-13-01\" is not a date; use
// YYYY-MM-DD", "param": "from"}; an unknown or repeated parameter likewise. A failure of the
// store is 500 with {"error": "..."}.

// maxTopRepos is the largest limit metrics/repos accepts.
const maxTopRepos = 1000

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
	Param string `json:"param,omitempty"`
}

// summary serves GET /api/v1/metrics/summary:
//
//	{"filter": {…}, "contributions": 120, "upstream_contributions": 95, "active_contributors": 14,
//	 "upstream_repos": 31, "upstream_orgs": 17, "prs_opened": 40, "prs_merged": 22, "prs_closed": 30,
//	 "prs_declined": 8, "acceptance_ratio": 0.733}
//
// prs_merged, prs_closed and prs_declined count pull requests decided in the period, whenever
// they were opened; acceptance_ratio is prs_merged / prs_closed, null when none was closed.
func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	s.metric(w, r, metrics.UpstreamAll, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetSummary(ctx, s.st, f)
	})
}

// contributions serves GET /api/v1/metrics/contributions:
//
//	{"filter": {…}, "kinds": ["pull_request", "review", "issue", "comment", "commit", "release"],
//	 "total": 120,
//	 "months": [{"month": "2025-01", "total": 9, "by_kind": {"pull_request": 4, "review": 5, …}}, …]}
func (s *Server) contributions(w http.ResponseWriter, r *http.Request) {
	s.metric(w, r, metrics.UpstreamAll, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetContributions(ctx, s.st, f)
	})
}

// contributors serves GET /api/v1/metrics/contributors:
//
//	{"filter": {…}, "months": [{"month": "2025-01", "contributors": 7}, …]}
func (s *Server) contributors(w http.ResponseWriter, r *http.Request) {
	s.metric(w, r, metrics.UpstreamAll, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetContributors(ctx, s.st, f)
	})
}

// repos serves GET /api/v1/metrics/repos (upstream defaults to 1; limit=N, 1–1000, default 10):
//
//	{"filter": {…}, "repos": 31, "orgs": 17,
//	 "top": [{"repo": "kubernetes/kubernetes", "contributions": 12, "contributors": 3}, …]}
func (s *Server) repos(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query(), "limit", 10, maxTopRepos)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	s.metric(w, r, metrics.UpstreamOnly, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetRepos(ctx, s.st, f, limit)
	}, "limit")
}

// cycle serves GET /api/v1/metrics/cycle?limit=N (default 20): the company's dependencies against
// its contributions to them, with give-back coverage:
//
//	{"filter": {…}, "dependencies": 120, "contributed": 14, "covered": 9, "coverage": 0.075,
//	 "weighted_coverage": 0.21, "repos": [{"repo": "nats-io/nats.go", "criticality": 6,
//	 "contributions": 12, "merged_prs": 3, "contributors": 2, "merged_last_year": 5}, …]}
//
// The coverages are null when no dependency list was imported (giveback deps import).
func (s *Server) cycle(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query(), "limit", 20, maxTopRepos)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	s.metric(w, r, metrics.UpstreamAll, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetCycle(ctx, s.st, f, limit)
	}, "limit")
}

// acceptance serves GET /api/v1/metrics/acceptance, the CHAOSS Change Request Acceptance Ratio
// by month of decision:
//
//	{"filter": {…}, "closed": 30, "merged": 22, "declined": 8, "ratio": 0.733,
//	 "months": [{"month": "2025-01", "closed": 3, "merged": 2, "declined": 1, "ratio": 0.667}, …]}
//
// ratio is null for a month in which no pull request was closed.
func (s *Server) acceptance(w http.ResponseWriter, r *http.Request) {
	s.metric(w, r, metrics.UpstreamAll, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetAcceptance(ctx, s.st, f)
	})
}

// responsiveness serves GET /api/v1/metrics/responsiveness, CHAOSS Time to First Response of
// the company's pull requests by month opened, with their median size:
//
//	{"filter": {…}, "opened": 40, "answered": 31, "median_hours": 6.5, "median_lines": 48,
//	 "merged": 25, "median_hours_to_merge": 70.2,
//	 "months": [{"month": "2025-01", "opened": 3, "answered": 2, "median_hours": 4.1, "median_lines": 12,
//	   "merged": 2, "median_hours_to_merge": 30}, …]}
//
// The medians are null where nothing was answered or no size is known.
func (s *Server) responsiveness(w http.ResponseWriter, r *http.Request) {
	s.metric(w, r, metrics.UpstreamOnly, func(ctx context.Context, f metrics.Filter) (any, error) {
		return metrics.GetResponsiveness(ctx, s.st, f)
	})
}

// teams serves GET /api/v1/teams, the teams contributions are attributed to (no parameters):
//
//	{"teams": [{"team": "platform", "contributions": 310}, …]}
func (s *Server) teams(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r.URL.Query()); err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	ts, err := metrics.GetTeams(r.Context(), s.st)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"teams": ts})
}

// metric parses the filter, runs compute and writes its answer.
func (s *Server) metric(w http.ResponseWriter, r *http.Request, def metrics.Upstream,
	compute func(context.Context, metrics.Filter) (any, error), extra ...string) {
	q := r.URL.Query()
	if err := checkParams(q, append(extra, filterParams...)...); err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	f, err := parseFilter(q, s.opts.Now(), def)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	out, err := compute(r.Context(), f)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// fail answers an error as JSON. A paramError names its parameter; param, when given, names the
// parameter for any other error. Server errors are logged, and their detail is kept out of the
// answer.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, param string, err error) {
	body := apiError{Error: err.Error(), Param: param}
	var pe *paramError
	if errors.As(err, &pe) {
		body.Param = pe.param
	}
	if status >= 500 {
		s.log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		body.Error = "internal error; the server log has the detail"
	}
	s.writeJSON(w, r, status, body)
}

func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s.log.Warn("write response", slog.String("path", r.URL.Path), slog.Any("err", err))
	}
}
