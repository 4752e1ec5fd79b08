package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"sort"
	"strings"

	"giveback.dev/services/report/chart"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgpdf"
)

// The PDF is drawn page by page on gonum/plot's PDF canvas: text in embedded Liberation Sans,
// tables as text and rules, and the charts drawn by the same code as the SVG and PNG, as vector
// paths. The canvas has no text flow of its own, so this file wraps lines and breaks pages.

type pageSize struct {
	Name string
	W, H vg.Length
}

var (
	pageA4     = pageSize{Name: "A4", W: 595.28, H: 841.89}
	pageLetter = pageSize{Name: "Letter", W: 612, H: 792}
)

const (
	pdfMargin = 48 // points, every side
	pdfFooter = 20 // the page number's band at the bottom
	pdfCellX  = 4  // horizontal padding in table cells
	pdfCellY  = 3  // vertical padding in table cells
)

var (
	inkColor    = color.RGBA{R: 0x1f, G: 0x29, B: 0x37, A: 0xff}
	gridColor   = color.RGBA{R: 0xe5, G: 0xe7, B: 0xeb, A: 0xff}
	mutedColor  = color.RGBA{R: 0x6b, G: 0x72, B: 0x80, A: 0xff}
	accentColor = color.RGBA{R: 0x25, G: 0x63, B: 0xeb, A: 0xff}
	noticeColor = color.RGBA{R: 0x7c, G: 0x2d, B: 0x12, A: 0xff}
	noticeFill  = color.RGBA{R: 0xff, G: 0xf7, B: 0xed, A: 0xff}
	headFill    = color.RGBA{R: 0xf3, G: 0xf4, B: 0xf6, A: 0xff}
	metColor    = color.RGBA{R: 0x15, G: 0x80, B: 0x3d, A: 0xff}
	missedColor = color.RGBA{R: 0xb9, G: 0x1c, B: 0x1c, A: 0xff}
)

func face(size vg.Length, bold bool) font.Face {
	f := chart.Font
	if bold {
		f.Weight = xfont.WeightBold
	}
	return font.DefaultCache.Lookup(f, size)
}

// pdfCanvas is the PDF canvas with two corrections to its text: strings are encoded in the
// code page of its fonts, and every face is drawn in the regular weight. The canvas embeds each
// font it meets under the same file name, so a second font's data would replace the first's;
// one font keeps the document right, and headings stand out by size and colour instead.
type pdfCanvas struct{ *vgpdf.Canvas }

func (c pdfCanvas) FillString(f font.Face, pt vg.Point, s string) {
	if f.Font.Weight != xfont.WeightNormal || f.Font.Style != xfont.StyleNormal {
		f = face(f.Font.Size, false)
	}
	c.Canvas.FillString(f, pt, cp1252(s))
}

type pdfWriter struct {
	c     pdfCanvas
	size  pageSize
	title string
	y     vg.Length // the top of the free space on the page, from the bottom edge
	page  int
}

// renderPDF draws the document on pages of the size.
func renderPDF(d *doc, n *Numbers, size pageSize) (out []byte, err error) {
	defer func() {
		// The canvas reports font failures by panicking; turn them into an error.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("reports: pdf %s: %v", size.Name, r)
		}
	}()
	w := &pdfWriter{c: pdfCanvas{vgpdf.New(size.W, size.H)}, size: size, title: d.Title + " – " + n.Period.Label}
	w.startPage()
	w.text(d.Title, face(20, true), inkColor, 0)
	w.gap(2)
	w.text(d.Subtitle, face(10, false), mutedColor, 0)
	w.gap(10)
	for _, notice := range d.Notices {
		w.notice(notice)
	}
	for _, s := range d.Sections {
		w.need(60) // keep a heading with what follows it
		w.gap(8)
		w.text(s.Title, face(14, true), inkColor, 0)
		w.rule(accentColor, 1.5)
		w.gap(6)
		for _, bl := range s.Blocks {
			w.block(bl)
		}
	}
	w.gap(12)
	w.rule(gridColor, 0.5)
	w.gap(4)
	w.text(pdfSpans(d.Footer), face(8, false), mutedColor, 0)
	var buf bytes.Buffer
	if _, err := w.c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("reports: pdf %s: %w", size.Name, err)
	}
	return buf.Bytes(), nil
}

func (w *pdfWriter) width() vg.Length { return w.size.W - 2*pdfMargin }

func (w *pdfWriter) startPage() {
	if w.page > 0 {
		w.c.NextPage()
	}
	w.page++
	w.y = w.size.H - pdfMargin
	f := face(8, false)
	w.c.SetColor(mutedColor)
	label := fmt.Sprintf("%s · page %d", w.title, w.page)
	w.c.FillString(f, vg.Point{X: pdfMargin, Y: pdfMargin / 2}, label)
}

// need starts a new page unless h points are free.
func (w *pdfWriter) need(h vg.Length) {
	if w.y-h < pdfMargin+pdfFooter {
		w.startPage()
	}
}

func (w *pdfWriter) gap(h vg.Length) { w.y -= h }

func (w *pdfWriter) rule(col color.Color, width vg.Length) {
	w.c.SetColor(col)
	w.c.SetLineWidth(width)
	var p vg.Path
	p.Move(vg.Point{X: pdfMargin, Y: w.y})
	p.Line(vg.Point{X: pdfMargin + w.width(), Y: w.y})
	w.c.Stroke(p)
}

// text writes wrapped text at the cursor, indented by ind.
func (w *pdfWriter) text(s string, f font.Face, col color.Color, ind vg.Length) {
	lead := f.Font.Size * 1.35
	asc := f.Extents().Ascent
	for _, line := range wrapWidth(s, f, w.width()-ind) {
		w.need(lead)
		w.c.SetColor(col)
		w.c.FillString(f, vg.Point{X: pdfMargin + ind, Y: w.y - asc}, line)
		w.y -= lead
	}
}

func (w *pdfWriter) notice(s string) {
	f := face(10, false)
	lines := wrapWidth(s, f, w.width()-16)
	h := vg.Length(len(lines))*f.Font.Size*1.35 + 12
	w.need(h)
	w.fillRect(pdfMargin, w.y-h, w.width(), h, noticeFill)
	w.fillRect(pdfMargin, w.y-h, 3, h, chart.Palette[1])
	w.gap(6)
	w.text(s, f, noticeColor, 10)
	w.gap(12)
}

func (w *pdfWriter) fillRect(x, y, wd, h vg.Length, col color.Color) {
	w.c.SetColor(col)
	var p vg.Path
	p.Move(vg.Point{X: x, Y: y})
	p.Line(vg.Point{X: x + wd, Y: y})
	p.Line(vg.Point{X: x + wd, Y: y + h})
	p.Line(vg.Point{X: x, Y: y + h})
	p.Close()
	w.c.Fill(p)
}

func (w *pdfWriter) block(bl block) {
	if bl.TextOnly {
		return
	}
	switch bl.Kind {
	case blockPara:
		w.text(pdfSpans(bl.Text), face(10, false), inkColor, 0)
		w.gap(6)
	case blockNote:
		w.text(pdfSpans(bl.Text), face(8, false), mutedColor, 0)
		w.gap(6)
	case blockList:
		f := face(10, false)
		for _, it := range bl.Items {
			w.need(f.Font.Size * 1.35)
			w.c.SetColor(inkColor)
			w.c.FillString(f, vg.Point{X: pdfMargin + 2, Y: w.y - f.Extents().Ascent}, "•")
			w.text(pdfSpans(it), f, inkColor, 12)
			w.gap(4)
		}
		w.gap(4)
	case blockTable:
		w.table(bl.Table)
		w.gap(8)
	case blockChart:
		cw := w.width()
		ch := cw * chart.Height / chart.Width
		w.need(ch)
		dc := draw.Canvas{Canvas: w.c, Rectangle: vg.Rectangle{
			Min: vg.Point{X: pdfMargin, Y: w.y - ch},
			Max: vg.Point{X: pdfMargin + cw, Y: w.y},
		}}
		if err := chart.Draw(dc, bl.Chart); err != nil {
			panic(err)
		}
		w.y -= ch + 14
	}
}

// table draws a table: column widths from the widest cell, shrunk to the page by wrapping the
// text columns; the header repeated on a new page.
func (w *pdfWriter) table(t *table) {
	body, head := face(9, false), face(8, true)
	n := len(t.Head)
	natural := make([]vg.Length, n)
	for i, h := range t.Head {
		natural[i] = head.Width(h) + 2*pdfCellX
	}
	for _, r := range t.Rows {
		for i, c := range r {
			natural[i] = max(natural[i], body.Width(c.Text)+2*pdfCellX)
		}
	}
	widths := fitColumns(natural, t.Num, w.width())
	lead := body.Font.Size * 1.3
	drawRow := func(cells []string, f font.Face, isHead bool, colors []color.Color) {
		wrapped := make([][]string, n)
		lines := 1
		for i, s := range cells {
			wrapped[i] = wrapWidth(s, f, widths[i]-2*pdfCellX)
			lines = max(lines, len(wrapped[i]))
		}
		h := vg.Length(lines)*lead + 2*pdfCellY
		w.need(h)
		if isHead {
			w.fillRect(pdfMargin, w.y-h, w.width(), h, headFill)
		}
		x := vg.Length(pdfMargin)
		for i := range cells {
			for l, line := range wrapped[i] {
				lx := x + pdfCellX
				if t.Num[i] {
					lx = x + widths[i] - pdfCellX - f.Width(line)
				}
				w.c.SetColor(colors[i])
				w.c.FillString(f, vg.Point{X: lx, Y: w.y - pdfCellY - f.Extents().Ascent - vg.Length(l)*lead}, line)
			}
			x += widths[i]
		}
		w.y -= h
		w.rule(gridColor, 0.5)
	}
	headColors := make([]color.Color, n)
	for i := range headColors {
		headColors[i] = inkColor
	}
	drawRow(t.Head, head, true, headColors)
	for _, r := range t.Rows {
		cells := make([]string, n)
		colors := make([]color.Color, n)
		for i := range cells {
			colors[i] = inkColor
			if i < len(r) {
				cells[i] = r[i].Text
				switch {
				case strings.HasPrefix(r[i].Text, "not met"):
					colors[i] = missedColor
				case strings.HasPrefix(r[i].Text, "met"):
					colors[i] = metColor
				}
			}
		}
		drawRow(cells, body, false, colors)
	}
}

// fitColumns returns the widths of columns whose natural widths may exceed the total: numeric
// columns keep theirs, and the text columns share the rest, the narrow ones whole first, the
// wider ones wrapped to equal shares of what remains.
func fitColumns(natural []vg.Length, numeric []bool, total vg.Length) []vg.Length {
	var sum, fixed vg.Length
	var flex []int
	for i, w := range natural {
		sum += w
		if numeric[i] {
			fixed += w
		} else {
			flex = append(flex, i)
		}
	}
	out := append([]vg.Length(nil), natural...)
	if sum <= total {
		return out
	}
	room := total - fixed
	if room < total/4 || len(flex) == 0 {
		// Too many numbers to keep them whole: scale every column.
		for i := range out {
			out[i] = natural[i] * total / sum
		}
		return out
	}
	sort.Slice(flex, func(a, b int) bool { return natural[flex[a]] < natural[flex[b]] })
	for k, i := range flex {
		share := room / vg.Length(len(flex)-k)
		out[i] = min(natural[i], share)
		room -= out[i]
	}
	return out
}

// wrapWidth breaks s into lines no wider than width in the face; a single word wider than the
// line is cut.
func wrapWidth(s string, f font.Face, width vg.Length) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		cand := word
		if line != "" {
			cand = line + " " + word
		}
		if f.Width(cand) <= width {
			line = cand
			continue
		}
		if line != "" {
			lines = append(lines, line)
		}
		if f.Width(word) > width {
			// A word wider than the line (an address) is cut where it reaches the edge, rune
			// by rune.
			var part strings.Builder
			var w vg.Length
			for _, r := range word {
				rw := f.Width(string(r))
				if w+rw > width && part.Len() > 0 {
					lines = append(lines, part.String())
					part.Reset()
					w = 0
				}
				part.WriteRune(r)
				w += rw
			}
			word = part.String()
		}
		line = word
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// pdfSpans joins spans; a link is "text (address)" since the page cannot be clicked through.
func pdfSpans(ss []span) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.Text)
		if s.Link != "" {
			b.WriteString(" (" + s.Link + ")")
		}
	}
	return b.String()
}

// cp1252 encodes text for the PDF canvas, whose embedded fonts use the Windows-1252 code page:
// Latin-1 and the typographic signs of 0x80–0x9F map to their byte, anything else becomes "?".
func cp1252(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80 || (r >= 0xa0 && r <= 0xff):
			b.WriteByte(byte(r))
		default:
			if c, ok := cp1252High[r]; ok {
				b.WriteByte(c)
			} else {
				b.WriteByte('?')
			}
		}
	}
	return b.String()
}

var cp1252High = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89,
	'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95,
	'–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
}
