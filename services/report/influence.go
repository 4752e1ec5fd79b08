package report

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"giveback.dev/platform/repoclass"
	"giveback.dev/platform/store"
)

// influenceTop is how many of a project's most active actors the influence answer lists.
const influenceTop = 10

// Influence is the company's share of one project's activity in a period (CHAOSS Organizational
// Influence), from the project totals ingest counts in GH Archive (project_activity).
//
// The CHAOSS Elephant Factor (the fewest organizations making half the activity) needs the
// organization of every actor; Giveback only knows who is an employee, so it reports the
// company's share and the most active actors instead. Employees are the logins of stored
// contributions attributed to an employee. Activity counts GH Archive events of every type.
type Influence struct {
	Repo      string           `json:"repo"`
	From      string           `json:"from"`
	To        string           `json:"to"`
	Events    int64            `json:"events"` // every actor's events in the repository
	Actors    int64            `json:"actors"` // distinct actors (opted-out people count as one, unnamed)
	Company   InfluenceShare   `json:"company"`
	TopActors []InfluenceActor `json:"top_actors"`
}

// InfluenceShare is the company's part of the activity.
type InfluenceShare struct {
	Events int64   `json:"events"`
	Actors int64   `json:"actors"`
	Share  float64 `json:"share"` // events / all events, 0 to 1; 0 without activity
}

// InfluenceActor is one of the most active actors.
type InfluenceActor struct {
	Actor    string `json:"actor"` // empty for the people who opted out, together
	Events   int64  `json:"events"`
	Employee bool   `json:"employee"`
}

// influence serves GET /api/v1/metrics/influence?repo=owner/name&from=YYYY-MM-DD&to=YYYY-MM-DD.
// repo is required; from and to default as for the other metrics (twelve calendar months to
// today). A repository nobody watched yet answers zeros.
func (s *Server) influence(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := checkParams(q, "repo", "from", "to"); err != nil {
		s.fail(w, r, http.StatusBadRequest, "", err)
		return
	}
	repo := q.Get("repo")
	if strings.Count(repo, "/") != 1 || strings.HasSuffix(repo, "*") || !repoclass.ValidKey(repo) {
		s.fail(w, r, http.StatusBadRequest, "", badParam("repo", "%q is not a repository; use owner/name", repo))
		return
	}
	now := s.opts.Now().UTC()
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var err error
	if v := q.Get("to"); v != "" {
		if to, err = parseDay(v); err != nil {
			s.fail(w, r, http.StatusBadRequest, "", &paramError{param: "to", err: err})
			return
		}
	}
	from := time.Date(to.Year(), to.Month()-11, 1, 0, 0, 0, 0, time.UTC)
	if v := q.Get("from"); v != "" {
		if from, err = parseDay(v); err != nil {
			s.fail(w, r, http.StatusBadRequest, "", &paramError{param: "from", err: err})
			return
		}
	}
	if from.After(to) {
		s.fail(w, r, http.StatusBadRequest, "", badParam("from", "%s is after to (%s)", from.Format(time.DateOnly), to.Format(time.DateOnly)))
		return
	}
	out, err := getInfluence(r.Context(), s.st, repo, from, to)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func getInfluence(ctx context.Context, st *store.Store, repo string, from, to time.Time) (*Influence, error) {
	day := func(t time.Time) string { return "toDate(" + store.Quote(t.Format(time.DateOnly)) + ")" }
	res, err := st.Query(ctx, `SELECT actor, sum(events) AS n,
       actor != '' AND lower(actor) IN (SELECT lower(actor_login) FROM contributions FINAL WHERE employee_id != '' AND actor_login != '') AS employee
FROM project_activity FINAL
WHERE lower(repo) = lower(`+store.Quote(repo)+`) AND day >= `+day(from)+` AND day <= `+day(to)+`
GROUP BY actor
ORDER BY n DESC, actor`, nil)
	if err != nil {
		return nil, fmt.Errorf("report: influence of %s: %w", repo, err)
	}
	out := &Influence{Repo: repo, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), TopActors: []InfluenceActor{}}
	for _, row := range res.Rows {
		a := InfluenceActor{Actor: store.AsString(row[0]), Events: store.AsInt(row[1]), Employee: store.AsInt(row[2]) != 0}
		out.Events += a.Events
		out.Actors++
		if a.Employee {
			out.Company.Events += a.Events
			out.Company.Actors++
		}
		if len(out.TopActors) < influenceTop {
			out.TopActors = append(out.TopActors, a)
		}
	}
	if out.Events > 0 {
		out.Company.Share = float64(out.Company.Events) / float64(out.Events)
	}
	return out, nil
}
