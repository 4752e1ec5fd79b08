package reports

import (
	"bytes"
	"html"
	"net/url"
	"strings"
	"unicode"

	"giveback.dev/services/report/chart"
)

// The HTML formats. The mail is laid out with tables and inline styles only (no <style> block,
// no web font, no script, no external image), which is what common mail clients, Outlook's
// Word engine included, render alike; its charts are PNG parts referenced by Content-ID. The web
// copy is the same document with the charts as inline SVG, so it requests nothing either.

type htmlMode int

const (
	htmlMail htmlMode = iota
	htmlWeb
)

// The inline styles.
const (
	fontStack   = "font-family:Arial,Helvetica,sans-serif;"
	styleH1     = "margin:0 0 4px 0;font-size:22px;line-height:28px;color:#111827;" + fontStack
	styleSub    = "margin:0 0 16px 0;font-size:13px;line-height:18px;color:#6b7280;" + fontStack
	styleH2     = "margin:24px 0 8px 0;padding-bottom:4px;border-bottom:2px solid #2563eb;font-size:17px;line-height:22px;color:#111827;" + fontStack
	styleP      = "margin:0 0 12px 0;font-size:14px;line-height:21px;color:#1f2937;" + fontStack
	styleNote   = "margin:4px 0 12px 0;font-size:12px;line-height:17px;color:#6b7280;" + fontStack
	styleNotice = "margin:0 0 12px 0;padding:10px 12px;background:#fff7ed;border-left:4px solid #ea580c;font-size:14px;line-height:20px;color:#7c2d12;" + fontStack
	styleTable  = "border-collapse:collapse;width:100%;margin:0 0 12px 0;" + fontStack
	styleTh     = "padding:6px 8px;border-bottom:1px solid #d1d5db;background:#f9fafb;font-size:12px;line-height:16px;color:#374151;text-align:left;font-weight:bold;"
	styleTd     = "padding:6px 8px;border-bottom:1px solid #e5e7eb;font-size:13px;line-height:18px;color:#1f2937;vertical-align:top;"
	styleA      = "color:#1d4ed8;text-decoration:none;"
	styleLi     = "margin:0 0 8px 0;font-size:14px;line-height:20px;color:#1f2937;" + fontStack
	styleFooter = "margin:24px 0 0 0;padding-top:12px;border-top:1px solid #e5e7eb;font-size:12px;line-height:17px;color:#6b7280;" + fontStack
	styleStatus = "font-weight:bold;"
)

// safeURL returns u when it is an http(s) address or a relative path, else "" (no link).
func safeURL(u string) string {
	// A control character has no place in an address, and a line break would end a Markdown
	// table's row (url.Parse lets one through in a fragment).
	if u == "" || strings.ContainsFunc(u, unicode.IsControl) {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	switch p.Scheme {
	case "http", "https":
		return u
	case "":
		if p.Host == "" && !strings.HasPrefix(u, "//") {
			return u
		}
	}
	return ""
}

func esc(s string) string { return html.EscapeString(s) }

func writeLink(b *bytes.Buffer, text, link string) {
	if u := safeURL(link); u != "" {
		b.WriteString(`<a href="` + esc(u) + `" style="` + styleA + `">` + esc(text) + `</a>`)
		return
	}
	b.WriteString(esc(text))
}

func writeSpans(b *bytes.Buffer, ss []span) {
	for _, s := range ss {
		writeLink(b, s.Text, s.Link)
	}
}

// renderHTML renders the document as a whole HTML page: the mail body, or the web copy with
// svgs (chart id → SVG) inline.
func renderHTML(d *doc, n *Numbers, mode htmlMode, svgs map[string][]byte) []byte {
	var b bytes.Buffer
	width := "640"
	if mode == htmlWeb {
		width = "900"
	}
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
		"<title>" + esc(d.Title+" – "+n.Period.Label) + "</title></head>\n")
	b.WriteString(`<body style="margin:0;padding:0;background:#f3f4f6;">` + "\n")
	b.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6;"><tr><td align="center" style="padding:16px 8px;">` + "\n")
	if mode == htmlMail {
		// Outlook's engine needs the width as an attribute; other clients narrow it with max-width.
		b.WriteString(`<table role="presentation" width="` + width + `" cellpadding="0" cellspacing="0" border="0" style="width:` + width +
			`px;max-width:100%;background:#ffffff;border:1px solid #e5e7eb;"><tr><td style="padding:24px;">` + "\n")
	} else {
		b.WriteString(`<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:` + width +
			`px;background:#ffffff;border:1px solid #e5e7eb;"><tr><td style="padding:24px;">` + "\n")
	}
	b.WriteString(`<h1 style="` + styleH1 + `">` + esc(d.Title) + "</h1>\n")
	b.WriteString(`<p style="` + styleSub + `">` + esc(d.Subtitle) + "</p>\n")
	for _, notice := range d.Notices {
		b.WriteString(`<p class="notice" style="` + styleNotice + `">` + esc(notice) + "</p>\n")
	}
	for _, s := range d.Sections {
		b.WriteString(`<h2 id="` + esc(s.ID) + `" style="` + styleH2 + `">` + esc(s.Title) + "</h2>\n")
		for _, bl := range s.Blocks {
			writeBlock(&b, bl, mode, svgs)
		}
	}
	b.WriteString(`<p style="` + styleFooter + `">`)
	writeSpans(&b, d.Footer)
	b.WriteString("</p>\n")
	b.WriteString("</td></tr></table>\n</td></tr></table>\n</body></html>\n")
	return b.Bytes()
}

func writeBlock(b *bytes.Buffer, bl block, mode htmlMode, svgs map[string][]byte) {
	if bl.TextOnly {
		return
	}
	switch bl.Kind {
	case blockPara:
		b.WriteString(`<p style="` + styleP + `">`)
		writeSpans(b, bl.Text)
		b.WriteString("</p>\n")
	case blockNote:
		b.WriteString(`<p style="` + styleNote + `">`)
		writeSpans(b, bl.Text)
		b.WriteString("</p>\n")
	case blockList:
		b.WriteString(`<ul style="margin:0 0 12px 0;padding-left:20px;">` + "\n")
		for _, it := range bl.Items {
			b.WriteString(`<li style="` + styleLi + `">`)
			for i, s := range it {
				if i > 0 {
					b.WriteString(`<span style="color:#6b7280;font-size:12px;">`)
					writeLink(b, s.Text, s.Link)
					b.WriteString("</span>")
					continue
				}
				writeLink(b, s.Text, s.Link)
			}
			b.WriteString("</li>\n")
		}
		b.WriteString("</ul>\n")
	case blockTable:
		writeTable(b, bl.Table)
	case blockChart:
		c := bl.Chart
		b.WriteString(`<div class="chart" data-chart="` + esc(c.ID) + `" style="margin:0 0 16px 0;">`)
		if safeURL(c.Link) != "" {
			b.WriteString(`<a href="` + esc(safeURL(c.Link)) + `" style="` + styleA + `">`)
		}
		alt := chartAlt(c)
		if mode == htmlMail {
			b.WriteString(`<img src="cid:` + esc(contentID(c)) + `" width="600" height="220" alt="` + esc(alt) +
				`" style="display:block;width:100%;max-width:600px;height:auto;border:0;">`)
		} else {
			b.WriteString(`<div role="img" aria-label="` + esc(alt) + `" style="max-width:600px;">`)
			b.Write(svgs[c.ID])
			b.WriteString(`</div>`)
		}
		if safeURL(c.Link) != "" {
			b.WriteString(`</a>`)
		}
		b.WriteString("</div>\n")
	}
}

// chartAlt describes a chart in words for readers without images: its title and last value.
func chartAlt(c *Chart) string {
	s := c.Title
	if len(c.Labels) == 0 {
		return s
	}
	last := len(c.Labels) - 1
	var parts []string
	for _, se := range c.Series {
		parts = append(parts, se.Name+" "+value(se.Values[last], c.Unit))
	}
	return s + "; " + chart.MonthLabel(c.Labels[last]) + ": " + strings.Join(parts, ", ")
}

func writeTable(b *bytes.Buffer, t *table) {
	b.WriteString(`<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="100%" style="` + styleTable + `">` + "\n<tr>")
	for i, h := range t.Head {
		align := ""
		if t.Num[i] {
			align = "text-align:right;"
		}
		b.WriteString(`<th style="` + styleTh + align + `">` + esc(h) + "</th>")
	}
	b.WriteString("</tr>\n")
	for _, r := range t.Rows {
		b.WriteString("<tr>")
		for i, c := range r {
			st := styleTd
			if i < len(t.Num) && t.Num[i] {
				st += "text-align:right;white-space:nowrap;"
			}
			if strings.HasPrefix(c.Text, "met") {
				st += styleStatus + "color:#15803d;"
			} else if strings.HasPrefix(c.Text, "not met") {
				st += styleStatus + "color:#b91c1c;"
			}
			b.WriteString(`<td style="` + st + `">`)
			writeLink(b, c.Text, c.Link)
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
}
