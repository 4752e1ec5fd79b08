package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"giveback.dev/services/report/metrics"
)

// Build computes the report of the definition for the period and renders it in every format,
// with the zero Options.
func Build(ctx context.Context, q metrics.Querier, def Definition, p Period, now time.Time) (*Report, error) {
	return BuildWith(ctx, q, def, p, now, Options{})
}

// BuildWith computes the report of the definition for the period and renders it in every format.
// It fails when a statement fails or the period is empty or reversed; a period without data is
// not an error but a report that says so (Report.Empty).
func BuildWith(ctx context.Context, q metrics.Querier, def Definition, p Period, now time.Time, opt Options) (*Report, error) {
	n, err := Compute(ctx, q, def, p, now, opt)
	if err != nil {
		return nil, err
	}
	return Render(n)
}

// Compute computes every number of the report without rendering it.
func Compute(ctx context.Context, q metrics.Querier, def Definition, p Period, now time.Time, opt Options) (*Numbers, error) {
	b, err := newBuilder(q, def, p, now, opt)
	if err != nil {
		return nil, err
	}
	if err := b.compute(ctx); err != nil {
		return nil, fmt.Errorf("reports: %s: %w", def.Name, err)
	}
	return b.n, nil
}

// builder holds what the sections of one report share.
type builder struct {
	q        metrics.Querier
	def      Definition
	opt      Options
	loc      *time.Location
	cur      metrics.Filter // the period, as days in UTC like the dashboard's filter
	prev     metrics.Filter // the period before, of the same length
	trend    metrics.Filter // the 12 calendar months to the period's end
	sections []string
	n        *Numbers

	// shared results, computed once
	summary, prevSummary metrics.Summary
	resp, prevResp       metrics.Responsiveness
	trendResp            *metrics.Responsiveness // of the trend, when the period and the one before are taken from it
	cycle, prevCycle     metrics.Cycle

	newcomersOnce sync.Once
	newcomers     []metrics.Newcomers // of the trend and of the period, when both are wanted
	newcomersErr  error
}

func newBuilder(q metrics.Querier, def Definition, p Period, now time.Time, opt Options) (*builder, error) {
	if def.Name == "" {
		return nil, errors.New("reports: the definition has no name")
	}
	loc := p.TZ
	if loc == nil {
		loc = time.UTC
	}
	if p.From.IsZero() || p.To.IsZero() || !p.To.After(p.From) {
		return nil, fmt.Errorf("reports: %s: period %s: its end %s is not after its start %s", def.Name, p.Label, p.To, p.From)
	}
	from := dayOf(p.From.In(loc))
	to := dayOf(p.To.Add(-time.Nanosecond).In(loc))
	upstream := def.Filter.Upstream
	if upstream == "" {
		upstream = string(metrics.UpstreamOnly)
	}
	up, err := metrics.ParseUpstream(upstream)
	if err != nil {
		return nil, fmt.Errorf("reports: %s: filter.upstream: %w", def.Name, err)
	}
	cur := metrics.Filter{From: from, To: to, Team: def.Filter.Team, Upstream: up}
	if err := cur.Validate(); err != nil {
		return nil, fmt.Errorf("reports: %s: %w", def.Name, err)
	}
	prev := cur
	prev.From, prev.To = previous(from, to)
	trend := cur
	trend.From = time.Date(to.Year(), to.Month()-11, 1, 0, 0, 0, 0, time.UTC)
	sections := def.Sections
	if len(sections) == 0 {
		sections = Sections
	}
	for _, s := range sections {
		if !slices.Contains(Sections, s) {
			return nil, fmt.Errorf("reports: %s: sections: unknown section %q; use one of %s", def.Name, s, strings.Join(Sections, ", "))
		}
	}
	for k := range def.Targets {
		if !slices.Contains(TargetKeys, k) {
			return nil, fmt.Errorf("reports: %s: targets: unknown target %q; use one of %s", def.Name, k, strings.Join(TargetKeys, ", "))
		}
	}
	title := def.Title
	if title == "" {
		title = def.Name
	}
	label := p.Label
	if label == "" {
		label = day(from) + ".." + day(to)
	}
	b := &builder{q: q, def: def, opt: opt, loc: loc, cur: cur, prev: prev, trend: trend, sections: sections}
	b.n = &Numbers{
		Report: def.Name, Title: title,
		Period:      PeriodInfo{From: day(from), To: day(to), Label: label, TZ: loc.String()},
		Previous:    PeriodInfo{From: day(prev.From), To: day(prev.To), Label: day(prev.From) + ".." + day(prev.To), TZ: loc.String()},
		Filter:      FilterInfo{Team: def.Filter.Team, Upstream: string(up), DependenciesOnly: def.Filter.DependenciesOnly},
		GeneratedAt: now.UTC(),
		Late:        opt.Late,
		Sections:    sections,
	}
	if opt.Late && !opt.Due.IsZero() {
		due := opt.Due.UTC()
		b.n.Due = &due
	}
	b.n.Links = Links{
		Dashboard: b.dashboard("/", cur),
		Archive:   strings.TrimSuffix(opt.BaseURL, "/") + "/reports/" + url.PathEscape(def.Name) + "/" + url.PathEscape(label),
		Metrics:   b.metricsDoc(""),
	}
	return b, nil
}

// previous returns the period before [from, to] of the same kind: as many calendar months
// before when the period is whole months, else as many days before.
func previous(from, to time.Time) (time.Time, time.Time) {
	end := to.AddDate(0, 0, 1)
	if from.Day() == 1 && end.Day() == 1 {
		months := (end.Year()-from.Year())*12 + int(end.Month()-from.Month())
		return from.AddDate(0, -months, 0), from.AddDate(0, 0, -1)
	}
	days := int(end.Sub(from).Hours()/24 + 0.5)
	return from.AddDate(0, 0, -days), from.AddDate(0, 0, -1)
}

func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

func (b *builder) has(section string) bool { return slices.Contains(b.sections, section) }

// parallel is how many statements a report runs at once: ClickHouse answers them side by side,
// a server as chDB's clients (store: chdbClients), as for the dashboard.
const parallel = 4

// compute runs the statements the sections need, then derives the sections: first the period's
// and the previous period's totals the headline needs, then the sections, each on its own. All
// read the list of months whose rollup is current once (metrics.ShareRollupMonths), so every
// number of the report comes from the same months' rollups.
func (b *builder) compute(ctx context.Context) error {
	ctx = metrics.ShareRollupMonths(ctx)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	g.Go(func() (err error) { b.summary, err = metrics.GetSummary(gctx, b.q, b.cur); return })
	g.Go(func() (err error) { b.prevSummary, err = metrics.GetSummary(gctx, b.q, b.prev); return })
	g.Go(func() error { return b.responsiveness(gctx) })
	g.Go(func() (err error) { b.cycle, err = metrics.GetCycle(gctx, b.q, b.cur, maxDependencies); return })
	g.Go(func() (err error) { b.prevCycle, err = metrics.GetCycle(gctx, b.q, b.prev, 0); return })
	g.Go(func() (err error) { b.n.Freshness, err = freshness(gctx, b.q); return })
	if err := g.Wait(); err != nil {
		return err
	}
	b.n.Freshness.LastArchiveHour, b.n.Freshness.LastRESTSync = utc(b.opt.LastArchiveHour), utc(b.opt.LastRESTSync)
	b.n.Empty = b.summary.Contributions == 0 && b.summary.PRsClosed == 0
	b.headline()

	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	if b.has(SectionTrends) && !b.n.Empty {
		g.Go(func() error { return b.trends(gctx) })
	}
	if b.has(SectionHighlights) && !b.n.Empty {
		g.Go(func() error { return b.highlights(gctx) })
	}
	if b.has(SectionCycle) {
		g.Go(func() error { return b.cycleSection(gctx) })
	}
	if b.has(SectionRisks) || b.has(SectionRecommendations) {
		g.Go(func() error { return b.risks(gctx) })
	}
	if b.has(SectionTeams) && !b.n.Empty {
		g.Go(func() error { return b.teams(gctx) })
	}
	if b.has(SectionLabor) && b.def.LaborCost != nil && !b.n.Empty {
		g.Go(func() error { return b.labor(gctx) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if b.has(SectionRecommendations) {
		b.n.Recommendations = recommend(b.n)
	}
	if b.has(SectionNarrative) {
		b.n.Narrative = narrate(b.n)
	}
	return nil
}

// responsiveness sets the period's and the previous period's responsiveness. For a calendar
// month in a report with trends (the month before it is one too, and both are among the
// trend's twelve) both are the trend's rows of their months, one statement instead of three
// (metrics.Responsiveness.MonthOf); without trends the two months alone cost less than the
// twelve.
func (b *builder) responsiveness(ctx context.Context) error {
	if b.cur.CalendarMonth() && b.has(SectionTrends) {
		trend, err := metrics.GetResponsiveness(ctx, b.q, b.trend)
		if err != nil {
			return err
		}
		b.trendResp = &trend
		cur, okCur := trend.MonthOf(b.cur)
		prev, okPrev := trend.MonthOf(b.prev)
		if okCur && okPrev {
			b.resp, b.prevResp = cur, prev
			return nil
		}
	}
	var err error
	if b.resp, err = metrics.GetResponsiveness(ctx, b.q, b.cur); err != nil {
		return err
	}
	b.prevResp, err = metrics.GetResponsiveness(ctx, b.q, b.prev)
	return err
}

// newcomersOf returns the newcomers of the trend (trend true) or of the period. When the
// report wants both (trends and highlights), one statement reads both (metrics.GetNewcomersOf),
// run by whichever section asks first.
func (b *builder) newcomersOf(ctx context.Context, trend bool) (metrics.Newcomers, error) {
	f := b.cur
	if trend {
		f = b.trend
	}
	if !b.has(SectionTrends) || !b.has(SectionHighlights) {
		return metrics.GetNewcomers(ctx, b.q, f)
	}
	b.newcomersOnce.Do(func() {
		b.newcomers, b.newcomersErr = metrics.GetNewcomersOf(ctx, b.q, []metrics.Filter{b.trend, b.cur})
	})
	if b.newcomersErr != nil {
		return metrics.Newcomers{}, b.newcomersErr
	}
	if trend {
		return b.newcomers[0], nil
	}
	return b.newcomers[1], nil
}

// maxDependencies bounds the dependencies a report looks at one by one (the totals count all).
const maxDependencies = 10000

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// dashboard returns the address of a dashboard page for the filter.
func (b *builder) dashboard(path string, f metrics.Filter) string {
	v := url.Values{"from": {day(f.From)}, "to": {day(f.To)}, "upstream": {string(f.Upstream)}}
	if f.Team != "" {
		v.Set("team", f.Team)
	}
	return strings.TrimSuffix(b.opt.BaseURL, "/") + path + "?" + v.Encode()
}

// metricsDoc returns the address of a metric's definition in METRICS.md; anchor "" is the file.
func (b *builder) metricsDoc(anchor string) string {
	doc := b.opt.MetricsDoc
	if doc == "" {
		doc = strings.TrimSuffix(b.opt.BaseURL, "/") + MetricsDocPath
	}
	if anchor == "" {
		return doc
	}
	return doc + "#" + anchor
}

// MetricsDocPath is where, under Options.BaseURL, the metric definitions (METRICS.md) are linked
// when Options.MetricsDoc is empty.
const MetricsDocPath = "/docs/METRICS.md"

// The anchors of METRICS.md a report links to, by the heading they point at.
var metricAnchors = map[string]string{
	TargetUpstreamContributions: "contributions",
	TargetUpstreamPRsMerged:     "change-request-acceptance-ratio",
	TargetActiveContributors:    "active-contributors",
	TargetUpstreamProjects:      "repositories-and-organizations-reached",
	TargetAcceptanceRatio:       "change-request-acceptance-ratio",
	TargetFirstResponseHours:    "time-to-first-response-time-to-merge-and-pull-request-size",
	TargetMergeHours:            "time-to-first-response-time-to-merge-and-pull-request-size",
	TargetGiveBackCoverage:      "the-give-back-cycle-dependencies-against-contributions",
	"community":                 "community-inflow",
	"summary":                   "summary",
	"teams":                     "teams",
}

// MetricsVersion identifies the metric statements the numbers come from: the first 16 hex
// digits of the SHA-256 of every statement, in name order, and of the report's own statements.
func MetricsVersion() string {
	h := sha256.New()
	for _, st := range metrics.Statements() {
		fmt.Fprintf(h, "%s\n%s\n", st.Name, st.SQL)
	}
	for _, s := range ownStatements {
		fmt.Fprintf(h, "%s\n", s)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// hashNumbers returns the SHA-256 (hex) of the numbers' JSON, without the time of generation.
func hashNumbers(n *Numbers) (string, []byte, error) {
	c := *n
	c.GeneratedAt = time.Time{}
	body, err := json.Marshal(&c)
	if err != nil {
		return "", nil, fmt.Errorf("reports: encode numbers: %w", err)
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), body, nil
}

func f64(v int64) *float64 {
	x := float64(v)
	return &x
}
