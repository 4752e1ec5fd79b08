package reports

import (
	"fmt"
	"strings"

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
	svgs := map[string][]byte{}
	for i := range n.Trends {
		c := &n.Trends[i]
		png, err := chart.PNG(c)
		if err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		r.Images[contentID(c)] = png
		svg, err := chart.SVG(c, chart.Width, chart.Height)
		if err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		svgs[c.ID] = svg
	}
	r.HTML = renderHTML(d, n, htmlMail, nil)
	r.WebHTML = renderHTML(d, n, htmlWeb, svgs)
	r.Text = renderText(d, n)
	r.Markdown = renderMarkdown(d, n)
	if r.CSV, err = renderCSV(d, n); err != nil {
		return nil, err
	}
	if r.PDF, err = renderPDF(d, n, pageA4); err != nil {
		return nil, err
	}
	if r.PDFLetter, err = renderPDF(d, n, pageLetter); err != nil {
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
