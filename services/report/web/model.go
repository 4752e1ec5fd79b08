package web

import (
	"html/template"

	"giveback.dev/services/report/chart"
)

// The pages' monthly charts are the product's one chart model (package chart), the drawing the
// reports put in their mail, PDF and web copy, so a chart looks the same everywhere. Scatter
// and Sparkline (chart.go) draw what only the dashboard shows.

// The sizes of the model's charts on the pages, in CSS pixels; each narrows with its panel.
const (
	wideW, wideH     = 1080, 300 // a full-width panel
	halfW, halfH     = 520, 240  // a panel of the two-column grid
	narrowW, narrowH = 400, 240  // a full-width panel on a phone
)

// modelChart draws c at width by height CSS pixels as inline SVG; a chart that cannot be drawn
// says so in its place.
func modelChart(c chart.Chart, width, height int) template.HTML {
	svg, err := chart.SVG(&c, width, height)
	if err != nil {
		return template.HTML(`<p class="help">The chart ` + esc(c.Title) + ` cannot be drawn: ` + esc(err.Error()) + `</p>`)
	}
	return template.HTML(svg)
}
