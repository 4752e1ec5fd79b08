package reports

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"giveback.dev/platform/events"
	"giveback.dev/services/report/chart"
	"giveback.dev/services/report/metrics"
)

// headline sets the headline figures, each against the previous period and its target.
func (b *builder) headline() {
	s, ps := b.summary, b.prevSummary
	up := b.cur.Upstream == metrics.UpstreamOnly
	label := func(upstream, other string) string {
		if up {
			return upstream
		}
		return other
	}
	link := b.dashboard("/", b.cur)
	figs := []Figure{
		{Key: TargetUpstreamContributions, Label: label("Upstream contributions", "Contributions"), Unit: UnitCount,
			Value: f64(s.Contributions), Previous: f64(ps.Contributions)},
		{Key: TargetUpstreamPRsMerged, Label: label("Pull requests merged upstream", "Pull requests merged"), Unit: UnitCount,
			Value: f64(s.PRsMerged), Previous: f64(ps.PRsMerged)},
		{Key: TargetActiveContributors, Label: "Active contributors", Unit: UnitCount,
			Value: f64(s.ActiveContributors), Previous: f64(ps.ActiveContributors)},
		{Key: TargetUpstreamProjects, Label: "Upstream projects reached", Unit: UnitCount,
			Value: f64(s.UpstreamRepos), Previous: f64(ps.UpstreamRepos)},
		{Key: TargetAcceptanceRatio, Label: "Acceptance ratio", Unit: UnitRatio,
			Value: s.AcceptanceRatio, Previous: ps.AcceptanceRatio},
		{Key: TargetFirstResponseHours, Label: "Time to first response (median)", Unit: UnitHours, LowerIsBetter: true,
			Value: b.resp.MedianHours, Previous: b.prevResp.MedianHours},
		{Key: TargetMergeHours, Label: "Time to merge (median)", Unit: UnitHours, LowerIsBetter: true,
			Value: b.resp.MedianMerge, Previous: b.prevResp.MedianMerge},
		{Key: TargetGiveBackCoverage, Label: "Give-back coverage of dependencies", Unit: UnitRatio,
			Value: b.cycle.Coverage, Previous: b.prevCycle.Coverage},
	}
	for i := range figs {
		f := &figs[i]
		f.Link, f.Metric = link, b.metricsDoc(metricAnchors[f.Key])
		if f.Value != nil && f.Previous != nil {
			d := *f.Value - *f.Previous
			f.Delta = &d
			if *f.Previous != 0 {
				pct := d / *f.Previous * 100
				f.DeltaPct = &pct
			}
		}
		if t, ok := b.def.Targets[f.Key]; ok {
			f.Target = &t
			if f.Value != nil {
				gap := *f.Value - t
				met := gap >= 0
				if f.LowerIsBetter {
					met = gap <= 0
				}
				f.Gap, f.Met = &gap, &met
			}
		}
	}
	if b.has(SectionHeadline) || b.has(SectionNarrative) || b.has(SectionRecommendations) {
		b.n.Headline = figs
		b.n.PRsDecided = s.PRsClosed
	}
}

// trends sets the monthly charts of the 12 months to the period's end.
func (b *builder) trends(ctx context.Context) error {
	f := b.trend
	contribs, err := metrics.GetContributions(ctx, b.q, f)
	if err != nil {
		return err
	}
	people, err := metrics.GetContributors(ctx, b.q, f)
	if err != nil {
		return err
	}
	acc, err := metrics.GetAcceptance(ctx, b.q, f)
	if err != nil {
		return err
	}
	resp := b.trendResp
	if resp == nil {
		r, err := metrics.GetResponsiveness(ctx, b.q, f)
		if err != nil {
			return err
		}
		resp = &r
	}
	nc, err := b.newcomersOf(ctx, true)
	if err != nil {
		return err
	}
	var newcomers, returning []*float64
	for _, m := range nc.Months {
		newcomers, returning = append(newcomers, f64(m.New)), append(returning, f64(m.Returning))
	}
	var labels []string
	var total, first, toMerge []*float64
	for i, m := range contribs.Months {
		labels = append(labels, m.Month)
		total = append(total, f64(m.Total))
		first = append(first, resp.Months[i].MedianHours)
		toMerge = append(toMerge, resp.Months[i].MedianMerge)
	}
	link := b.dashboard("/", f)
	up := ""
	if f.Upstream == metrics.UpstreamOnly {
		up = "upstream "
	}
	// Active contributors, pull requests decided and the acceptance ratio are the dashboard's
	// charts too: one builder each (package chart).
	active, decided, ratio := chart.Contributors(people), chart.Decided(acc), chart.AcceptanceRatio(acc)
	active.Link, decided.Link, ratio.Link = link, link, link
	b.n.Trends = []Chart{
		{ID: "trend-contributions", Title: "Monthly " + up + "contributions", Kind: ChartBar, Unit: UnitCount, Labels: labels,
			Series: []Series{{Name: "contributions", Values: total}}, Link: link},
		decided,
		active,
		ratio,
		{ID: "trend-newcomers", Title: "New and returning upstream contributors per month", Kind: ChartBar, Unit: UnitCount, Labels: labels,
			Series: []Series{{Name: "new", Values: newcomers}, {Name: "returning", Values: returning}}, Link: b.dashboard("/community", f)},
		{ID: "trend-response", Title: "Median hours to first response and to merge", Kind: ChartLine, Unit: UnitHours, Labels: labels,
			Series: []Series{{Name: "first response", Values: first}, {Name: "merge", Values: toMerge}}, Link: link},
	}
	return nil
}

// cycleSection sets the give-back cycle: coverage, the most used dependencies given nothing,
// and what came back.
func (b *builder) cycleSection(ctx context.Context) error {
	c := &CycleSection{Dependencies: b.cycle.Dependencies, Covered: b.cycle.Covered, Coverage: b.cycle.Coverage,
		Weighted: b.cycle.WeightedCoverage, Neglected: []DependencyRow{}, Link: b.dashboard("/", b.cur)}
	for _, r := range b.cycle.Repos {
		if r.MergedLastYear == 0 && r.Contributions == 0 && len(c.Neglected) < maxNeglected {
			c.Neglected = append(c.Neglected, DependencyRow{Repo: r.Repo, Criticality: r.Criticality,
				Contributions: r.Contributions, MergedLastYear: r.MergedLastYear})
		}
	}
	if b.cur.Team == "" {
		f, pf := b.cur, b.prev
		f.Upstream, pf.Upstream = metrics.UpstreamAll, metrics.UpstreamAll
		both, err := metrics.GetCommunities(ctx, b.q, []metrics.Filter{f, pf}, b.opt.Affiliate)
		if err != nil {
			return err
		}
		com, prev := both[0], both[1]
		c.CameBack = &CameBack{Contributors: com.Contributors, Contributions: com.Contributions, New: com.New,
			PrevContributors: prev.Contributors, Organizations: int64(len(com.Organizations))}
	}
	b.n.Cycle = c
	return nil
}

// maxNeglected is how many neglected dependencies the cycle lists.
const maxNeglected = 5

// riskCriticality is the least criticality (services using a dependency) for which the
// neglected-dependencies recommendation names a dependency.
const riskCriticality = 2

// risks lists the dependencies at risk as the dashboard's risk list does (metrics.GetRisks):
// nobody of ours contributed to them in the period, and one organization makes half their
// activity, or their activity is falling, or nothing was merged or released for long.
func (b *builder) risks(ctx context.Context) error {
	rs, err := metrics.GetRisksAffiliated(ctx, b.q, b.cur, maxRisks, b.opt.Affiliate)
	if err != nil {
		return err
	}
	out := &RiskSection{Rows: []RiskRow{}, Total: rs.Total, Link: b.dashboard("/projects", b.cur)}
	for _, r := range rs.Rows {
		row := RiskRow{Repo: r.Repo, Criticality: int64(r.Criticality), Codes: r.Reasons, Reasons: []string{},
			ElephantFactor: r.ElephantFactor, TrendChange: r.TrendChange, LastMergeOrRelease: r.LastMergeOrRelease}
		for _, code := range r.Reasons {
			row.Reasons = append(row.Reasons, riskReason(code, r))
		}
		out.Rows = append(out.Rows, row)
	}
	b.n.Risks = out
	return nil
}

// riskReason says a reason of the risk list in words.
func riskReason(code string, r metrics.Risk) string {
	switch code {
	case metrics.RiskElephant:
		return "one organization makes half of its activity (Elephant Factor 1)"
	case metrics.RiskFalling:
		if r.TrendChange != nil {
			return fmt.Sprintf("activity down %.0f%% (last 3 months against the 3 before)", -*r.TrendChange*100)
		}
		return "activity falling"
	case metrics.RiskStale:
		if r.LastMergeOrRelease != "" {
			return fmt.Sprintf("no merge or release for %d days (last %s)", metrics.StaleDays, r.LastMergeOrRelease)
		}
		return fmt.Sprintf("no merge or release known for %d days", metrics.StaleDays)
	}
	return code
}

// maxRisks is how many risks a report lists.
const maxRisks = 10

// teams sets each team's work in the period from the statements of the dashboard's /teams page
// (the summary and newcomers grouped by team, read from the rollups): the same numbers as the
// dashboard filtered by each team (TestReportEqualsAPI checks it). Teams with neither
// contributions nor merged pull requests are left out; the most contributing come first.
func (b *builder) teams(ctx context.Context) error {
	all, err := metrics.GetTeams(ctx, b.q)
	if err != nil {
		return err
	}
	names := make([]string, len(all))
	for i, t := range all {
		names[i] = t.Team
	}
	sums, err := metrics.GetSummaryByTeam(ctx, b.q, b.cur, names)
	if err != nil {
		return err
	}
	news, err := metrics.GetNewcomersByTeam(ctx, b.q, b.cur, names)
	if err != nil {
		return err
	}
	rows := []TeamRow{}
	for i, name := range names {
		sm := sums[i]
		if sm.Contributions == 0 && sm.PRsMerged == 0 {
			continue
		}
		f := b.cur
		f.Team = name
		nc := news[i].New
		rows = append(rows, TeamRow{Team: name, UpstreamContributions: sm.Contributions, PRsMerged: sm.PRsMerged,
			Active: sm.ActiveContributors, New: &nc, Link: b.dashboard("/teams/"+url.PathEscape(name), f)})
	}
	slices.SortStableFunc(rows, func(x, y TeamRow) int {
		if c := cmp.Compare(y.UpstreamContributions, x.UpstreamContributions); c != 0 {
			return c
		}
		return strings.Compare(x.Team, y.Team)
	})
	b.n.Teams = rows
	return nil
}

// labor sets the labor investment estimate: contributions of each kind times the configured cost
// of the kind, or active contributor-months times the cost of one.
func (b *builder) labor(ctx context.Context) error {
	lc := b.def.LaborCost
	l := &Labor{Currency: lc.Currency, Lines: []LaborLine{}}
	if len(lc.PerKind) > 0 {
		c, err := metrics.GetContributions(ctx, b.q, b.cur)
		if err != nil {
			return err
		}
		kinds := slices.Clone(c.Kinds)
		for k := range lc.PerKind {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
		var terms []string
		for _, k := range kinds {
			cost, ok := lc.PerKind[k]
			if !ok {
				continue
			}
			var qty int64
			for _, m := range c.Months {
				qty += m.ByKind[k]
			}
			amount := float64(qty) * cost
			l.Lines = append(l.Lines, LaborLine{Item: k, Quantity: qty, Cost: cost, Amount: amount})
			l.Total += amount
			terms = append(terms, fmt.Sprintf("%s × %s", kindLabel(k), money(cost, lc.Currency)))
		}
		l.Formula = "an estimate: the sum over contribution kinds of the contributions made in the period times the configured cost of one (" +
			strings.Join(terms, " + ") + ")"
	} else {
		c, err := metrics.GetContributors(ctx, b.q, b.cur)
		if err != nil {
			return err
		}
		var qty int64
		for _, m := range c.Months {
			qty += m.Contributors
		}
		amount := float64(qty) * lc.PerContributorMonth
		l.Lines = append(l.Lines, LaborLine{Item: "contributor-months", Quantity: qty, Cost: lc.PerContributorMonth, Amount: amount})
		l.Total = amount
		l.Formula = fmt.Sprintf("an estimate: active contributors of each month of the period, summed (contributor-months), times %s per contributor-month",
			money(lc.PerContributorMonth, lc.Currency))
	}
	b.n.Labor = l
	return nil
}

// kindLabel names a contribution kind in words.
func kindLabel(k string) string {
	switch k {
	case events.KindPullRequest:
		return "pull requests"
	case events.KindReview:
		return "reviews"
	case events.KindMerge:
		return "merges"
	case events.KindIssue:
		return "issues"
	case events.KindComment:
		return "comments"
	case events.KindCommit:
		return "commits"
	case events.KindRelease:
		return "releases"
	}
	return strings.ReplaceAll(k, "_", " ")
}
