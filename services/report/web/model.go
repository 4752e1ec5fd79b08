package web

import (
	"encoding/json"
	"html/template"
	"strconv"
	"sync"

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
// says so in its place. A chart drawn lately is not drawn again: every visitor of a filter sees
// the same charts until the data changes, and drawing one costs far more than finding it.
func modelChart(c chart.Chart, width, height int) template.HTML {
	key := drawnKey(c, width, height)
	if svg, ok := drawn.get(key); ok {
		return svg
	}
	svg, err := chart.SVG(&c, width, height)
	if err != nil {
		return template.HTML(`<p class="help">The chart ` + esc(c.Title) + ` cannot be drawn: ` + esc(err.Error()) + `</p>`)
	}
	if key != "" {
		drawn.put(key, template.HTML(svg))
	}
	return template.HTML(svg)
}

// drawnKey is what a drawing is made from: the chart and its size; "" when the chart cannot be
// encoded (it is then drawn every time).
func drawnKey(c chart.Chart, width, height int) string {
	model, err := json.Marshal(c)
	if err != nil {
		return ""
	}
	return strconv.Itoa(width) + "x" + strconv.Itoa(height) + "\x00" + string(model)
}

// drawn keeps the charts modelChart drew lately.
var drawn = &drawings{max: 512}

// drawings is a bounded set of drawn charts by model and size. It forgets them all when full:
// the charts of the filters in use are drawn again on their next visit.
type drawings struct {
	mu  sync.Mutex
	max int
	m   map[string]template.HTML
}

func (d *drawings) get(key string) (template.HTML, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	svg, ok := d.m[key]
	return svg, ok
}

func (d *drawings) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.m)
}

func (d *drawings) put(key string, svg template.HTML) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || len(d.m) >= d.max {
		d.m = make(map[string]template.HTML, d.max)
	}
	d.m[key] = svg
}
