package web

import (
	_ "embed"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"giveback.dev/services/report/metrics"
)

//go:embed assets/layout.html
var layoutHTML string

// layout holds the templates every page shares: "top" (the head, the header with the
// navigation, the title, the filter bar and the time of the newest data) and "bottom" (the
// footer). A page's template calls both with its Chrome: {{template "top" .Chrome}}.
var layout = template.Must(template.New("layout").Funcs(Funcs).Parse(layoutHTML))

// Funcs are the template functions every page can use, besides those of html/template.
var Funcs = template.FuncMap{
	"css":     func() template.CSS { return template.CSS(styleCSS) }, // #nosec G203 -- our own stylesheet
	"count":   count,
	"percent": percent,
	"hours":   hours,
	"month":   monthLabel,
	"when":    when,
	"ptr":     func(f float64) *float64 { return &f },
	"spark":   Sparkline,
	"lower":   strings.ToLower,
	"risk":    riskText,
	"int": func(p *int) string { // an optional whole number; "—" when there is none
		if p == nil {
			return "—"
		}
		return strconv.Itoa(*p)
	},
	"barf": func(share float64) template.CSS { // the width of an inline bar for a share of 0 to 1
		return template.CSS("width: " + strconv.FormatFloat(max1(share*100), 'f', 1, 64) + "%") // #nosec G203 -- a number
	},
	"bar": func(v, max int64) template.CSS { // the width of an inline bar, as a CSS declaration
		w := 0.0
		if max > 0 && v > 0 {
			w = max1(float64(v) / float64(max) * 100)
		}
		return template.CSS("width: " + strconv.FormatFloat(w, 'f', 1, 64) + "%") // #nosec G203 -- a number
	},
}

func max1(pct float64) float64 {
	if pct < 1 {
		return 1
	}
	return pct
}

// NewPage returns the template of one page: body, parsed with Funcs and the extra funcs, and
// able to call the shared "top" and "bottom" templates. The body's data must give them a
// Chrome, conventionally in a field named Chrome.
func NewPage(name, body string, funcs template.FuncMap) *template.Template {
	t := template.Must(layout.Clone())
	return template.Must(t.New(name).Funcs(funcs).Parse(body))
}

// NavItem is one link of the navigation bar.
type NavItem struct {
	Key   string // names the page, as Chrome.Active
	Label string
	Path  string // from the site root, without the leading slash; "" for the overview
	// Params are the filter parameters the page reads (from, to, team, upstream): its link
	// carries their current values, so the same view follows from page to page.
	Params []string
}

// pages are the pages the navigation can show, in order, each with the route that serves it.
var pages = []struct {
	Route string
	Item  NavItem
}{
	{"GET /{$}", NavItem{"overview", "Overview", "", []string{"from", "to", "team", "upstream"}}},
	{"GET /teams", NavItem{"teams", "Teams", "teams", []string{"from", "to"}}},
	{"GET /projects", NavItem{"projects", "Projects", "projects", []string{"from", "to", "team"}}},
	{"GET /people", NavItem{"people", "People", "people", []string{"from", "to", "team"}}},
	{"GET /community", NavItem{"community", "Community", "community", []string{"from", "to"}}},
	{"GET /live", NavItem{"live", "Live", "live", nil}},
	{"GET /query", NavItem{"query", "Query", "query", nil}},
	{"GET /sources", NavItem{"sources", "Sources", "sources", nil}},
	{"GET /reports", NavItem{"reports", "Reports", "reports", nil}},
}

// NavFor returns the navigation items whose pages are among the routes served (as
// report.Server.Routes lists them), in the navigation's order; empty when none is.
func NavFor(routes []string) []NavItem {
	var out []NavItem
	for _, p := range pages {
		if slices.Contains(routes, p.Route) {
			out = append(out, p.Item)
		}
	}
	return out
}

// Chrome is what the shared layout shows around a page.
type Chrome struct {
	Company  string
	Title    string // the page's name, in the window title and the heading
	Subtitle string // a line under the heading
	Active   string // the Key of the page's navigation item
	// Base is the way from the page back to the site root, so that every link is relative and
	// the pages work under any path prefix: "./" for /teams, "../" for /teams/core.
	Base string
	Nav  []NavItem
	// Filter, when set, shows the filter bar; its values are also carried by the navigation's
	// links to the pages that read a filter.
	Filter *FilterBar
	Fresh  Freshness
	// Empty says that nothing is stored yet: the page shows how to load data instead of its
	// figures.
	Empty bool
	// Error, when set, is shown instead of the figures (the filter bar stays usable).
	Error string
	// APIPath is the JSON API answer of the page's figures, from the site root, APIParams the
	// filter parameters it takes and APIRepo its repo parameter; empty for the summary with the
	// whole filter.
	APIPath   string
	APIParams []string
	APIRepo   string
}

// FilterBar is the filter form, as the page was computed with.
type FilterBar struct {
	Period   metrics.Period
	Teams    []string // the teams to choose from
	Team     bool     // the page can be filtered by team
	Upstream bool     // the page can be filtered by where contributions went
	Note     string   // said beside the form (e.g. a filter field the page does not use)
}

// Query returns the filter as a query string, without the fields left empty; with params, only
// those.
func (f *FilterBar) Query(params ...string) string {
	if f == nil {
		return ""
	}
	v := url.Values{}
	for k, s := range map[string]string{"from": f.Period.From, "to": f.Period.To, "team": f.Period.Team, "upstream": f.Period.Upstream} {
		if s != "" && (len(params) == 0 || slices.Contains(params, k)) {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// Href returns the link to a navigation item from this page, with the filter parameters that
// page reads.
func (c Chrome) Href(it NavItem) string {
	if len(it.Params) == 0 {
		return c.Base + it.Path
	}
	return c.with(c.Base+it.Path, it.Params...)
}

// Link returns the link to path (from the site root) with the page's period, for a drill-down
// to a team or a project (which sets the team or project itself).
func (c Chrome) Link(path string) string {
	return c.with(c.Base+path, "from", "to")
}

// Home returns the link to the overview with the page's whole filter.
func (c Chrome) Home() string { return c.with(c.Base) }

// API returns the link to the JSON API answer of the page's figures.
func (c Chrome) API() string {
	path, params := "api/v1/metrics/summary", []string(nil)
	if c.APIPath != "" {
		path, params = c.APIPath, c.APIParams
	}
	link := c.with(c.Base+path, params...)
	if c.APIRepo != "" {
		sep := "?"
		if strings.Contains(link, "?") {
			sep = "&"
		}
		link += sep + "repo=" + url.QueryEscape(c.APIRepo)
	}
	return link
}

// with adds the filter's params (all of them when none is named) to a link; a page without a
// filter adds none.
func (c Chrome) with(link string, params ...string) string {
	if c.Filter == nil {
		return link
	}
	if q := c.Filter.Query(params...); q != "" {
		return link + "?" + q
	}
	return link
}

// Period describes the filter's period in words: "1 Jan 2025 – 31 Mar 2025".
func (c Chrome) Period() string {
	if c.Filter == nil {
		return ""
	}
	return periodText(c.Filter.Period)
}

// Freshness is the time of the newest data: the latest contribution made, and the latest
// stored. Zero times mean nothing is stored.
type Freshness struct {
	Occurred time.Time `json:"occurred_at"`
	Stored   time.Time `json:"stored_at"`
}

// when shows a time to the minute in UTC; "—" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006 15:04") + " UTC"
}
