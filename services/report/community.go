package report

import (
	"errors"
	"net/http"
	"time"

	"giveback.dev/services/report/metrics"
)

// community serves GET /api/v1/metrics/community, the community inflow: the people outside the
// roster who contributed to the company's own public repositories in the period (from, to), the
// other half of the cycle. It shows aggregates only:
//
//	{"filter": {…}, "contributors": 40, "contributions": 310, "new": 12, "returning": 28,
//	 "organizations": [{"name": "Initech", "contributors": 3, "contributions": 41}, …],
//	 "independent": 2, "unaffiliated": 30,
//	 "months": [{"month": "2025-01", "contributors": 9, "new": 2, "contributions": 25}, …]}
//
// New contributors made their first contribution to the company's open source in the period,
// returning ones had contributed before it. The organizations are those of the affiliations
// file (Options.Affiliations) on the period's last day. These people have no team, so team is
// refused with a 400; upstream does not apply and is refused as unknown.
func (s *Server) community(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := checkParams(q, "from", "to", "team"); err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	f, err := parseFilter(q, s.opts.Now(), metrics.UpstreamAll)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	af := s.opts.Affiliations
	out, err := metrics.GetCommunity(r.Context(), s.st, f, func(login string, day time.Time) (string, string) {
		p := af.at(login, day)
		switch p.kind {
		case OrgOrganization:
			return metrics.AffiliationOrganization, p.org
		case OrgIndependent:
			return metrics.AffiliationIndependent, ""
		}
		return metrics.AffiliationUnknown, ""
	})
	var fe *metrics.FieldError
	switch {
	case errors.As(err, &fe):
		s.fail(w, r, http.StatusBadRequest, fe.Field, err)
		return
	case err != nil:
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}
