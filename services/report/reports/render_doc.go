package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The document model: the numbers laid out once as sections of paragraphs, tables, lists and
// charts, which every format (HTML mail, web page, plain text, Markdown, PDF) renders. A cell
// that shows a number carries the number itself, and the CSV appendix lists every such cell, so
// the appendix holds every number the report shows.

type doc struct {
	Title    string
	Subtitle string   // the period and the filter
	Notices  []string // a late report, an empty period
	Sections []docSection
	Footer   []span // period, time zone, freshness, definitions, links
}

type docSection struct {
	ID     string
	Title  string
	Blocks []block
}

type blockKind int

const (
	blockPara blockKind = iota
	blockNote           // a remark in smaller type
	blockTable
	blockList
	blockChart
)

type block struct {
	Kind  blockKind
	Text  []span // para, note
	Items [][]span
	Table *table
	Chart *Chart
	// ChartTable is the chart's numbers as a table, listed in the appendix.
	ChartTable *table
	// TextOnly marks a block the text formats show and the graphic ones (HTML, PDF) do not:
	// the charts' numbers side by side, in place of the charts.
	TextOnly bool
}

// span is a piece of text, optionally a link.
type span struct {
	Text string
	Link string
}

type table struct {
	Head []string
	Num  []bool // right-aligned numeric columns
	Rows [][]cell
}

// cell is one table cell; Value is set when it shows a number.
type cell struct {
	Text  string
	Link  string
	Value *appendixValue
}

// appendixValue is a number as the CSV appendix lists it.
type appendixValue struct {
	Section string
	Item    string
	Measure string
	Value   string // machine-readable: a plain decimal, empty when not computable
	Unit    string
}

func txt(s string) []span { return []span{{Text: s}} }

// buildDoc lays the numbers out.
func buildDoc(n *Numbers) *doc {
	d := &doc{Title: n.Title}
	sub := periodText(n.Period) + " (" + n.Period.Label + ", " + n.Period.TZ + ")"
	if n.Filter.Team != "" {
		sub += " · team " + n.Filter.Team
	}
	switch n.Filter.Upstream {
	case "1":
		sub += " · upstream contributions"
	case "0":
		sub += " · the company's own and personal repositories"
	default:
		sub += " · all contributions"
	}
	if n.Filter.DependenciesOnly {
		sub += " · projects: dependencies only"
	}
	d.Subtitle = sub
	if n.Late {
		late := "This report is late: it was generated at " + when(n.GeneratedAt, n.Period.TZ)
		if n.Due != nil {
			late += ", after its due time " + when(*n.Due, n.Period.TZ)
		}
		d.Notices = append(d.Notices, late+".")
	}
	if n.Empty {
		d.Notices = append(d.Notices, "No data for this period: no contribution matching the filter was recorded from "+
			periodText(n.Period)+". Sections without data are left out rather than shown empty.")
	}
	for _, s := range n.Sections {
		if sec, ok := section(n, s); ok {
			d.Sections = append(d.Sections, sec)
		}
	}
	fr := n.Freshness
	d.Footer = []span{
		{Text: "Period " + n.Period.From + " to " + n.Period.To + " inclusive, compared with " + n.Previous.From + " to " + n.Previous.To +
			"; days are counted in UTC as on the dashboard, the report's time zone is " + n.Period.TZ + ". "},
		{Text: "Data as of: newest contribution stored " + when(fr.NewestContribution, n.Period.TZ) +
			", last GH Archive hour " + when(fr.LastArchiveHour, n.Period.TZ) + ", last REST sync " + when(fr.LastRESTSync, n.Period.TZ) + ". "},
		{Text: "Definitions of every metric", Link: n.Links.Metrics},
		{Text: ". "},
		{Text: "Open the dashboard for this period", Link: n.Links.Dashboard},
		{Text: ". "},
		{Text: "Archived copy of this report", Link: n.Links.Archive},
		{Text: ". Generated " + when(n.GeneratedAt, n.Period.TZ) + "."},
	}
	return d
}

// section lays out one section; false when it has nothing to show.
func section(n *Numbers, name string) (docSection, bool) {
	switch name {
	case SectionNarrative:
		if n.Narrative == "" {
			return docSection{}, false
		}
		return docSection{ID: name, Title: "Summary", Blocks: []block{{Kind: blockPara, Text: txt(n.Narrative)}}}, true
	case SectionHeadline:
		if len(n.Headline) == 0 || n.Empty {
			return docSection{}, false
		}
		return headlineSection(n), true
	case SectionTrends:
		if len(n.Trends) == 0 {
			return docSection{}, false
		}
		return trendsSection(n), true
	case SectionHighlights:
		if n.Highlights == nil {
			return docSection{}, false
		}
		return highlightsSection(n), true
	case SectionCycle:
		if n.Cycle == nil {
			return docSection{}, false
		}
		return cycleDocSection(n), true
	case SectionRisks:
		if n.Risks == nil {
			return docSection{}, false
		}
		return risksSection(n), true
	case SectionTeams:
		if len(n.Teams) == 0 {
			return docSection{}, false
		}
		return teamsSection(n), true
	case SectionLabor:
		if n.Labor == nil {
			return docSection{}, false
		}
		return laborSection(n), true
	case SectionRecommendations:
		if len(n.Recommendations) == 0 {
			return docSection{}, false
		}
		return recommendationsSection(n), true
	}
	return docSection{}, false
}

// plain formats a number for the appendix's value column: a decimal rounded to 9 places, which
// drops the noise of binary floating point (0.4 - 0.35 is 0.05, not 0.050000000000000044).
func plain(v *float64) string {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return ""
	}
	return strconv.FormatFloat(math.Round(*v*1e9)/1e9, 'f', -1, 64)
}

func numCell(sec, item, measure string, v *float64, unit, shown, link string) cell {
	return cell{Text: shown, Link: link, Value: &appendixValue{Section: sec, Item: item, Measure: measure, Value: plain(v), Unit: unit}}
}

func countCell(sec, item, measure string, v int64, link string) cell {
	return numCell(sec, item, measure, f64(v), UnitCount, count(v), link)
}

func headlineSection(n *Numbers) docSection {
	t := &table{Head: []string{"Measure", "This period", "Previous", "Change", "Target", "Status"}, Num: []bool{false, true, true, true, true, false}}
	for _, f := range n.Headline {
		row := []cell{
			{Text: f.Label, Link: f.Metric},
			numCell("headline", f.Key, "value", f.Value, f.Unit, value(f.Value, f.Unit), f.Link),
			numCell("headline", f.Key, "previous", f.Previous, f.Unit, value(f.Previous, f.Unit), ""),
			numCell("headline", f.Key, "change", f.Delta, f.Unit, change(f), ""),
		}
		if f.Target != nil {
			row = append(row, numCell("headline", f.Key, "target", f.Target, f.Unit, value(f.Target, f.Unit), ""),
				numCell("headline", f.Key, "gap to target", f.Gap, f.Unit, status(f), ""))
		} else {
			row = append(row, cell{Text: "–"}, cell{Text: ""})
		}
		t.Rows = append(t.Rows, row)
	}
	blocks := []block{{Kind: blockTable, Table: t}}
	blocks = append(blocks, block{Kind: blockNote, Text: []span{
		{Text: fmt.Sprintf("Acceptance counts the %s pull requests merged or closed in the period. Time to first response is how long upstream projects took to answer our pull requests. ",
			count(n.PRsDecided))},
		{Text: "How each number is computed", Link: n.Links.Metrics},
		{Text: "."},
	}})
	// The denominator is a number shown: list it.
	t.Rows = append(t.Rows, []cell{{Text: "Pull requests decided (merged or closed)"},
		countCell("headline", "prs_decided", "value", n.PRsDecided, n.Links.Dashboard), {Text: ""}, {Text: ""}, {Text: "–"}, {Text: ""}})
	return docSection{ID: SectionHeadline, Title: "Headline", Blocks: blocks}
}

func trendsSection(n *Numbers) docSection {
	var blocks []block
	// The text formats show every chart's numbers in one table, a column per series.
	all := &table{Head: []string{"Month"}, Num: []bool{false}}
	for i := range n.Trends {
		c := &n.Trends[i]
		t := &table{Head: []string{"Month"}, Num: []bool{false}}
		for _, s := range c.Series {
			t.Head = append(t.Head, s.Name)
			t.Num = append(t.Num, true)
			all.Head = append(all.Head, s.Name)
			all.Num = append(all.Num, true)
		}
		for j, l := range c.Labels {
			row := []cell{{Text: l}}
			if i == 0 {
				all.Rows = append(all.Rows, []cell{{Text: l}})
			}
			for _, s := range c.Series {
				row = append(row, numCell("trends", c.ID+" "+l, s.Name, s.Values[j], c.Unit, value(s.Values[j], c.Unit), ""))
				if j < len(all.Rows) {
					all.Rows[j] = append(all.Rows[j], cell{Text: value(s.Values[j], c.Unit)})
				}
			}
			t.Rows = append(t.Rows, row)
		}
		blocks = append(blocks, block{Kind: blockChart, Chart: c, ChartTable: t})
	}
	blocks = append(blocks, block{Kind: blockTable, Table: all, TextOnly: true},
		block{Kind: blockNote, TextOnly: true, Text: []span{{Text: "The charts of these numbers are in the HTML and PDF versions. "},
			{Text: "Open the dashboard for these months", Link: n.Trends[0].Link}, {Text: "."}}})
	return docSection{ID: SectionTrends, Title: "Trends: the last 12 months", Blocks: blocks}
}

func highlightsSection(n *Numbers) docSection {
	h := n.Highlights
	var blocks []block
	if len(h.MergedPRs) > 0 {
		t := &table{Head: []string{"Pull request", "Project", "Lines", "Why"}, Num: []bool{false, false, true, false}}
		for _, p := range h.MergedPRs {
			title := p.Title
			if title == "" {
				title = "#" + strconv.FormatInt(p.Number, 10)
			}
			var whys []string
			for _, w := range p.Why {
				if w == whyCritical {
					w += fmt.Sprintf(" (used by %s)", plural(p.Criticality, "service", "services"))
				}
				whys = append(whys, w)
			}
			why := strings.Join(whys, ", ")
			if p.Author != "" {
				why += ", by " + p.Author
			}
			item := fmt.Sprintf("%s#%d", p.Repo, p.Number)
			t.Rows = append(t.Rows, []cell{{Text: title, Link: p.URL}, {Text: item},
				countCell("highlights", item, "lines", p.Lines, ""), {Text: why}})
		}
		blocks = append(blocks, block{Kind: blockTable, Table: t})
	} else {
		blocks = append(blocks, block{Kind: blockPara, Text: txt("No pull request was merged in the period.")})
	}
	t := &table{Head: []string{"Also in the period", "Count", "Which"}, Num: []bool{false, true, false}}
	which := strings.Join(h.NewProjects, ", ")
	if int64(len(h.NewProjects)) < h.NewProjectsCount {
		which += ", …"
	}
	t.Rows = append(t.Rows, []cell{{Text: "Upstream projects reached for the first time"},
		countCell("highlights", "new projects", "count", h.NewProjectsCount, n.Links.Dashboard), {Text: which}})
	names := "names not shown in this report"
	if h.FirstTimerNames != nil {
		names = strings.Join(h.FirstTimerNames, ", ")
		if int64(len(h.FirstTimerNames)) < h.FirstTimers {
			names += ", …"
		}
	}
	if h.FirstTimers == 0 {
		names = ""
	}
	t.Rows = append(t.Rows, []cell{{Text: "People who contributed upstream for the first time"},
		countCell("highlights", "first-time contributors", "count", h.FirstTimers, n.Links.Dashboard), {Text: names}})
	blocks = append(blocks, block{Kind: blockTable, Table: t})
	return docSection{ID: SectionHighlights, Title: "Highlights", Blocks: blocks}
}

func cycleDocSection(n *Numbers) docSection {
	c := n.Cycle
	var blocks []block
	if c.Dependencies == 0 {
		blocks = append(blocks, block{Kind: blockPara, Text: txt("No dependency list is imported, so give-back coverage cannot be computed (see giveback deps import).")})
	} else {
		t := &table{Head: []string{"Give-back cycle", "Value"}, Num: []bool{false, true}}
		t.Rows = [][]cell{
			{{Text: "Dependencies"}, countCell("cycle", "dependencies", "count", c.Dependencies, c.Link)},
			{{Text: "With a pull request of ours merged in the last 12 months"}, countCell("cycle", "covered dependencies", "count", c.Covered, c.Link)},
			{{Text: "Give-back coverage", Link: metricLink(n, TargetGiveBackCoverage)}, numCell("cycle", "coverage", "ratio", c.Coverage, UnitRatio, value(c.Coverage, UnitRatio), c.Link)},
			{{Text: "Coverage weighted by criticality"}, numCell("cycle", "weighted coverage", "ratio", c.Weighted, UnitRatio, value(c.Weighted, UnitRatio), c.Link)},
		}
		blocks = append(blocks, block{Kind: blockTable, Table: t})
		if len(c.Neglected) > 0 {
			nt := &table{Head: []string{"Used most, given least", "Used by services", "Contributions in the period", "Merged in 12 months"}, Num: []bool{false, true, true, true}}
			for _, d := range c.Neglected {
				nt.Rows = append(nt.Rows, []cell{{Text: d.Repo}, countCell("cycle", d.Repo, "criticality", d.Criticality, ""),
					countCell("cycle", d.Repo, "contributions", d.Contributions, ""), countCell("cycle", d.Repo, "merged in 12 months", d.MergedLastYear, "")})
			}
			blocks = append(blocks, block{Kind: blockTable, Table: nt})
		}
	}
	if cb := c.CameBack; cb != nil {
		t := &table{Head: []string{"What came back", "This period", "Previous"}, Num: []bool{false, true, true}}
		t.Rows = [][]cell{
			{{Text: "Outside contributors to the company's projects", Link: metricLink(n, "community")},
				countCell("cycle", "outside contributors", "value", cb.Contributors, c.Link), countCell("cycle", "outside contributors", "previous", cb.PrevContributors, "")},
			{{Text: "Their contributions"}, countCell("cycle", "outside contributions", "value", cb.Contributions, c.Link), {Text: ""}},
			{{Text: "Of whom new"}, countCell("cycle", "new outside contributors", "value", cb.New, c.Link), {Text: ""}},
			{{Text: "Organizations behind them"}, countCell("cycle", "outside organizations", "value", cb.Organizations, c.Link), {Text: ""}},
		}
		blocks = append(blocks, block{Kind: blockTable, Table: t})
	}
	return docSection{ID: SectionCycle, Title: "The give-back cycle", Blocks: blocks}
}

func metricLink(n *Numbers, key string) string {
	base := n.Links.Metrics
	if a, ok := metricAnchors[key]; ok {
		return base + "#" + a
	}
	return base
}

func risksSection(n *Numbers) docSection {
	r := n.Risks
	note := block{Kind: blockNote, Text: []span{{Text: "Dependencies nobody of ours contributed to in the period, where one organization makes half the activity, activity is falling, or nothing was merged or released for long. "},
		{Text: "How risks are found", Link: n.Links.Metrics}, {Text: "."}}}
	if len(r.Rows) == 0 {
		return docSection{ID: SectionRisks, Title: "Risks", Blocks: []block{{Kind: blockPara, Text: txt("No dependency is at risk by these rules.")}, note}}
	}
	t := &table{Head: []string{"Dependency", "Used by services", "Why"}, Num: []bool{false, true, false}}
	for _, row := range r.Rows {
		t.Rows = append(t.Rows, []cell{{Text: row.Repo}, countCell("risks", row.Repo, "criticality", row.Criticality, r.Link), {Text: strings.Join(row.Reasons, "; ")}})
	}
	blocks := []block{{Kind: blockTable, Table: t}}
	if r.Total > int64(len(r.Rows)) {
		blocks = append(blocks, block{Kind: blockNote, Text: []span{{Text: "The " + count(int64(len(r.Rows))) + " most critical of "},
			{Text: count(r.Total), Link: r.Link}, {Text: " dependencies at risk."}}})
		t.Rows = append(t.Rows, []cell{{Text: "Dependencies at risk in all"}, countCell("risks", "all", "count", r.Total, r.Link), {Text: ""}})
	}
	return docSection{ID: SectionRisks, Title: "Risks", Blocks: append(blocks, note)}
}

func teamsSection(n *Numbers) docSection {
	t := &table{Head: []string{"Team", "Contributions", "Pull requests merged", "Active contributors", "New upstream"}, Num: []bool{false, true, true, true, true}}
	for _, r := range n.Teams {
		newc := cell{Text: "n/a"}
		if r.New != nil {
			newc = countCell("teams", r.Team, "new upstream contributors", *r.New, r.Link)
		}
		t.Rows = append(t.Rows, []cell{{Text: r.Team, Link: r.Link}, countCell("teams", r.Team, "contributions", r.UpstreamContributions, r.Link),
			countCell("teams", r.Team, "pull requests merged", r.PRsMerged, r.Link), countCell("teams", r.Team, "active contributors", r.Active, r.Link), newc})
	}
	return docSection{ID: SectionTeams, Title: "Teams", Blocks: []block{{Kind: blockTable, Table: t}}}
}

func laborSection(n *Numbers) docSection {
	l := n.Labor
	t := &table{Head: []string{"Item", "Quantity", "Cost each", "Amount"}, Num: []bool{false, true, true, true}}
	for _, line := range l.Lines {
		t.Rows = append(t.Rows, []cell{{Text: kindLabel(line.Item)}, countCell("labor", line.Item, "quantity", line.Quantity, ""),
			numCell("labor", line.Item, "cost each", &line.Cost, l.Currency, money(line.Cost, l.Currency), ""),
			numCell("labor", line.Item, "amount", &line.Amount, l.Currency, money(line.Amount, l.Currency), "")})
	}
	t.Rows = append(t.Rows, []cell{{Text: "Estimated labor investment"}, {Text: ""}, {Text: ""},
		numCell("labor", "total", "amount", &l.Total, l.Currency, money(l.Total, l.Currency), "")})
	return docSection{ID: SectionLabor, Title: "Labor investment (estimate)", Blocks: []block{
		{Kind: blockTable, Table: t},
		{Kind: blockNote, Text: txt("This is " + l.Formula + ", following CHAOSS Labor Investment; it is not an accounting figure.")},
	}}
}

func recommendationsSection(n *Numbers) docSection {
	var items [][]span
	for _, r := range n.Recommendations {
		items = append(items, []span{{Text: r.Text}, {Text: " Rule " + r.Rule + ": " + strings.Join(r.Numbers, "; ") + "."}})
	}
	return docSection{ID: SectionRecommendations, Title: "Recommendations", Blocks: []block{{Kind: blockList, Items: items}}}
}

// cells returns every cell of the document that shows a number, in order.
func (d *doc) cells() []cell {
	var out []cell
	add := func(t *table) {
		if t == nil {
			return
		}
		for _, r := range t.Rows {
			for _, c := range r {
				if c.Value != nil {
					out = append(out, c)
				}
			}
		}
	}
	for _, s := range d.Sections {
		for _, b := range s.Blocks {
			add(b.Table)
			add(b.ChartTable)
		}
	}
	return out
}
