package report

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/services/report/web"
)

// Unmatched is one identity that looks like the company's (activity in a private repository of a
// company org, a company e-mail) but is on nobody's roster row, for the OSPO to resolve. People
// outside the roster in the company's public repositories are not unmatched: they are the
// community inflow (GET /api/v1/metrics/community).
type Unmatched struct {
	Identity      string   `json:"identity"`
	Kind          string   `json:"kind"`   // login or email
	Reason        string   `json:"reason"` // company_org (a private company repository) or company_email
	Repos         []string `json:"repos"`
	FirstSeen     string   `json:"first_seen"` // RFC 3339, UTC
	LastSeen      string   `json:"last_seen"`
	Contributions int64    `json:"contributions"`
}

// unmatched serves GET /api/v1/identities/unmatched:
//
//	{"identities": [{"identity": "zed", "kind": "login", "reason": "company_org",
//	  "repos": ["acme/tool"], "first_seen": "2025-01-02T03:04:05Z", "last_seen": "…",
//	  "contributions": 3}, …]}
//
// sorted by contributions, most first. from=YYYY-MM-DD and to=YYYY-MM-DD (inclusive, optional)
// keep the identities seen in the period: first seen on or before to, last seen on or after
// from; the counts are over all time.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := checkParams(q, "from", "to"); err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	var conds []string
	for _, p := range []struct{ name, cond string }{{"from", "last_seen >= %s"}, {"to", "first_seen < %s + INTERVAL 1 DAY"}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		d, err := parseDay(v)
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, "", &paramError{param: p.name, err: err})
			return
		}
		conds = append(conds, fmt.Sprintf(p.cond, "toDateTime64("+store.Quote(d.Format(time.DateOnly))+", 3, 'UTC')"))
	}
	out, err := getUnmatched(r.Context(), s.st, conds)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"identities": out})
}

func getUnmatched(ctx context.Context, st *store.Store, conds []string) ([]Unmatched, error) {
	having := ""
	if len(conds) > 0 {
		having = " HAVING " + strings.Join(conds, " AND ")
	}
	res, err := st.Query(ctx, `SELECT identity, kind, reason, arraySort(groupUniqArray(repo)) AS repos,
       formatDateTime(min(f), '%Y-%m-%dT%H:%i:%SZ', 'UTC'), formatDateTime(max(l), '%Y-%m-%dT%H:%i:%SZ', 'UTC'),
       sum(n) AS contributions, min(f) AS first_seen, max(l) AS last_seen
FROM (SELECT identity, kind, reason, repo, first_seen AS f, last_seen AS l, contributions AS n
      FROM current_unmatched_identities)
GROUP BY identity, kind, reason`+having+`
ORDER BY contributions DESC, identity, reason`, nil)
	if err != nil {
		return nil, fmt.Errorf("report: unmatched identities: %w", err)
	}
	out := make([]Unmatched, 0, len(res.Rows))
	for _, row := range res.Rows {
		u := Unmatched{Identity: store.AsString(row[0]), Kind: store.AsString(row[1]), Reason: store.AsString(row[2]),
			FirstSeen: store.AsString(row[4]), LastSeen: store.AsString(row[5]), Contributions: store.AsInt(row[6]), Repos: []string{}}
		if repos, ok := row[3].([]any); ok {
			for _, r := range repos {
				u.Repos = append(u.Repos, store.AsString(r))
			}
		}
		out = append(out, u)
	}
	return out, nil
}

//go:embed web/assets/identities.html
var identitiesHTML string

var identitiesTmpl = web.NewPage("identities", identitiesHTML, template.FuncMap{
	"why": func(reason string) string {
		switch reason {
		case "company_org":
			return "active in a private company repository"
		case "company_email":
			return "company e-mail domain"
		}
		return reason
	},
	"repos": func(rs []string) string {
		if len(rs) > 3 {
			return strings.Join(rs[:3], ", ") + fmt.Sprintf(" and %d more", len(rs)-3)
		}
		return strings.Join(rs, ", ")
	},
	"day": func(ts string) string {
		if t, err := time.Parse(time.RFC3339, ts); err == nil {
			return t.UTC().Format("2006-01-02 15:04")
		}
		return ts
	},
})

type identitiesView struct {
	web.Chrome
	Identities    []Unmatched
	Contributions int64
}

// identitiesPage serves GET /identities: the unmatched identities as a page, with how to resolve
// them, in the dashboard's style.
func (s *Server) identitiesPage(w http.ResponseWriter, r *http.Request) {
	v := identitiesView{Chrome: s.plainChrome(r.Context(), "Unmatched identities", "", "./")}
	v.Subtitle = "activity that looks like the company's but is on nobody's roster row"
	status := http.StatusOK
	ids, err := getUnmatched(r.Context(), s.st, nil)
	if err != nil {
		s.log.Error("identities page", slog.Any("err", err))
		v.Error, status = "the database did not answer; the server log has the detail", http.StatusInternalServerError
	}
	v.Identities = ids
	for _, u := range ids {
		v.Contributions += u.Contributions
	}
	var buf bytes.Buffer
	if err := identitiesTmpl.Execute(&buf, v); err != nil {
		s.log.Error("identities page", slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.writePage(w, status, &buf, "identities page")
}
