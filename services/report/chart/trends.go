package chart

import (
	"fmt"

	"giveback.dev/services/report/metrics"
)

// The builders below make the monthly charts the dashboard and the reports both show, from the
// metric statements' results, so that a chart has one definition wherever it appears. The
// caller sets Link.

// Contributors is active contributors per month.
func Contributors(p metrics.Contributors) Chart {
	c := Chart{ID: "trend-contributors", Title: "Active contributors per month", Kind: Line, Unit: UnitCount,
		Empty: "No active contributors in this period"}
	var vals []*float64
	for _, m := range p.Months {
		c.Labels = append(c.Labels, m.Month)
		vals = append(vals, f64(m.Contributors))
	}
	c.Series = []Series{{Name: "active contributors", Values: vals}}
	return c
}

// Decided is the pull requests decided per month: merged, and closed without merge, stacked.
func Decided(a metrics.Acceptance) Chart {
	c := Chart{ID: "trend-merged", Title: "Pull requests merged and closed unmerged per month", Kind: Stacked, Unit: UnitCount,
		Empty: "No pull requests decided in this period"}
	var merged, declined []*float64
	for _, m := range a.Months {
		c.Labels = append(c.Labels, m.Month)
		merged, declined = append(merged, f64(m.Merged)), append(declined, f64(m.Declined))
	}
	c.Series = []Series{{Name: "merged", Values: merged}, {Name: "closed unmerged", Values: declined}}
	return c
}

// AcceptanceRatio is merged ÷ decided per month; a month with nothing decided has no point.
func AcceptanceRatio(a metrics.Acceptance) Chart {
	c := Chart{ID: "trend-acceptance", Title: "Acceptance ratio per month", Kind: Line, Unit: UnitRatio,
		Empty: "No pull requests decided in this period"}
	var vals []*float64
	for _, m := range a.Months {
		c.Labels = append(c.Labels, m.Month)
		vals = append(vals, m.Ratio)
	}
	c.Series = []Series{{Name: "acceptance ratio", Values: vals}}
	return c
}

// ByKind is contributions by kind and month, stacked; names are the kinds' display names. A
// kind with no contribution in any month is left out.
func ByKind(cs metrics.Contributions, names map[string]string) Chart {
	c := Chart{ID: "contributions-by-kind", Title: "Contributions by kind and month", Kind: Stacked, Unit: UnitCount,
		Empty: "No contributions in this period"}
	for _, m := range cs.Months {
		c.Labels = append(c.Labels, m.Month)
	}
	for _, k := range cs.Kinds {
		vals := make([]*float64, len(cs.Months))
		seen := false
		for i, m := range cs.Months {
			vals[i] = f64(m.ByKind[k])
			seen = seen || m.ByKind[k] > 0
		}
		if !seen {
			continue
		}
		name := names[k]
		if name == "" {
			name = k
		}
		c.Series = append(c.Series, Series{Name: name, Values: vals})
	}
	return c
}

// Monthly is one count per month, as bars.
func Monthly(id, title, series string, labels []string, values []int64) Chart {
	vals := make([]*float64, len(values))
	for i, v := range values {
		vals[i] = f64(v)
	}
	return Chart{ID: id, Title: title, Kind: Bar, Unit: UnitCount, Labels: labels, Series: []Series{{Name: series, Values: vals}},
		Empty: "No " + series + " in this period"}
}

// LegendItem is one series of a chart as the page's own legend shows it.
type LegendItem struct{ Name, Color string }

// OwnLegend reports whether the chart draws its legend itself: it does for two or three
// series; a page shows the legend of a chart with more beside it.
func (c *Chart) OwnLegend() bool { return len(c.Series) > 1 && len(c.Series) <= legendMax }

// Legend is the chart's series with their colours as CSS hex, for a legend beside the chart
// (a chart draws its own only up to legendMax series).
func Legend(c *Chart) []LegendItem {
	out := make([]LegendItem, len(c.Series))
	for i, s := range c.Series {
		col := Palette[i%len(Palette)]
		out[i] = LegendItem{Name: s.Name, Color: fmt.Sprintf("#%02x%02x%02x", col.R, col.G, col.B)}
	}
	return out
}

func f64(v int64) *float64 {
	f := float64(v)
	return &f
}
