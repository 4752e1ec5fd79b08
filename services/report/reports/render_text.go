package reports

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"unicode/utf8"
)

// textWidth is the line length of the plain-text alternative.
const textWidth = 78

// renderText renders the plain-text alternative of the mail: headings underlined, paragraphs
// wrapped, tables aligned in columns, charts as their table of numbers, links in angle brackets.
func renderText(d *doc, n *Numbers) []byte {
	var b bytes.Buffer
	b.WriteString(d.Title + "\n" + strings.Repeat("=", utf8.RuneCountInString(d.Title)) + "\n")
	b.WriteString(wrap(d.Subtitle, textWidth) + "\n\n")
	for _, notice := range d.Notices {
		b.WriteString(wrap("! "+notice, textWidth) + "\n\n")
	}
	for _, s := range d.Sections {
		b.WriteString(s.Title + "\n" + strings.Repeat("-", utf8.RuneCountInString(s.Title)) + "\n")
		for _, bl := range s.Blocks {
			switch bl.Kind {
			case blockPara, blockNote:
				b.WriteString(wrap(spansText(bl.Text), textWidth) + "\n\n")
			case blockList:
				for _, it := range bl.Items {
					b.WriteString(indent(wrap(spansText(it), textWidth-2), "* ", "  ") + "\n")
				}
				b.WriteString("\n")
			case blockTable:
				b.WriteString(textTable(bl.Table) + "\n")
			case blockChart:
				// Shown by the text-only table of the section.
			}
		}
	}
	b.WriteString(wrap(spansText(d.Footer), textWidth) + "\n")
	return b.Bytes()
}

// spansText joins spans, a link as "text <address>".
func spansText(ss []span) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.Text)
		if s.Link != "" {
			b.WriteString(" <" + s.Link + ">")
		}
	}
	return b.String()
}

// wrap breaks text into lines of at most width runes, at spaces; a longer word (an address) has
// a line of its own.
func wrap(s string, width int) string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= width:
				line += " " + w
			default:
				lines = append(lines, line)
				line = w
			}
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func indent(s, first, rest string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		if i == 0 {
			lines[i] = first + lines[i]
		} else {
			lines[i] = rest + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// textTable aligns a table in columns; a column wider than it may be is wrapped.
func textTable(t *table) string {
	const maxCol = 40
	widths := make([]int, len(t.Head))
	rows := append([][]string{t.Head}, nil)
	rows = rows[:1]
	for _, r := range t.Rows {
		var row []string
		for _, c := range r {
			row = append(row, c.Text)
		}
		rows = append(rows, row)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = min(max(widths[i], utf8.RuneCountInString(c)), maxCol)
		}
	}
	var b strings.Builder
	for ri, r := range rows {
		cells := make([][]string, len(r))
		height := 1
		for i, c := range r {
			cells[i] = strings.Split(wrap(c, widths[i]), "\n")
			height = max(height, len(cells[i]))
		}
		for l := 0; l < height; l++ {
			var parts []string
			for i := range r {
				s := ""
				if l < len(cells[i]) {
					s = cells[i][l]
				}
				pad := strings.Repeat(" ", max(widths[i]-utf8.RuneCountInString(s), 0))
				if t.Num[i] {
					parts = append(parts, pad+s)
				} else {
					parts = append(parts, s+pad)
				}
			}
			b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " ") + "\n")
		}
		if ri == 0 {
			var rule []string
			for _, w := range widths {
				rule = append(rule, strings.Repeat("-", w))
			}
			b.WriteString(strings.Join(rule, "  ") + "\n")
		}
	}
	return b.String()
}

// renderMarkdown renders the document as Markdown for chat, wikis and issues: tables as pipe
// tables, every number linked where the report links it, charts as their tables.
func renderMarkdown(d *doc, n *Numbers) []byte {
	var b bytes.Buffer
	b.WriteString("# " + mdEsc(d.Title) + "\n\n" + mdEsc(d.Subtitle) + "\n\n")
	for _, notice := range d.Notices {
		b.WriteString("> **" + mdEsc(notice) + "**\n\n")
	}
	for _, s := range d.Sections {
		b.WriteString("## " + mdEsc(s.Title) + "\n\n")
		for _, bl := range s.Blocks {
			switch bl.Kind {
			case blockPara:
				b.WriteString(mdSpans(bl.Text) + "\n\n")
			case blockNote:
				b.WriteString("_" + mdSpans(bl.Text) + "_\n\n")
			case blockList:
				for _, it := range bl.Items {
					b.WriteString("- " + mdSpans(it) + "\n")
				}
				b.WriteString("\n")
			case blockTable:
				b.WriteString(mdTable(bl.Table) + "\n")
			case blockChart:
				// Shown by the text-only table of the section.
			}
		}
	}
	b.WriteString("---\n\n" + mdSpans(d.Footer) + "\n")
	return b.Bytes()
}

var mdEscaper = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", `\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`, "<", `\<`, ">", `\>`, "#", `\#`)

func mdEsc(s string) string { return mdEscaper.Replace(s) }

func mdLink(text, link string) string {
	if u := safeURL(link); u != "" {
		return "[" + mdEsc(text) + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "|", "%7C", "<", "%3C", ">", "%3E").Replace(u) + ")"
	}
	return mdEsc(text)
}

func mdSpans(ss []span) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(mdLink(s.Text, s.Link))
	}
	return b.String()
}

func mdTable(t *table) string {
	var b strings.Builder
	b.WriteString("|")
	for _, h := range t.Head {
		b.WriteString(" " + mdEsc(h) + " |")
	}
	b.WriteString("\n|")
	for i := range t.Head {
		if t.Num[i] {
			b.WriteString(" ---: |")
		} else {
			b.WriteString(" --- |")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		b.WriteString("|")
		for _, c := range r {
			b.WriteString(" " + mdLink(c.Text, c.Link) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// CSVHeader is the header row of the CSV appendix.
var CSVHeader = []string{"section", "item", "measure", "value", "unit", "shown", "period_from", "period_to", "link"}

// renderCSV writes the appendix: one row per number the report shows, with its machine-readable
// value, its unit, the text shown, the period and the dashboard view that shows it.
func renderCSV(d *doc, n *Numbers) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	rows := [][]string{CSVHeader}
	for _, c := range d.cells() {
		v := c.Value
		from, to := n.Period.From, n.Period.To
		if v.Measure == "previous" {
			from, to = n.Previous.From, n.Previous.To
		}
		rows = append(rows, []string{v.Section, cellSafe(v.Item), v.Measure, v.Value, v.Unit, c.Text, from, to, c.Link})
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("reports: csv: %w", err)
	}
	return b.Bytes(), nil
}

// cellSafe keeps a spreadsheet from reading a name from the data (a team, a repository) as a
// formula: one starting with =, +, -, @ or a control character is prefixed with an apostrophe.
func cellSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
