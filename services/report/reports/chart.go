package reports

import (
	"bytes"
	"fmt"
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

// Charts are drawn by gonum.org/v1/plot: a Chart becomes one *plot.Plot, drawn on the vg.Canvas
// of the output, so the same drawing is SVG on the web, PNG in mail and vector paths in the
// PDF (the PDF document is itself drawn on a vg canvas, see render_pdf.go).

// The size of a chart, and the resolution of its PNG: 600 by 220 CSS pixels in the mail, drawn
// at twice that for sharp rendering on high-density screens.
const (
	chartWidth  = 450 * vg.Length(1) // 600 px at 96 dpi
	chartHeight = 165 * vg.Length(1) // 220 px
	chartDPI    = 192
)

// chartFont is the typeface of charts and of the PDF: Liberation Sans, metrically compatible
// with Arial and Helvetica, which the mail and the web page name as fallbacks.
var chartFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// The palette, shared with the HTML formats.
var palette = []color.RGBA{
	{R: 0x25, G: 0x63, B: 0xeb, A: 0xff}, // blue
	{R: 0xea, G: 0x58, B: 0x0c, A: 0xff}, // orange
	{R: 0x16, G: 0xa3, B: 0x4a, A: 0xff}, // green
	{R: 0x93, G: 0x33, B: 0xea, A: 0xff}, // purple
}

var (
	inkColor  = color.RGBA{R: 0x1f, G: 0x29, B: 0x37, A: 0xff}
	gridColor = color.RGBA{R: 0xe5, G: 0xe7, B: 0xeb, A: 0xff}
)

// newPlot builds the plot of a chart.
func newPlot(c *Chart) (*plot.Plot, error) {
	p := plot.New()
	p.BackgroundColor = color.White
	p.Title.Text = c.Title
	p.Title.TextStyle.Font = font.From(chartFont, 11)
	p.Title.TextStyle.Color = inkColor
	p.Title.Padding = 6
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Tick.Label.Font = font.From(chartFont, 8)
		ax.Tick.Label.Color = inkColor
		ax.Color = gridColor
		ax.Tick.Color = gridColor
		ax.Padding = 2
	}
	p.Y.Min = 0
	p.Y.Tick.Marker = unitTicks{unit: c.Unit}
	p.Legend.TextStyle.Font = font.From(chartFont, 8)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.Padding = 2
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = gridColor
	grid.Horizontal.Width = 0.5
	p.Add(grid)

	labels := make([]string, len(c.Labels))
	for i, l := range c.Labels {
		labels[i] = monthLabel(l)
	}
	ymax := 0.0
	for si, s := range c.Series {
		col := palette[si%len(palette)]
		switch c.Kind {
		case ChartBar:
			vals := make(plotter.Values, len(s.Values))
			for i, v := range s.Values {
				if v != nil {
					vals[i] = *v
					ymax = math.Max(ymax, *v)
				}
			}
			w := vg.Length(float64(chartWidth) / float64(max(len(vals), 1)) * 0.6 / float64(len(c.Series)))
			bars, err := plotter.NewBarChart(vals, w)
			if err != nil {
				return nil, fmt.Errorf("chart %s: %w", c.ID, err)
			}
			bars.Color = col
			bars.LineStyle.Width = 0
			bars.Offset = w * vg.Length(float64(si)-float64(len(c.Series)-1)/2)
			p.Add(bars)
			if len(c.Series) > 1 {
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
			if len(c.Series) > 1 && first != nil {
				p.Legend.Add(s.Name, first)
			}
		}
	}
	p.NominalX(labels...)
	// Every chart spans all its months, whatever points are missing, so months line up.
	p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	p.X.Tick.Label.Font = font.From(chartFont, 8)
	p.X.Tick.Label.Color = inkColor
	p.X.Color = gridColor
	if ymax == 0 {
		ymax = 1
	}
	if c.Unit == UnitRatio {
		ymax = math.Max(ymax, 1)
	}
	p.Y.Max = ymax * 1.1
	return p, nil
}

// monthLabel turns 2026-10 into "Oct 26".
func monthLabel(l string) string {
	t, err := time.Parse("2006-01", l)
	if err != nil {
		return l
	}
	return t.Format("Jan 06")
}

// unitTicks are the value axis' ticks, labelled in the chart's unit, at round steps.
type unitTicks struct{ unit string }

func (u unitTicks) Ticks(min, max float64) []plot.Tick {
	step := niceStep((max - min) / 4)
	if u.unit == UnitCount && step < 1 {
		step = 1
	}
	var out []plot.Tick
	for v := 0.0; v <= max+step/1e6; v += step {
		out = append(out, plot.Tick{Value: v, Label: tickLabel(v, u.unit)})
	}
	return out
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag {
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
		return count(int64(v))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// ChartSVG draws a chart as SVG, for the web.
func ChartSVG(c *Chart) ([]byte, error) {
	p, err := newPlot(c)
	if err != nil {
		return nil, err
	}
	cv := vgsvg.New(chartWidth, chartHeight)
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart %s: svg: %w", c.ID, err)
	}
	// The SVG names the typeface it was measured with; a browser without it falls back to the
	// metrically compatible Arial or Helvetica.
	out := strings.ReplaceAll(buf.String(), "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	out = strings.TrimPrefix(out, "<?xml version=\"1.0\"?>\n")
	// The same size as the PNG in the mail, narrowing with the page.
	out = strings.Replace(out, `<svg width="450pt" height="165pt"`, `<svg width="600" height="220" style="max-width:100%;height:auto"`, 1)
	return []byte(out), nil
}

// ChartPNG draws a chart as PNG, for mail.
func ChartPNG(c *Chart) ([]byte, error) {
	p, err := newPlot(c)
	if err != nil {
		return nil, err
	}
	cv := vgimg.NewWith(vgimg.UseWH(chartWidth, chartHeight), vgimg.UseDPI(chartDPI), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: cv}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart %s: png: %w", c.ID, err)
	}
	return buf.Bytes(), nil
}

// drawChart draws a chart into a rectangle of any vg canvas (the PDF's pages).
func drawChart(dc draw.Canvas, c *Chart) error {
	p, err := newPlot(c)
	if err != nil {
		return err
	}
	p.Draw(dc)
	return nil
}
