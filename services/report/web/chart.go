package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"giveback.dev/services/report/chart"
)

// Charts are drawn on the server as inline SVG: no script, no external asset, the same picture in
// every browser and in a saved page. Each mark carries a <title> (the browser's tooltip) and
// data-* attributes naming what it shows.

const (
	padL    = 44.0
	padT    = 14.0
	maxTick = 5
)

type svg struct {
	b            strings.Builder
	width, padR  float64
	plotW, right float64 // plot width; x of the plot's right edge
}

func newSVG(width, padR float64) *svg {
	s := &svg{width: width, padR: padR}
	s.plotW = width - padL - padR
	s.right = width - padR
	return s
}

func (s *svg) f(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func esc(s string) string { return html.EscapeString(s) }

func num(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// ticks returns how many intervals the axis 0…top has: five, or one per unit for small counts.
func ticks(top float64) int {
	if top < maxTick && top == math.Trunc(top) {
		return int(top)
	}
	return maxTick
}

// Point is one mark of a scatter chart.
type Point struct {
	Label string
	X, Y  float64
	Note  string // added to the mark's tooltip
	Flag  bool   // drawn highlighted (e.g. in the labelled quadrant)
}

// Quadrant is the region of a scatter chart at or right of X and below Y, shaded and labelled.
type Quadrant struct {
	X, Y  float64
	Label string
}

// Scatter draws points on a linear x axis and a logarithmic (log(1+y)) y axis, so that
// dependencies given nothing and those given much both stay readable, with one quadrant shaded
// and labelled. xName and yName title the axes.
func Scatter(width float64, kind, label string, points []Point, q Quadrant, xName, yName, empty string) template.HTML {
	const h, bottom = 340.0, 44.0
	plot := h - padT - bottom
	s := newSVG(width, 16)
	s.f(`<svg class="chart scatter" data-chart="%s" role="img" aria-label="%s" viewBox="0 0 %g %g" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">`,
		esc(kind), esc(label), width, h)
	if len(points) == 0 {
		s.f(`<text class="empty" x="%g" y="%g" text-anchor="middle">%s</text></svg>`, width/2, h/2, esc(empty))
		return template.HTML(s.b.String()) // #nosec G203 -- every text is escaped by esc
	}
	var maxX, maxY float64
	for _, p := range points {
		maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
	}
	topX := chart.Nice(maxX)
	// The y axis runs over powers of ten: 0, 1, 10, 100, … up to the first above maxY.
	decades := math.Max(1, math.Ceil(math.Log10(maxY+1)))
	topY := math.Log10(1 + math.Pow(10, decades))
	px := func(x float64) float64 { return padL + s.plotW*x/topX }
	py := func(y float64) float64 { return padT + plot - plot*math.Log10(1+math.Max(y, 0))/topY }
	// The quadrant first, under everything.
	qx, qy := px(q.X), py(q.Y)
	s.f(`<rect class="quadrant" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, qx, qy, s.right-qx, padT+plot-qy)
	s.f(`<text class="quadrant-label" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, s.right-6, qy-6, esc(q.Label))
	for d := -1.0; d <= decades; d++ {
		v := 0.0
		if d >= 0 {
			v = math.Pow(10, d)
		}
		y := py(v)
		s.f(`<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/>`, padL, s.right, y, y)
		s.f(`<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, num(v))
	}
	n := ticks(topX)
	for i := 0; i <= n; i++ {
		v := topX * float64(i) / float64(n)
		s.f(`<text class="tick" x="%.1f" y="%g" text-anchor="middle">%s</text>`, px(v), padT+plot+16, num(v))
	}
	s.f(`<text class="axis" x="%.1f" y="%g" text-anchor="middle">%s</text>`, padL+s.plotW/2, h-6, esc(xName))
	s.f(`<text class="axis" x="12" y="%.1f" text-anchor="middle" transform="rotate(-90 12 %.1f)">%s</text>`, padT+plot/2, padT+plot/2, esc(yName))
	// Names beside the marks when they are few, else beside the highlighted ones only.
	// A name goes above its mark, else below, else further out, wherever it overlaps no name
	// already placed (about 6 px a character, 12 px high).
	named := func(p Point) bool { return len(points) <= 12 || p.Flag }
	type box struct{ x0, x1, y0, y1 float64 }
	var placed []box
	for _, p := range points {
		if !named(p) {
			continue
		}
		x, w := px(p.X)+8, float64(len([]rune(p.Label)))*6
		if x+w > width-4 {
			x = px(p.X) - 8 - w
		}
		for _, dy := range []float64{-6, 16, -20, 30, -34, 44} {
			y := py(p.Y) + dy
			b := box{x, x + w, y - 11, y + 1}
			if slices.ContainsFunc(placed, func(o box) bool { return b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1 }) {
				continue
			}
			placed = append(placed, b)
			s.f(`<text class="dot-label" x="%.1f" y="%.1f">%s</text>`, x, y, esc(p.Label))
			break
		}
	}
	for _, p := range points {
		class := "dot"
		if p.Flag {
			class += " flagged"
		}
		s.f(`<circle class="%s" cx="%.1f" cy="%.1f" r="5.5" data-label="%s" data-x="%s" data-y="%s"><title>%s: %s</title></circle>`,
			class, px(p.X), py(p.Y), esc(p.Label), num(p.X), num(p.Y), esc(p.Label), esc(p.Note))
	}
	s.f(`</svg>`)
	return template.HTML(s.b.String()) // #nosec G203 -- every text is escaped by esc
}

// Sparkline draws values as a small line with its last point marked, for a table cell.
func Sparkline(values []int64) template.HTML {
	const w, h = 96.0, 24.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="monthly activity" xmlns="http://www.w3.org/2000/svg">`, w, h, w, h)
	if len(values) > 1 {
		var top int64 = 1
		for _, v := range values {
			top = max(top, v)
		}
		xy := make([]string, len(values))
		var lx, ly float64
		for i, v := range values {
			lx = 2 + (w-4)*float64(i)/float64(len(values)-1)
			ly = h - 3 - (h-6)*float64(v)/float64(top)
			xy[i] = fmt.Sprintf("%.1f,%.1f", lx, ly)
		}
		fmt.Fprintf(&b, `<polyline points="%s"/><circle cx="%.1f" cy="%.1f" r="2"/>`, strings.Join(xy, " "), lx, ly)
		strs := make([]string, len(values))
		for i, v := range values {
			strs[i] = strconv.FormatInt(v, 10)
		}
		fmt.Fprintf(&b, `<title>by month: %s</title>`, strings.Join(strs, ", "))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec G203 -- numbers only
}
