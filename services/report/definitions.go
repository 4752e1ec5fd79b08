package report

import (
	"bytes"
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/util"

	"giveback.dev/services/report/web"
)

// metricsDoc is METRICS.md, the definition and SQL of every metric; GET /docs/METRICS.md serves
// it as a page, where the dashboard, the API and the scheduled reports link their numbers.
//
//go:embed METRICS.md
var metricsDoc []byte

//go:embed web/assets/definitions.html
var definitionsHTML string

var definitionsTmpl = web.NewPage("definitions", definitionsHTML, pageFuncs)

// renderedDoc is METRICS.md as HTML, rendered once: the file is part of the binary.
var renderedDoc = sync.OnceValues(func() (template.HTML, error) {
	md := goldmark.New(
		goldmark.WithExtensions(extension.Table),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
	var buf bytes.Buffer
	// Raw HTML in the file is not passed through (goldmark's default): the page carries only what
	// the Markdown says.
	if err := md.Convert(metricsDoc, &buf, parser.WithContext(parser.NewContext(parser.WithIDs(&headingIDs{seen: map[string]int{}})))); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
})

// headingIDs gives each heading the anchor GitHub and the reports give it: lower case, every
// character but letters, digits, spaces and hyphens dropped, spaces made hyphens; a repeated
// one gets -1, -2 and so on.
type headingIDs struct{ seen map[string]int }

var notAnchor = regexp.MustCompile(`[^a-z0-9 \-]`)

// Anchor is the anchor of a heading's text, as reports link to it (METRICS.md#anchor).
func Anchor(heading string) string {
	return strings.ReplaceAll(notAnchor.ReplaceAllString(strings.ToLower(heading), ""), " ", "-")
}

func (h *headingIDs) Generate(value []byte, _ ast.NodeKind) []byte {
	id := Anchor(string(util.UnescapePunctuations(value)))
	if id == "" {
		id = "heading"
	}
	n := h.seen[id]
	h.seen[id] = n + 1
	if n > 0 {
		id += "-" + strconv.Itoa(n)
	}
	return []byte(id)
}

func (h *headingIDs) Put(value []byte) { h.seen[string(value)]++ }

// definitions serves GET /docs/METRICS.md: the metric definitions as a page.
func (s *Server) definitions(w http.ResponseWriter, r *http.Request) {
	body, err := renderedDoc()
	if err != nil {
		s.log.Error("definitions page", slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v := struct {
		Chrome web.Chrome
		Body   template.HTML
	}{Chrome: s.plainChrome(r.Context(), "Metric definitions", "definitions", "../"), Body: body}
	var buf bytes.Buffer
	if err := definitionsTmpl.Execute(&buf, v); err != nil {
		s.log.Error("definitions page", slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.writePage(w, http.StatusOK, &buf, "definitions page")
}
