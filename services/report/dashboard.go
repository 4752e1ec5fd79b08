package report

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"

	"golang.org/x/sync/errgroup"

	"giveback.dev/services/report/metrics"
	"giveback.dev/services/report/web"
)

// cycleDrawn is how many dependencies the overview's consumption-versus-contribution chart
// places, the most critical first.
const cycleDrawn = 300

// dashboard serves GET /, the overview: the headline numbers of the filter's period (the same
// parameters as the API) against the previous period of the same length, the trends of the
// twelve months to its end, and the dependencies set against what the company gives them. A
// bad parameter or an unknown team shows the page with the reason and answers 400.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	p := s.startPage(r, "Overview", "overview", "./", metrics.UpstreamAll, true, true, false)
	o := web.Overview{Chrome: p.Chrome}
	if p.ok() {
		if err := s.loadOverview(p.ctx, p.filter, &o, true); err != nil {
			p.fail(s, err)
			o.Chrome = p.Chrome
		}
	}
	s.render(w, p.status, "overview", func(b *bytes.Buffer) error { return web.RenderOverview(b, o) })
}

// loadOverview runs the overview's metrics, at once: ClickHouse (a server, or chDB's clients)
// runs them side by side, so the page takes less than their sum. The
// repositories panel shows upstream repositories unless the filter asks for internal ones.
// Without withCycle (a team's page) the dependencies are left out.
func (s *Server) loadOverview(ctx context.Context, f metrics.Filter, o *web.Overview, withCycle bool) error {
	rf := f
	if rf.Upstream == metrics.UpstreamAll {
		rf.Upstream = metrics.UpstreamOnly
	}
	o.ReposUpstream = rf.Upstream
	prev, trend := web.PreviousPeriod(f), web.TrendPeriod(f)
	o.PreviousFrom, o.PrevTo, o.TrendFrom = day(prev.From), day(prev.To), day(trend.From)
	g, ctx := errgroup.WithContext(metrics.ShareRollupMonths(ctx))
	g.Go(func() (err error) { o.Summary, err = metrics.GetSummary(ctx, s.st, f); return })
	g.Go(func() (err error) { o.Previous, err = metrics.GetSummary(ctx, s.st, prev); return })
	g.Go(func() (err error) { o.Response, err = metrics.GetResponsiveness(ctx, s.st, f); return })
	g.Go(func() (err error) { o.PrevResp, err = metrics.GetResponsiveness(ctx, s.st, prev); return })
	g.Go(func() (err error) { o.Newcomers, err = metrics.GetNewcomers(ctx, s.st, f); return })
	g.Go(func() (err error) { o.PrevNew, err = metrics.GetNewcomers(ctx, s.st, prev); return })
	g.Go(func() (err error) { o.Contributions, err = metrics.GetContributions(ctx, s.st, trend); return })
	g.Go(func() (err error) { o.Contributors, err = metrics.GetContributors(ctx, s.st, trend); return })
	g.Go(func() (err error) { o.Acceptance, err = metrics.GetAcceptance(ctx, s.st, trend); return })
	g.Go(func() (err error) { o.Repos, err = metrics.GetRepos(ctx, s.st, rf, s.opts.TopRepos); return })
	if withCycle {
		g.Go(func() (err error) { o.Cycle, err = metrics.GetCycle(ctx, s.st, f, cycleDrawn); return })
	}
	return g.Wait()
}

// pageCSP keeps the server-rendered pages to their own inline styles and data images.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// render renders a page into a buffer and sends it, or a bare 500 when rendering fails.
func (s *Server) render(w http.ResponseWriter, status int, name string, fn func(*bytes.Buffer) error) {
	var buf bytes.Buffer
	if err := fn(&buf); err != nil {
		s.log.Error(name, slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.writePage(w, status, &buf, name)
}

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
