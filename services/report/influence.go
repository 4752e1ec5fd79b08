package report

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"giveback.dev/platform/repoclass"
	"giveback.dev/platform/store"
	"giveback.dev/services/report/metrics"
)

// influenceTop is how many of a project's most active actors the influence answer lists.
const influenceTop = 10

// influenceOrgs is how many of a project's most active organizations the influence answer lists.
const influenceOrgs = 10

// Influence is the company's share of one project's activity in a period (CHAOSS Organizational
// Influence) and the project's CHAOSS Elephant Factor, from the project totals ingest counts in
// GH Archive (project_activity). Activity counts GH Archive events of every type. Employees are
// the logins of stored contributions attributed to an employee.
//
// The Elephant Factor is the fewest organizations whose events together make at least half of
// the period's events. An actor's organization is the company for employees, else the one the
// affiliations file (Options.Affiliations) gives for the day of each event; an actor whose
// organization is unknown, and each independent one, is an organization of its own, so unknown
// affiliations never make a project look more concentrated than it is (UnaffiliatedEvents says
// how much of the activity that concerns). The people who opted out, counted together without a
// name, are one unaffiliated organization.
type Influence struct {
	Repo      string           `json:"repo"`
	From      string           `json:"from"`
	To        string           `json:"to"`
	Events    int64            `json:"events"` // every actor's events in the repository
	Actors    int64            `json:"actors"` // distinct actors (opted-out people count as one, unnamed)
	Company   InfluenceShare   `json:"company"`
	TopActors []InfluenceActor `json:"top_actors"`
	// ElephantFactor is the fewest organizations making at least half of Events; 0 without activity.
	ElephantFactor int `json:"elephant_factor"`
	// Organizations are the most active organizations, by events, then name.
	Organizations []InfluenceOrganization `json:"organizations"`
	// UnaffiliatedEvents are the events of actors of unknown organization (each counted as an
	// organization of one), the opted-out people's included.
	UnaffiliatedEvents int64 `json:"unaffiliated_events"`
}

// InfluenceOrganization is one of the most active organizations.
type InfluenceOrganization struct {
	// Name is the organization's; for an independent or unaffiliated actor, the actor's login
	// ("" for the people who opted out).
	Name   string  `json:"name"`
	Kind   string  `json:"kind"` // company, organization, independent or unaffiliated
	Events int64   `json:"events"`
	Share  float64 `json:"share"`  // events / all events, 0 to 1
	Actors int64   `json:"actors"` // actors with events attributed to the organization
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
	out, err := getInfluence(r.Context(), s.st, repo, from, to, s.opts.Company, s.opts.Affiliations)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func getInfluence(ctx context.Context, st *store.Store, repo string, from, to time.Time, company string, af *Affiliations) (*Influence, error) {
	day := func(t time.Time) string { return "toDate(" + store.Quote(t.Format(time.DateOnly)) + ")" }
	where := `WHERE lower(repo) = lower(` + store.Quote(repo) + `) AND day >= ` + day(from) + ` AND day <= ` + day(to)
	res, err := st.Query(ctx, `SELECT actor, sum(events) AS n,
       actor != '' AND lower(actor) IN (SELECT lower(actor_login) FROM contributions FINAL WHERE employee_id != '' AND actor_login != '') AS employee
FROM project_activity FINAL
`+where+`
GROUP BY actor
ORDER BY n DESC, actor`, nil)
	if err != nil {
		return nil, fmt.Errorf("report: influence of %s: %w", repo, err)
	}
	out := &Influence{Repo: repo, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		TopActors: []InfluenceActor{}, Organizations: []InfluenceOrganization{}}
	actors := make([]InfluenceActor, 0, len(res.Rows))
	var changing []string // actors whose affiliation changes within the period
	for _, row := range res.Rows {
		a := InfluenceActor{Actor: store.AsString(row[0]), Events: store.AsInt(row[1]), Employee: store.AsInt(row[2]) != 0}
		actors = append(actors, a)
		out.Events += a.Events
		out.Actors++
		if a.Employee {
			out.Company.Events += a.Events
			out.Company.Actors++
		} else if a.Actor != "" && af.changes(a.Actor, from, to) {
			changing = append(changing, store.Quote(a.Actor))
		}
		if len(out.TopActors) < influenceTop {
			out.TopActors = append(out.TopActors, a)
		}
	}
	if out.Events > 0 {
		out.Company.Share = float64(out.Company.Events) / float64(out.Events)
	}

	// The few actors who changed organization in the period are attributed day by day.
	daily := map[string]map[time.Time]int64{}
	if len(changing) > 0 {
		res, err := st.Query(ctx, `SELECT actor, toString(day) AS d, sum(events) AS n
FROM project_activity FINAL
`+where+` AND actor IN (`+strings.Join(changing, ", ")+`)
GROUP BY actor, d`, nil)
		if err != nil {
			return nil, fmt.Errorf("report: influence of %s: affiliations by day: %w", repo, err)
		}
		for _, row := range res.Rows {
			d, err := time.Parse(time.DateOnly, store.AsString(row[1]))
			if err != nil {
				return nil, fmt.Errorf("report: influence of %s: day %q: %w", repo, store.AsString(row[1]), err)
			}
			a := store.AsString(row[0])
			if daily[a] == nil {
				daily[a] = map[time.Time]int64{}
			}
			daily[a][d] += store.AsInt(row[2])
		}
	}

	companyKey := "o:" + strings.ToLower(company)
	orgs := map[string]*InfluenceOrganization{}
	var order []string
	for _, a := range actors {
		// The actor's events by organization.
		mine := map[string]int64{}
		add := func(p affiliation, n int64) {
			key, o := "a:"+strings.ToLower(a.Actor), InfluenceOrganization{Name: a.Actor, Kind: p.kind}
			switch {
			case a.Employee:
				key, o = companyKey, InfluenceOrganization{Name: company, Kind: OrgCompany}
			case p.kind == OrgOrganization:
				key, o = "o:"+strings.ToLower(p.org), InfluenceOrganization{Name: p.org, Kind: OrgOrganization}
				if key == companyKey {
					o = InfluenceOrganization{Name: company, Kind: OrgCompany}
				}
			}
			if orgs[key] == nil {
				orgs[key] = &o
				order = append(order, key)
			}
			mine[key] += n
			if !a.Employee && p.kind == OrgUnaffiliated {
				out.UnaffiliatedEvents += n
			}
		}
		switch days := daily[a.Actor]; {
		case a.Employee || a.Actor == "": // the company; the opted-out people, unaffiliated together
			add(affiliation{kind: OrgUnaffiliated}, a.Events)
		case days != nil && sumDays(days) == a.Events:
			for d, n := range days {
				add(af.at(a.Actor, d), n)
			}
		default:
			// One organization over the period, or rows changed between the two reads: the
			// organization at the end of the period.
			add(af.at(a.Actor, to), a.Events)
		}
		for key, n := range mine {
			orgs[key].Events += n
			orgs[key].Actors++
		}
	}

	list := make([]InfluenceOrganization, 0, len(orgs))
	for _, key := range order {
		o := *orgs[key]
		if out.Events > 0 {
			o.Share = float64(o.Events) / float64(out.Events)
		}
		list = append(list, o)
	}
	slices.SortStableFunc(list, func(a, b InfluenceOrganization) int {
		return cmp.Or(cmp.Compare(b.Events, a.Events), strings.Compare(a.Name, b.Name), strings.Compare(a.Kind, b.Kind))
	})
	counts := make([]int64, len(list))
	for i, o := range list {
		counts[i] = o.Events
	}
	out.ElephantFactor = metrics.ElephantFactor(counts) // as for every project of /api/v1/metrics/projects
	out.Organizations = append(out.Organizations, list[:min(len(list), influenceOrgs)]...)
	return out, nil
}

func sumDays(days map[time.Time]int64) int64 {
	var n int64
	for _, v := range days {
		n += v
	}
	return n
}
