// Package report is Giveback's read side over HTTP: the dashboard, the versioned JSON API of the
// "give back" metrics and the ad hoc read-only SQL endpoint. It reads ClickHouse only; the
// metric statements live in report/metrics, the SQL guard in report/query, the page in report/web.
//
// Routes (Handler):
//
//	GET       /                              the overview (HTML), and the other pages:
//	GET       /teams, /teams/{team}          every team, one team
//	GET       /projects                      the upstream projects and the dependencies
//	GET       /projects/{owner}/{name}       one project
//	GET       /community                     the community inflow
//	GET       /people                        each employee's upstream record (never the opted-out)
//	GET       /api/v1/metrics/summary        totals for the period
//	GET       /api/v1/metrics/contributions  contributions by kind and month
//	GET       /api/v1/metrics/contributors   active contributors per month
//	GET       /api/v1/metrics/repos          repositories reached, and the top ones
//	GET       /api/v1/metrics/acceptance     pull request acceptance ratio per month
//	GET       /api/v1/metrics/responsiveness time to first response of pull requests per month
//	GET       /api/v1/metrics/cycle          the company's dependencies against its contributions to them
//	GET       /api/v1/metrics/community      the community inflow: outside contributors to the company's
//	                                         own open source, new and returning, their organizations
//	GET       /api/v1/metrics/influence      the company's share of one project's activity and its
//	                                         Elephant Factor (?repo=owner/name)
//	GET       /api/v1/metrics/newcomers      new and returning upstream contributors
//	GET       /api/v1/metrics/reach          upstream organizations and foundations reached
//	GET       /api/v1/metrics/projects       per project: contributions, acceptance, time to merge, share,
//	                                         Elephant Factor, maintainer seats, activity trend
//	GET       /api/v1/metrics/risks          dependencies with weak health that nobody of the company works in
//	GET       /api/v1/metrics/seats          maintainer seats: employees who approve or merge others' work
//	GET       /api/v1/metrics/departures     the seats of people whose roster end date is set (Options.Roster)
//	GET       /api/v1/people                 each employee's upstream record (never the opted-out)
//	GET       /api/v1/teams                  teams found in the data
//	GET       /api/v1/identities/unmatched   company-looking identities not on the roster
//	GET       /identities                    the same as a page, with how to resolve them
//	GET, POST /api/v1/query                  ad hoc read-only SQL (json or csv)
//	GET       /api/v1/sources                state of the collection (Options.Sources)
//	GET       /sources                       the same as a page, with the NATS streams' backlog
//	GET       /docs/METRICS.md               the metric definitions (METRICS.md) as a page, which
//	                                         the pages and the scheduled reports link to
//	GET       /reports                       the scheduled reports (Options.Reports): state, overdue, archive
//	GET       /reports/{name}/{period}       one archived report with its delivery attempts (?format=pdf…)
//	GET       /api/v1/reports                the same as JSON
//	GET       /api/v1/reports/{name}/{period} one archived report: numbers, hash, delivery attempts
//	POST      /api/v1/reports/{name}/run     run a report now (JSON {period, delivery, force})
//	POST      /reports/{name}/{period}/send  the page's "Send again" of one delivery (form delivery=NAME)
//	GET       /live                          contributions as they arrive (Options.Live), and its script /live.js
//	GET       /api/v1/live                   the same as server-sent events
//	GET       /query                         the SQL console: editor, schema, examples, saved queries
//	GET, POST /api/v1/saved-queries          the saved queries; save one (JSON)
//	DELETE    /api/v1/saved-queries/{name}   delete one; run one with GET /api/v1/query?saved=NAME&param_x=…
//	POST      /query/saved                   the console's "Save" form (name, description, sql, default_NAME)
//	POST      /query/saved/{name}/delete     a saved query's "Delete" button
//
// The service does not serve /healthz, /readyz, /metrics or the webhook; whoever mounts Handler
// does, and can use Ready for /readyz. Nor does it authenticate: whoever mounts Handler puts it
// behind platform/auth's Guard, whose table must list every pattern of Routes.
package report

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/config"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/services/report/reports"
	"giveback.dev/services/report/web"
)

// Options configure the Server.
type Options struct {
	// Store is the ClickHouse store read by every route but /sources; nil serves only /sources
	// and the routes' list (Routes).
	Store *store.Store
	// Log receives the service's logs; nil discards them.
	Log *slog.Logger
	// Company is shown in the dashboard's header.
	Company string
	// Query limits the ad hoc SQL endpoint (see query.Settings); zero fields take the defaults.
	Query config.Query
	// TopRepos is how many repositories the dashboard lists; 0 means 10.
	TopRepos int
	// Now is the clock that sets the default period; nil means time.Now.
	Now func() time.Time
	// Sources are the buckets ingest writes (OpenSources), read by /sources; without them it
	// answers 503 there.
	Sources SourceBuckets
	// Affiliations are the organizations of actors other than employees, for the Elephant
	// Factor of /api/v1/metrics/influence (LoadAffiliations); nil leaves them all unaffiliated.
	Affiliations *Affiliations
	// Roster returns the current roster, for the departures (end dates) and for keeping the
	// opted-out out of /api/v1/people; nil, or a nil roster, knows no end date and no opt-out.
	Roster func() *roster.Roster
	// Live is the JetStream context the live feed (/live, /api/v1/live) and the streams' backlog
	// of /sources read; nil answers 503 on the live routes and leaves the backlog out.
	Live jetstream.JetStream
	// Privacy decides, with the caller's role, whether the live feed names people.
	Privacy config.Privacy
	// CacheEntries bounds the result cache of the metric statements (cache.go); 0 means
	// DefaultCacheEntries, a negative number turns the cache off, and with it the page cache
	// (pagecache.go), which keeps the pages as rendered under the same rule.
	CacheEntries int
	// CacheMaxAge is how long a cached answer may be served at most; 0 means DefaultCacheMaxAge.
	CacheMaxAge time.Duration
	// PageStaleness is how long after its rendering began a page computed from older data may
	// still be served, while one render in the background brings it up to date (pagecache.go);
	// 0 serves a page only while the data it was computed from is unchanged. At most the cache's
	// maximum age.
	PageStaleness time.Duration
	// Prewarm makes Run keep the default views of the overview, teams, projects and community
	// pages in the result cache after every change of the data (Server.Prewarm).
	Prewarm bool
	// Reports is the scheduled reports service (reports.NewService), read by /reports and the
	// reports API; nil shows no report.
	Reports *reports.Service
}

// Server serves the report routes from a store.
type Server struct {
	st   *store.Store
	opts Options
	log  *slog.Logger
	live *liveHub // nil without Options.Live
	// cache keeps the metric statements' answers (cache.go); nil when off.
	cache *cache
	// pages keeps the metric pages as rendered (pagecache.go); nil when the cache is off.
	pages *pageCache
	// navOnce fills navItems, the pages' navigation, from Routes on first use.
	navOnce  sync.Once
	navItems []web.NavItem
}

// New returns a Server configured by opts.
func New(opts Options) (*Server, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Company == "" {
		opts.Company = config.Default().Company.Name
	}
	if opts.TopRepos <= 0 {
		opts.TopRepos = 10
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{st: opts.Store, opts: opts, log: log.With(slog.String("component", "report"))}
	if opts.Store != nil && opts.CacheEntries >= 0 {
		s.cache = newCache(opts.Store.Generation, opts.CacheEntries, opts.CacheMaxAge, time.Now)
		s.st = opts.Store.ReadThrough(s.cache.read)
		s.pages = newPageCache(s.cache, pageCacheBytes, opts.PageStaleness)
	}
	if opts.Live != nil {
		s.live = newLiveHub(opts.Live, s.log)
	}
	return s, nil
}

// Handler returns the routes listed in the package documentation.
func (s *Server) Handler() http.Handler {
	h, _ := s.routes()
	return h
}

// Routes returns the patterns Handler serves, as registered on its http.ServeMux: each must be
// in the authorisation table (auth.Table) for anyone to reach it.
func (s *Server) Routes() []string {
	_, patterns := s.routes()
	return patterns
}

// patternMux is an http.ServeMux that remembers its patterns.
type patternMux struct {
	*http.ServeMux
	patterns []string
}

func (m *patternMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func (m *patternMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (s *Server) routes() (http.Handler, []string) {
	mux := &patternMux{ServeMux: http.NewServeMux()}
	mux.HandleFunc("GET /{$}", s.cachedPage(s.dashboard))
	mux.HandleFunc("GET /teams", s.cachedPage(s.teamsPage))
	mux.HandleFunc("GET /teams/{team}", s.cachedPage(s.teamPage))
	mux.HandleFunc("GET /projects", s.cachedPage(s.projectsPage))
	mux.HandleFunc("GET /projects/{owner}/{name}", s.cachedPage(s.projectPage))
	mux.HandleFunc("GET /community", s.cachedPage(s.communityPage))
	mux.HandleFunc("GET /people", s.cachedPage(s.peoplePage))
	mux.HandleFunc("GET /api/v1/metrics/summary", s.summary)
	mux.HandleFunc("GET /api/v1/metrics/contributions", s.contributions)
	mux.HandleFunc("GET /api/v1/metrics/contributors", s.contributors)
	mux.HandleFunc("GET /api/v1/metrics/repos", s.repos)
	mux.HandleFunc("GET /api/v1/metrics/acceptance", s.acceptance)
	mux.HandleFunc("GET /api/v1/metrics/responsiveness", s.responsiveness)
	mux.HandleFunc("GET /api/v1/metrics/cycle", s.cycle)
	mux.HandleFunc("GET /api/v1/metrics/community", s.community)
	mux.HandleFunc("GET /api/v1/metrics/influence", s.influence)
	mux.HandleFunc("GET /api/v1/metrics/newcomers", s.newcomers)
	mux.HandleFunc("GET /api/v1/metrics/reach", s.reach)
	mux.HandleFunc("GET /api/v1/metrics/projects", s.projectsAPI)
	mux.HandleFunc("GET /api/v1/metrics/risks", s.risks)
	mux.HandleFunc("GET /api/v1/metrics/seats", s.seats)
	mux.HandleFunc("GET /api/v1/metrics/departures", s.departures)
	mux.HandleFunc("GET /api/v1/people", s.people)
	mux.HandleFunc("GET /api/v1/teams", s.teams)
	mux.HandleFunc("GET /api/v1/identities/unmatched", s.unmatched)
	mux.HandleFunc("GET /identities", s.identitiesPage)
	mux.HandleFunc("GET /api/v1/query", s.query)
	mux.HandleFunc("POST /api/v1/query", s.query)
	mux.HandleFunc("GET /api/v1/sources", s.sourcesAPI)
	mux.HandleFunc("GET /sources", s.sourcesPage)
	mux.HandleFunc("GET /docs/METRICS.md", s.definitions)
	mux.HandleFunc("GET /live", s.livePage)
	mux.HandleFunc("GET /live.js", s.liveScript)
	mux.HandleFunc("GET /api/v1/live", s.liveAPI)
	mux.HandleFunc("GET /query", s.consolePage)
	mux.HandleFunc("GET /api/v1/saved-queries", s.savedList)
	mux.HandleFunc("POST /api/v1/saved-queries", s.savedCreate)
	mux.HandleFunc("DELETE /api/v1/saved-queries/{name}", s.savedDelete)
	mux.HandleFunc("POST /query/saved", s.savedFormCreate)
	mux.HandleFunc("POST /query/saved/{name}/delete", s.savedFormDelete)
	mux.HandleFunc("GET /reports", s.reportsList)
	mux.HandleFunc("GET /reports/{name}/{period}", s.reportPage)
	mux.HandleFunc("GET /api/v1/reports", s.reportsAPI)
	mux.HandleFunc("GET /api/v1/reports/{name}/{period}", s.reportAPI)
	mux.HandleFunc("POST /api/v1/reports/{name}/run", s.runReport)
	mux.HandleFunc("POST /reports/{name}/{period}/send", s.resendReport)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "", fmt.Errorf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return mux.ServeMux, mux.patterns
}

// Ready reports whether ClickHouse answers a query.
func (s *Server) Ready(ctx context.Context) error {
	if _, err := s.opts.Store.Query(ctx, "SELECT 1", nil); err != nil { // never from the cache
		return fmt.Errorf("report: ready: %w", err)
	}
	return nil
}
