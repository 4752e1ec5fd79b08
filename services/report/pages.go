package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"giveback.dev/platform/store"
	"giveback.dev/services/report/metrics"
	"giveback.dev/services/report/web"
)

// errDatabase is what a page says when ClickHouse fails; the log has the detail.
const errDatabase = "the database did not answer; the server log has the detail"

// pageState is a page being answered: its layout, its filter and its status so far.
type pageState struct {
	web.Chrome
	filter metrics.Filter
	teams  []string
	status int
	// ctx is the request's context, in which every statement of the page reads one list of the
	// months rolled up (metrics.ShareRollupMonths): the teams of the filter bar and the page's
	// metrics read the same months, and the list once.
	ctx context.Context
}

// ok reports whether the page can compute its figures: no error so far and data stored.
func (p *pageState) ok() bool { return p.Error == "" && !p.Empty }

// bad shows a reason the request is wrong, with 400.
func (p *pageState) bad(reason string) {
	if p.Error == "" {
		p.Error, p.status = reason, http.StatusBadRequest
	}
}

// fail shows a database failure, with 500 (a cancelled request is logged the same way).
func (p *pageState) fail(s *Server, err error) {
	s.log.Error("page "+p.Active, slog.Any("err", err))
	p.Error, p.status = errDatabase, http.StatusInternalServerError
}

// startPage reads what every page reads: the filter of the query string (with the defaults of
// the API; team and upstream only where the page offers them), the teams (for the filter bar,
// for a page that lists teams, or to check a team asked for: listTeams, team or a team in the
// query; the others skip the statement) and the time of the newest data. base leads from the
// page back to the site root. An unknown parameter, a malformed value or a team not in the data
// is a 400 naming it.
func (s *Server) startPage(r *http.Request, title, active, base string, def metrics.Upstream, team, upstream, listTeams bool) *pageState {
	p := &pageState{status: http.StatusOK, ctx: metrics.ShareRollupMonths(r.Context())}
	p.Chrome = web.Chrome{Company: s.opts.Company, Title: title, Active: active, Base: base, Nav: s.nav()}
	q := r.URL.Query()
	f, ferr := parseFilter(q, s.opts.Now(), def)
	if ferr == nil {
		ferr = checkParams(q, filterParams...)
	}
	bar := &web.FilterBar{Team: team, Upstream: upstream,
		Period: metrics.Period{From: q.Get("from"), To: q.Get("to"), Team: q.Get("team"), Upstream: q.Get("upstream")}}
	if ferr != nil {
		p.bad(ferr.Error())
	} else {
		bar.Period = metrics.Period{From: day(f.From), To: day(f.To), Team: f.Team, Upstream: string(f.Upstream)}
		if !upstream {
			bar.Period.Upstream = ""
		}
	}
	p.Filter, p.filter = bar, f

	g, gctx := errgroup.WithContext(p.ctx)
	var teams []metrics.Team
	if listTeams || team || f.Team != "" {
		g.Go(func() (err error) { teams, err = metrics.GetTeams(gctx, s.st); return })
	}
	g.Go(func() (err error) { p.Fresh, err = freshness(gctx, s.st); return })
	if err := g.Wait(); err != nil {
		p.fail(s, err)
		return p
	}
	for _, t := range teams {
		p.teams = append(p.teams, t.Team)
	}
	bar.Teams = p.teams
	p.Empty = p.Fresh.Stored.IsZero()
	if ferr == nil && f.Team != "" && !slices.Contains(p.teams, f.Team) {
		p.bad(unknownTeam(f.Team, p.teams).Error())
	}
	return p
}

// unknownTeam is the error for a team the data does not know, listing those it does.
func unknownTeam(team string, teams []string) error {
	if len(teams) == 0 {
		return badParam("team", "%q is not a team in the data: no contribution is attributed to a team yet", team)
	}
	return badParam("team", "%q is not a team in the data; the teams are %s", team, strings.Join(teams, ", "))
}

// freshnessSQL reads the number of contributions and the newest made, which ClickHouse answers
// from the parts' metadata, and the newest stored from contributions_stored (migration 0019): a
// few milliseconds where reading stored_at from contributions takes tens at 10M rows.
const freshnessSQL = `SELECT n, made, stored
FROM (SELECT count() AS n, toUnixTimestamp64Milli(max(occurred_at)) AS made FROM contributions) AS c
CROSS JOIN (SELECT toUnixTimestamp64Milli(max(stored_at)) AS stored FROM contributions_stored) AS s`

// freshness reads the time of the newest contribution made and stored; zero times when
// nothing is stored.
func freshness(ctx context.Context, st *store.Store) (web.Freshness, error) {
	res, err := st.Query(ctx, freshnessSQL, nil)
	if err != nil {
		return web.Freshness{}, fmt.Errorf("report: freshness: %w", err)
	}
	var fr web.Freshness
	if len(res.Rows) == 1 && store.AsInt(res.Rows[0][0]) > 0 {
		fr.Occurred = time.UnixMilli(store.AsInt(res.Rows[0][1])).UTC()
		fr.Stored = time.UnixMilli(store.AsInt(res.Rows[0][2])).UTC()
	}
	return fr, nil
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// nav returns the navigation items of the pages this server serves.
func (s *Server) nav() []web.NavItem {
	s.navOnce.Do(func() { s.navItems = web.NavFor(s.Routes()) })
	return s.navItems
}

// teamsPage serves GET /teams: every team's upstream work in the period, its acceptance, its
// active contributors and its top upstream projects, each linking to the team's page.
func (s *Server) teamsPage(w http.ResponseWriter, r *http.Request) {
	p := s.startPage(r, "Teams", "teams", "./", metrics.UpstreamAll, false, false, true)
	t := web.Teams{Chrome: p.Chrome}
	if p.ok() {
		// Each metric is one statement grouped by team, whatever the number of teams.
		f := p.filter
		up := f
		up.Upstream = metrics.UpstreamOnly
		var sums []metrics.Summary
		var news []metrics.Newcomers
		var tops []metrics.Repos
		g, ctx := errgroup.WithContext(p.ctx)
		g.Go(func() (err error) { sums, err = metrics.GetSummaryByTeam(ctx, s.st, f, p.teams); return })
		g.Go(func() (err error) { news, err = metrics.GetNewcomersByTeam(ctx, s.st, f, p.teams); return })
		g.Go(func() (err error) { tops, err = metrics.GetReposByTeam(ctx, s.st, up, p.teams, 3); return })
		if err := g.Wait(); err != nil {
			p.fail(s, err)
		} else {
			t.Rows = make([]web.TeamRow, len(p.teams))
			for i, name := range p.teams {
				t.Rows[i] = web.TeamRow{Team: name, Summary: sums[i], Newcomers: news[i], Top: tops[i]}
			}
		}
		t.Chrome = p.Chrome
	}
	s.render(w, p.status, "teams", func(b *bytes.Buffer) error { return web.RenderTeams(b, t) })
}

// teamPage serves GET /teams/{team}: the overview of one team (without the dependencies, which
// are the company's). A team not in the data is a 400 naming it.
func (s *Server) teamPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("team")
	p := s.startPage(r, "Team "+name, "teams", "../", metrics.UpstreamAll, false, true, true)
	if p.Error == "" && !p.Empty && !slices.Contains(p.teams, name) {
		p.bad(unknownTeam(name, p.teams).Error())
	}
	if r.URL.Query().Has("team") {
		p.bad(badParam("team", "the team is in the path (/teams/%s); leave the parameter out", name).Error())
	}
	p.filter.Team = name
	p.Subtitle = "one team's contributions"
	o := web.Overview{Chrome: p.Chrome, TeamPage: true}
	if p.ok() {
		if err := s.loadOverview(p.ctx, p.filter, &o, false); err != nil {
			p.fail(s, err)
			o.Chrome = p.Chrome
		}
	}
	s.render(w, p.status, "team", func(b *bytes.Buffer) error { return web.RenderOverview(b, o) })
}

// projectRows is how many projects the projects page lists.
const projectRows = 100

// projectsPage serves GET /projects: the company's work per upstream project with each
// project's health (acceptance, time to merge, our share, Elephant Factor, maintainer seats,
// activity trend), the risk list and the departure risk, in aggregates only.
func (s *Server) projectsPage(w http.ResponseWriter, r *http.Request) {
	p := s.startPage(r, "Projects and dependencies", "projects", "./", metrics.UpstreamOnly, true, false, false)
	p.APIPath, p.APIParams = "api/v1/metrics/projects", []string{"from", "to", "team"}
	pr := web.Projects{Chrome: p.Chrome}
	if p.ok() {
		f := p.filter
		f.Upstream = metrics.UpstreamOnly
		af := s.opts.Affiliations.Affiliate(s.opts.Company)
		ro := s.roster()
		pr.Roster = ro != nil
		var leaving Departures
		g, ctx := errgroup.WithContext(p.ctx)
		g.Go(func() (err error) {
			pr.Work, err = metrics.GetProjectsAffiliated(ctx, s.st, f, projectRows, af)
			return
		})
		g.Go(func() (err error) { pr.Cycle, err = metrics.GetCycle(ctx, s.st, f, cycleDrawn); return })
		g.Go(func() (err error) { pr.Risks, err = metrics.GetRisksAffiliated(ctx, s.st, f, projectRows, af); return })
		if ro != nil {
			g.Go(func() (err error) {
				leaving, err = GetDepartures(ctx, s.st, f, ro, s.opts.Now(), departureSeats)
				return
			})
		}
		if err := g.Wait(); err != nil {
			p.fail(s, err)
		}
		pr.Leaving = map[string]int64{}
		for _, d := range leaving.Rows {
			k := strings.ToLower(d.Repo)
			if pr.Leaving[k] == 0 {
				pr.LeavingProjects++
			}
			pr.Leaving[k]++
			pr.LeavingSeats++
		}
		pr.Chrome = p.Chrome
	}
	s.render(w, p.status, "projects", func(b *bytes.Buffer) error { return web.RenderProjects(b, pr) })
}

// projectPage serves GET /projects/{owner}/{name}: one project's activity, the company's share
// of it and its Elephant Factor, the company's contributions to it and its use by the
// company's services. A project Giveback has never seen is a 400 naming it.
func (s *Server) projectPage(w http.ResponseWriter, r *http.Request) {
	repo := r.PathValue("owner") + "/" + r.PathValue("name")
	p := s.startPage(r, repo, "projects", "../../", metrics.UpstreamOnly, false, false, false)
	p.APIPath, p.APIParams, p.APIRepo = "api/v1/metrics/projects", []string{"from", "to"}, repo
	pg := web.Project{Repo: repo}
	if p.ok() {
		if err := s.loadProject(p.ctx, p.filter, &pg); err != nil {
			var pe *paramError
			if errors.As(err, &pe) {
				p.bad(pe.Error())
			} else {
				p.fail(s, err)
			}
		}
	}
	pg.Chrome = p.Chrome
	s.render(w, p.status, "project", func(b *bytes.Buffer) error { return web.RenderProject(b, pg) })
}

// loadProject fills one project's page; a project in no contribution, no dependency list and
// no GH Archive count is a paramError naming repo.
func (s *Server) loadProject(ctx context.Context, f metrics.Filter, pg *web.Project) error {
	f.Repo = pg.Repo
	if err := s.known(ctx, f); err != nil {
		return err
	}
	deps, err := s.st.CurrentDependencies(ctx)
	if err != nil {
		return fmt.Errorf("report: project %s: dependencies: %w", pg.Repo, err)
	}
	for repo, c := range deps {
		if strings.EqualFold(repo, pg.Repo) {
			pg.Criticality, pg.Dependency = c, true
		}
	}
	pg.TrendFrom = day(web.TrendPeriod(f).From)
	up := f
	up.Upstream = metrics.UpstreamAll
	var seats metrics.Seats
	var leaving Departures
	ro := s.roster()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		in, err := getInfluence(gctx, s.st, pg.Repo, f.From, f.To, s.opts.Company, s.opts.Affiliations)
		if err != nil {
			return err
		}
		pg.Events, pg.Actors, pg.ElephantFactor = in.Events, in.Actors, in.ElephantFactor
		pg.CompanyEvents, pg.CompanyActors, pg.CompanyShare = in.Company.Events, in.Company.Actors, in.Company.Share
		for _, o := range in.Organizations {
			pg.Orgs = append(pg.Orgs, web.ProjectOrg{Name: o.Name, Kind: o.Kind, Events: o.Events, Share: o.Share})
		}
		return nil
	})
	g.Go(func() error { return projectMonths(gctx, s.st, pg.Repo, f, pg) })
	g.Go(func() error {
		ps, err := metrics.GetProjectsAffiliated(gctx, s.st, up, 1, s.opts.Affiliations.Affiliate(s.opts.Company))
		if err == nil && len(ps.Rows) == 1 {
			pg.Row = &ps.Rows[0]
		}
		return err
	})
	g.Go(func() (err error) { seats, err = metrics.GetSeats(gctx, s.st, up, maxRows); return })
	if ro != nil {
		g.Go(func() (err error) { leaving, err = GetDepartures(gctx, s.st, up, ro, s.opts.Now(), maxRows); return })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	ends := map[string]Departure{}
	for _, d := range leaving.Rows {
		ends[d.EmployeeID] = d
	}
	for _, st := range seats.Rows {
		d := ends[st.EmployeeID]
		pg.Seats = append(pg.Seats, web.SeatRow{Seat: st, Name: d.Name, Leaving: d.End, Left: d.Left})
	}
	return nil
}

// projectMonths counts the employees' contributions to one repository per month of the
// trend (the twelve months to the period's end) and, in the same pass, those of the period.
func projectMonths(ctx context.Context, st *store.Store, repo string, f metrics.Filter, pg *web.Project) error {
	trend := web.TrendPeriod(f)
	first := trend.From
	if f.From.Before(first) {
		first = f.From
	}
	ts := func(t time.Time) string { return "toDateTime64(" + store.Quote(day(t)) + ", 3, 'UTC')" }
	inPeriod := "occurred_at >= " + ts(f.From)
	res, err := st.Query(ctx, `SELECT formatDateTime(occurred_at, '%Y-%m') AS m, count() AS n_all,
       countIf(kind = 'pull_request') AS n_prs, countIf(kind = 'pull_request' AND merged = 1) AS n_merged,
       countIf(`+inPeriod+`) AS p_all, countIf(`+inPeriod+` AND kind = 'pull_request') AS p_prs,
       countIf(`+inPeriod+` AND kind = 'pull_request' AND merged = 1) AS p_merged
FROM contributions FINAL
WHERE lower(repo) = lower(`+store.Quote(repo)+`) AND employee_id != ''
  AND occurred_at >= `+ts(first)+` AND occurred_at < `+ts(f.To.AddDate(0, 0, 1))+`
GROUP BY m ORDER BY m`, metrics.Settings)
	if err != nil {
		return fmt.Errorf("report: project %s by month: %w", repo, err)
	}
	byMonth := map[string]web.ProjectMonth{}
	for _, row := range res.Rows {
		m := web.ProjectMonth{Month: store.AsString(row[0]), Contributions: store.AsInt(row[1]), PRs: store.AsInt(row[2]), Merged: store.AsInt(row[3])}
		byMonth[m.Month] = m
		pg.Contributions += store.AsInt(row[4])
		pg.PRs += store.AsInt(row[5])
		pg.Merged += store.AsInt(row[6])
	}
	pg.Months = make([]web.ProjectMonth, 0, 12)
	for _, m := range trend.Months() {
		k := m.Format("2006-01")
		pm := byMonth[k]
		pm.Month = k
		pg.Months = append(pg.Months, pm)
	}
	return nil
}

// communityPage serves GET /community: the community inflow of the period, the people outside
// the roster who contribute to the company's own open source. Outside contributors have no
// team, so the page has no team filter.
func (s *Server) communityPage(w http.ResponseWriter, r *http.Request) {
	p := s.startPage(r, "Community", "community", "./", metrics.UpstreamAll, false, false, false)
	p.APIPath, p.APIParams = "api/v1/metrics/community", []string{"from", "to"}
	p.Subtitle = "what comes back: outside contributors to the company's own open source"
	if p.Error == "" && p.filter.Team != "" {
		p.bad(badParam("team", "outside contributors have no team; leave the parameter out").Error())
	}
	c := web.Community{Chrome: p.Chrome}
	if p.ok() {
		var err error
		c.Community, err = metrics.GetCommunity(p.ctx, s.st, p.filter, s.affiliate())
		if err != nil {
			p.fail(s, err)
		}
	}
	c.Chrome = p.Chrome
	s.render(w, p.status, "community", func(b *bytes.Buffer) error { return web.RenderCommunity(b, c) })
}

// affiliate answers the organization of an outside contributor from Options.Affiliations.
func (s *Server) affiliate() metrics.Affiliate {
	af := s.opts.Affiliations
	return func(login string, day time.Time) (string, string) {
		p := af.at(login, day)
		switch p.kind {
		case OrgOrganization:
			return metrics.AffiliationOrganization, p.org
		case OrgIndependent:
			return metrics.AffiliationIndependent, ""
		}
		return metrics.AffiliationUnknown, ""
	}
}

// peopleRows is how many people the people page lists.
const peopleRows = 500

// peoplePage serves GET /people: each employee's upstream record in the period, the most
// contributing first, never anyone the roster marks opted out. The authorisation table shows
// it only where individuals may be seen.
func (s *Server) peoplePage(w http.ResponseWriter, r *http.Request) {
	p := s.startPage(r, "People", "people", "./", metrics.UpstreamOnly, true, false, false)
	p.APIPath, p.APIParams = "api/v1/people", []string{"from", "to", "team"}
	pp := web.People{Chrome: p.Chrome, Limit: peopleRows}
	if p.ok() {
		optedOut := s.optedOut()
		var err error
		pp.Record, err = metrics.GetPeople(p.ctx, s.st, p.filter, peopleRows, func(id string) bool { return optedOut[id] })
		if err != nil {
			p.fail(s, err)
		}
		pp.Chrome = p.Chrome
	}
	s.render(w, p.status, "people", func(b *bytes.Buffer) error { return web.RenderPeople(b, pp) })
}

// optedOut returns the employee ids the current roster marks opted out; empty without one.
func (s *Server) optedOut() map[string]bool {
	out := map[string]bool{}
	if ro := s.roster(); ro != nil {
		for _, p := range ro.Periods {
			if p.OptOut {
				out[p.EmployeeID] = true
			}
		}
	}
	return out
}

// plainChrome returns the layout of a page that reads no filter (identities, sources, live, the
// query console): the navigation and the time of the newest data, with active the key of the
// page's navigation item ("" for none) and base the way back to the site root ("./" for a page
// at the top). A failure to read the time of the newest data is logged and leaves it out.
func (s *Server) plainChrome(ctx context.Context, title, active, base string) web.Chrome {
	c := web.Chrome{Company: s.opts.Company, Title: title, Active: active, Base: base, Nav: s.nav()}
	if s.st == nil {
		return c
	}
	fr, err := freshness(ctx, s.st)
	if err != nil {
		s.log.Warn("page "+title+": freshness", slog.Any("err", err))
	}
	c.Fresh = fr
	return c
}
