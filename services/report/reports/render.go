package reports

import (
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"giveback.dev/services/report/chart"
)

// Render renders computed numbers into every format: the HTML mail with its PNG charts, the web
// page with SVG charts, the plain-text alternative, Markdown, the CSV appendix and PDF in A4 and
// Letter. It needs no browser and no network.
func Render(n *Numbers) (*Report, error) {
	d := buildDoc(n)
	r := &Report{
		Name:           n.Report,
		Subject:        subject(n),
		Numbers:        n,
		Empty:          n.Empty,
		MetricsVersion: MetricsVersion(),
		Images:         map[string][]byte{},
	}
	hash, _, err := hashNumbers(n)
	if err != nil {
		return nil, err
	}
	r.Hash = hash
	// The charts and the two PDFs are drawn side by side, each on its own (a chart's PNG and
	// SVG, one PDF), then the text formats; each part writes its own field or index.
	pngs, svgList := make([][]byte, len(n.Trends)), make([][]byte, len(n.Trends))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range n.Trends {
		c := &n.Trends[i]
		g.Go(func() (err error) {
			if pngs[i], err = chart.PNG(c); err != nil {
				return fmt.Errorf("reports: %w", err)
			}
			if svgList[i], err = chart.SVG(c, chart.Width, chart.Height); err != nil {
				return fmt.Errorf("reports: %w", err)
			}
			return nil
		})
	}
	g.Go(func() (err error) { r.PDF, err = renderPDF(d, n, pageA4); return })
	g.Go(func() (err error) { r.PDFLetter, err = renderPDF(d, n, pageLetter); return })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	svgs := map[string][]byte{}
	for i := range n.Trends {
		c := &n.Trends[i]
		r.Images[contentID(c)], svgs[c.ID] = pngs[i], svgList[i]
	}
	r.HTML = renderHTML(d, n, htmlMail, nil)
	r.WebHTML = renderHTML(d, n, htmlWeb, svgs)
	r.Text = renderText(d, n)
	r.Markdown = renderMarkdown(d, n)
	if r.CSV, err = renderCSV(d, n); err != nil {
		return nil, err
	}
	r.Summary = summary(n)
	return r, nil
}

// contentID is the Content-ID (without angle brackets) of a chart's PNG in the mail.
func contentID(c *Chart) string { return c.ID + "@giveback" }

// subject is the mail subject: the title and the period's label.
func subject(n *Numbers) string {
	s := n.Title + " – " + n.Period.Label
	if n.Late {
		s += " (late)"
	}
	return s
}

// summary is the text of chat deliveries: the narrative, or else the headline numbers, and the
// link to the archived copy.
func summary(n *Numbers) string {
	var b strings.Builder
	b.WriteString(subject(n) + "\n")
	if n.Narrative != "" {
		b.WriteString(n.Narrative + "\n")
	} else if n.Empty {
		b.WriteString("No data for this period.\n")
	}
	for _, f := range n.Headline {
		if f.Value == nil {
			continue
		}
		fmt.Fprintf(&b, "• %s: %s (%s)\n", f.Label, value(f.Value, f.Unit), change(f))
	}
	b.WriteString("Full report: " + n.Links.Archive)
	return b.String()
}
