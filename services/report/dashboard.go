package report

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"

	"golang.org/x/sync/errgroup"

	"giveback.dev/services/report/metrics"
	"giveback.dev/services/report/web"
)

// dashboard serves GET /: the page for the filter of the query string (the same parameters as
// the API). A bad parameter shows the page with the reason and answers 400.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	d := web.Data{Company: s.opts.Company}
	status := http.StatusOK

	teams, err := metrics.GetTeams(ctx, s.st)
	if err != nil {
		s.log.Error("dashboard: teams", slog.Any("err", err))
		d.Error, status = "the database did not answer; the server log has the detail", http.StatusInternalServerError
	}
	d.Teams = teams

	f, ferr := parseFilter(q, s.opts.Now(), metrics.UpstreamAll)
	if ferr == nil {
		ferr = checkParams(q, filterParams...)
	}
	if ferr != nil && d.Error == "" {
		d.Error, status = ferr.Error(), http.StatusBadRequest
	}
	d.Filter = metrics.Period{From: q.Get("from"), To: q.Get("to"), Team: q.Get("team"), Upstream: q.Get("upstream")}
	if ferr == nil {
		d.Filter = metrics.Period{From: f.From.Format("2006-01-02"), To: f.To.Format("2006-01-02"), Team: f.Team, Upstream: string(f.Upstream)}
	}
	d.Query = url.Values{"from": {d.Filter.From}, "to": {d.Filter.To}, "team": {d.Filter.Team}, "upstream": {d.Filter.Upstream}}.Encode()

	if d.Error == "" {
		if err := s.load(ctx, f, &d); err != nil {
			s.log.Error("dashboard", slog.Any("err", err))
			d.Error, status = "the database did not answer; the server log has the detail", http.StatusInternalServerError
		}
	}
	var buf bytes.Buffer
	if err := web.Render(&buf, d); err != nil {
		s.log.Error("dashboard", slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.writePage(w, status, &buf, "dashboard")
}

// load runs the dashboard's metrics, at once: against a ClickHouse server the page takes as long
// as its slowest statement, not their sum (chDB runs them one after the other). The
// repositories panel shows upstream repositories unless the filter asks for internal ones.
func (s *Server) load(ctx context.Context, f metrics.Filter, d *web.Data) error {
	rf := f
	if rf.Upstream == metrics.UpstreamAll {
		rf.Upstream = metrics.UpstreamOnly
	}
	d.ReposUpstream = rf.Upstream
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { d.Summary, err = metrics.GetSummary(ctx, s.st, f); return })
	g.Go(func() (err error) { d.Contributions, err = metrics.GetContributions(ctx, s.st, f); return })
	g.Go(func() (err error) { d.Contributors, err = metrics.GetContributors(ctx, s.st, f); return })
	g.Go(func() (err error) { d.Acceptance, err = metrics.GetAcceptance(ctx, s.st, f); return })
	g.Go(func() (err error) { d.Response, err = metrics.GetResponsiveness(ctx, s.st, f); return })
	g.Go(func() (err error) { d.Cycle, err = metrics.GetCycle(ctx, s.st, f, s.opts.TopRepos); return })
	g.Go(func() (err error) { d.Repos, err = metrics.GetRepos(ctx, s.st, rf, s.opts.TopRepos); return })
	return g.Wait()
}

// pageCSP keeps the server-rendered pages to their own inline styles and data images.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// writePage sends a rendered HTML page with the headers every page carries.
func (s *Server) writePage(w http.ResponseWriter, status int, buf *bytes.Buffer, name string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	if _, err := buf.WriteTo(w); err != nil {
		s.log.Warn(name+": write", slog.Any("err", err))
	}
}
