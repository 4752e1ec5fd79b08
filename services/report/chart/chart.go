// Package chart is the one chart model of Giveback: a monthly series chart, drawn by
// gonum.org/v1/plot on the vg canvas of each output, so that the same chart is SVG on the
// dashboard and in the web copy of a report, PNG in the mail and vector paths in the PDF, and
// looks the same in all of them. The builders (trends.go) make the charts the dashboard and
// the reports share from the metric statements' results.
package chart

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is one chart of monthly values.
type Chart struct {
	ID     string   `json:"id"` // also the Content-ID of its PNG in the mail
	Title  string   `json:"title"`
	Kind   string   `json:"kind"` // bar, stacked or line
	Unit   string   `json:"unit"`
	Labels []string `json:"labels"` // one per point: months as YYYY-MM
	Series []Series `json:"series"`
	Link   string   `json:"link"`
	// Empty is what the chart says in place of its marks when no value is above zero, for
	// example "No pull requests decided in this period"; "" says "No data in this period".
	Empty string `json:"empty,omitempty"`
}

// HasData reports whether any value of the chart is above zero.
func (c *Chart) HasData() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != nil && *v > 0 {
				return true
			}
		}
	}
	return false
}

// The kinds of Chart: bars side by side, bars stacked, or lines.
const (
	Bar     = "bar"
	Stacked = "stacked"
	Line    = "line"
)

// The units of a chart's values (and of the reports' figures).
const (
	UnitCount = "count"
	UnitRatio = "ratio" // 0 to 1, shown as a percentage
	UnitHours = "hours"
)

// Series is one named series of a chart; a null value is a point that cannot be computed.
type Series struct {
	Name   string     `json:"name"`
	Values []*float64 `json:"values"`
}

// The size of a chart in the mail and the PDF, 600 by 220 CSS pixels; its PNG is drawn at twice
// that for sharp rendering on high-density screens.
const (
	Width  = 600
	Height = 220
	pngDPI = 192
)

// legendMax is the most series a chart names in a legend of its own; a page shows the legend
// of a chart with more beside it (Legend).
const legendMax = 3

// px is one CSS pixel (1/96 inch) in vg's points (1/72 inch).
const px = vg.Length(0.75)

// Font is the typeface of charts and of the reports' PDF: Liberation Sans, metrically compatible
// with Arial and Helvetica, which the pages name as fallbacks.
var Font = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Palette is the series colours, in order, shared with the HTML formats.
var Palette = []color.RGBA{
	{R: 0x25, G: 0x63, B: 0xeb, A: 0xff}, // blue
	{R: 0xea, G: 0x58, B: 0x0c, A: 0xff}, // orange
	{R: 0x16, G: 0xa3, B: 0x4a, A: 0xff}, // green
	{R: 0x93, G: 0x33, B: 0xea, A: 0xff}, // purple
	{R: 0xdb, G: 0x27, B: 0x77, A: 0xff}, // pink
	{R: 0x0d, G: 0x94, B: 0x88, A: 0xff}, // teal
	{R: 0xca, G: 0x8a, B: 0x04, A: 0xff}, // amber
	{R: 0x64, G: 0x74, B: 0x8b, A: 0xff}, // slate
}

var (
	inkColor  = color.RGBA{R: 0x1f, G: 0x29, B: 0x37, A: 0xff}
	gridColor = color.RGBA{R: 0xe5, G: 0xe7, B: 0xeb, A: 0xff}
)

// newPlot builds the plot of a chart.
func newPlot(c *Chart, width vg.Length) (*plot.Plot, error) {
	p := plot.New()
	p.BackgroundColor = color.White
	p.Title.Text = c.Title
	p.Title.TextStyle.Font = font.From(Font, 11)
	p.Title.TextStyle.Color = inkColor
	p.Title.Padding = 6
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Tick.Label.Font = font.From(Font, 8)
		ax.Tick.Label.Color = inkColor
		ax.Color = gridColor
		ax.Tick.Color = gridColor
		ax.Padding = 2
	}
	if !c.HasData() {
		return emptyPlot(p, c)
	}
	p.Y.Min = 0
	p.Y.Tick.Marker = unitTicks{unit: c.Unit}
	p.Legend.TextStyle.Font = font.From(Font, 8)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.Padding = 2
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = gridColor
	grid.Horizontal.Width = 0.5
	p.Add(grid)

	labels := make([]string, len(c.Labels))
	for i, l := range c.Labels {
		labels[i] = MonthLabel(l)
	}
	ymax := 0.0
	var below *plotter.BarChart // the stack so far
	for si, s := range c.Series {
		col := Palette[si%len(Palette)]
		switch c.Kind {
		case Bar, Stacked:
			vals := make(plotter.Values, len(s.Values))
			for i, v := range s.Values {
				if v != nil {
					vals[i] = *v
					ymax = math.Max(ymax, *v)
				}
			}
			w := vg.Length(float64(width) / float64(max(len(vals), 1)) * 0.6 / float64(len(c.Series)))
			if c.Kind == Stacked {
				w = vg.Length(float64(width) / float64(max(len(vals), 1)) * 0.6)
			}
			bars, err := plotter.NewBarChart(vals, w)
			if err != nil {
				return nil, fmt.Errorf("chart %s: %w", c.ID, err)
			}
			bars.Color = col
			bars.LineStyle.Width = 0
			if c.Kind == Stacked {
				if below != nil {
					bars.StackOn(below)
				}
				below = bars
			} else {
				bars.Offset = w * vg.Length(float64(si)-float64(len(c.Series)-1)/2)
			}
			p.Add(bars)
			if c.OwnLegend() {
				p.Legend.Add(s.Name, bars)
			}
		default:
			var seg plotter.XYs
			var first *plotter.Line
			flush := func() error {
				if len(seg) == 0 {
					return nil
				}
				l, pts, err := plotter.NewLinePoints(seg)
				if err != nil {
					return fmt.Errorf("chart %s: %w", c.ID, err)
				}
				l.Color, l.Width = col, 1.5
				pts.Color, pts.Radius = col, 1.8
				pts.Shape = draw.CircleGlyph{}
				p.Add(l, pts)
				if first == nil {
					first = l
				}
				seg = nil
				return nil
			}
			for i, v := range s.Values {
				if v == nil {
					if err := flush(); err != nil {
						return nil, err
					}
					continue
				}
				seg = append(seg, plotter.XY{X: float64(i), Y: *v})
				ymax = math.Max(ymax, *v)
			}
			if err := flush(); err != nil {
				return nil, err
			}
			if c.OwnLegend() && first != nil {
				p.Legend.Add(s.Name, first)
			}
		}
	}
	p.NominalX(labels...)
	// Every chart spans all its months, whatever points are missing, so months line up.
	p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	p.X.Tick.Label.Font = font.From(Font, 8)
	p.X.Tick.Label.Color = inkColor
	p.X.Color = gridColor
	if c.Kind == Stacked {
		ymax = stackMax(c)
	}
	if ymax == 0 {
		ymax = 1
	}
	if c.Unit == UnitRatio {
		ymax = math.Max(ymax, 1)
	}
	p.Y.Max = ymax * 1.1
	return p, nil
}

// MonthLabel turns 2026-10 into "Oct 26".
func MonthLabel(l string) string {
	t, err := time.Parse("2006-01", l)
	if err != nil {
		return l
	}
	return t.Format("Jan 06")
}

// unitTicks are the value axis' ticks, labelled in the chart's unit, at round steps.
type unitTicks struct{ unit string }

func (u unitTicks) Ticks(min, max float64) []plot.Tick {
	step := Nice((max - min) / 4)
	if u.unit == UnitCount && step < 1 {
		step = 1
	}
	var out []plot.Tick
	for v := 0.0; v <= max+step/1e6; v += step {
		out = append(out, plot.Tick{Value: v, Label: tickLabel(v, u.unit)})
	}
	return out
}

// Nice rounds v up to 1, 2, 2.5 or 5 times a power of ten (1 for v ≤ 0): a round tick step, or
// the round top of an axis.
func Nice(v float64) float64 {
	if v <= 0 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

func tickLabel(v float64, unit string) string {
	switch unit {
	case UnitRatio:
		return strconv.FormatFloat(v*100, 'f', -1, 64) + "%"
	case UnitHours:
		return strconv.FormatFloat(v, 'f', -1, 64) + " h"
	}
	if v >= 1000 {
		return Thousands(int64(v))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// emptyPlot is a chart without marks: its title and, in the middle, what it would show.
func emptyPlot(p *plot.Plot, c *Chart) (*plot.Plot, error) {
	msg := c.Empty
	if msg == "" {
		msg = "No data in this period"
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: 0.5, Y: 0.5}}, Labels: []string{msg}})
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", c.ID, err)
	}
	l.TextStyle[0].Font = font.From(Font, 10)
	l.TextStyle[0].Color = inkColor
	l.TextStyle[0].XAlign, l.TextStyle[0].YAlign = draw.XCenter, draw.YCenter
	p.Add(l)
	p.HideAxes()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	return p, nil
}

// stackMax is the tallest stack of a stacked chart.
func stackMax(c *Chart) float64 {
	top := 0.0
	for i := range c.Labels {
		sum := 0.0
		for _, s := range c.Series {
			if i < len(s.Values) && s.Values[i] != nil {
				sum += *s.Values[i]
			}
		}
		top = math.Max(top, sum)
	}
	return top
}

// Thousands writes a count with thousands separators: 12,345.
func Thousands(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// SVG draws a chart as inline SVG, width by height CSS pixels, narrowing with its container. It
// is labelled for assistive technology with its title.
func SVG(c *Chart, width, height int) ([]byte, error) {
	w, h := vg.Length(width)*px, vg.Length(height)*px
	p, err := newPlot(c, w)
	if err != nil {
		return nil, err
	}
	cv := vgsvg.New(w, h)
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart %s: svg: %w", c.ID, err)
	}
	// The SVG names the typeface it was measured with; a browser without it falls back to the
	// metrically compatible Arial or Helvetica.
	out := strings.ReplaceAll(buf.String(), "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	out = strings.TrimPrefix(out, "<?xml version=\"1.0\"?>\n")
	head := fmt.Sprintf(`<svg width="%gpt" height="%gpt"`, float64(w), float64(h))
	at := strings.Index(out, head)
	if at < 0 {
		return nil, fmt.Errorf("chart %s: svg: no %s in %.80q", c.ID, head, out)
	}
	out = fmt.Sprintf(`<svg width="%d" height="%d" style="max-width:100%%;height:auto" role="img" aria-label="%s" data-chart="%s"`,
		width, height, html.EscapeString(c.Title), html.EscapeString(c.ID)) + out[at+len(head):]
	return []byte(out), nil
}

// PNG draws a chart as PNG, for mail: Width by Height CSS pixels at twice the density.
func PNG(c *Chart) ([]byte, error) {
	w, h := vg.Length(Width)*px, vg.Length(Height)*px
	p, err := newPlot(c, w)
	if err != nil {
		return nil, err
	}
	cv := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: cv}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart %s: png: %w", c.ID, err)
	}
	return buf.Bytes(), nil
}

// Draw draws a chart into a rectangle of any vg canvas (the PDF's pages).
func Draw(dc draw.Canvas, c *Chart) error {
	p, err := newPlot(c, dc.Max.X-dc.Min.X)
	if err != nil {
		return err
	}
	p.Draw(dc)
	return nil
}
