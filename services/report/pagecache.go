package report

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The page cache: the metric pages as rendered, kept beside the result cache (cache.go) and
// under its rule, so that a page is served only while the data it was computed from is unchanged
// (the same stamp) and for at most the cache's maximum age. The result cache spares ClickHouse;
// this spares the rest of a page's cost, which under many viewers is most of it: turning rows
// into figures, drawing the charts and executing the templates. A page is the same for every
// caller allowed to see it (nothing in it depends on who asks), so its key is what it is
// computed from besides the data: the path and query, the day (the default period ends today)
// and the roster (departures read its end dates).

// While data arrives (a webhook stream, a backfill), every write changes the stamp, and a page
// that takes longer to compute than the time between two writes would never be served from the
// cache again. With a staleness bound (Options.PageStaleness), a page rendered from older data is
// served for that long after its rendering began, while one render in the background brings it
// up to date; the page shows the time of its newest data, so a viewer sees how old it is. It is
// rendered again once it is half that old, not before: while data arrives without pause every
// page kept would otherwise be rendered over and over, as fast as the engine allows, and the
// renders would take the cores from the requests that must wait. A
// request that asks for a fresh copy (Cache-Control or Pragma no-cache: a browser's hard reload)
// is answered from the data as it is.

// pageCacheBytes bounds the bytes of the pages kept.
const pageCacheBytes = 32 << 20

// pageRenders bounds the pages rendered in the background at once, to bring stale pages up to
// date; the others wait their turn.
const pageRenders = 2

// pageCache keeps rendered pages, least recently used dropped first.
type pageCache struct {
	results  *cache               // the stamp
	pages    *stamped[*pageEntry] // costed by their bytes
	staleFor time.Duration        // how long a page from older data is served; 0: never

	// The renders in the background: at most one per page, pageRenders at once, all ended by
	// close.
	bg         context.Context
	stop       context.CancelFunc
	renders    chan struct{}
	wg         sync.WaitGroup
	mu         sync.Mutex
	refreshing map[string]bool

	hits, stale, misses atomic.Uint64
}

type pageEntry struct {
	header http.Header
	body   []byte
}

func newPageCache(results *cache, maxBytes int, staleFor time.Duration) *pageCache {
	size := func(e *pageEntry) int { return len(e.body) }
	staleFor = min(max(staleFor, 0), results.maxAge)
	bg, stop := context.WithCancel(context.Background())
	return &pageCache{results: results, pages: newStamped(maxBytes, size, results.maxAge, results.now), staleFor: staleFor,
		bg: bg, stop: stop, renders: make(chan struct{}, pageRenders), refreshing: map[string]bool{}}
}

// cachedPage serves the page h renders from the page cache, rendering it on a miss; without the
// cache it is h.
func (s *Server) cachedPage(h http.HandlerFunc) http.HandlerFunc {
	if s.pages == nil {
		return h
	}
	p := s.pages
	return func(w http.ResponseWriter, r *http.Request) {
		key := s.pageKey(r)
		st := p.results.stamp()
		if e, age, fresh, ok := p.pages.lookup(key, st, p.staleness(r)); ok {
			if fresh {
				p.hits.Add(1)
			} else {
				p.stale.Add(1)
				if age >= p.staleFor/2 {
					p.refresh(key, r.URL.RequestURI(), pathValues(r), h)
				}
			}
			for k, v := range e.header {
				w.Header()[k] = v
			}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(e.body)
			return
		}
		p.misses.Add(1)
		at := p.results.now()
		rec := &pageRecorder{ResponseWriter: w}
		h(rec, r)
		if rec.status == http.StatusOK {
			p.put(key, st, at, rec.Header().Clone(), rec.body.Bytes())
		}
	}
}

// staleness is how long after its rendering began a page from older data may answer r.
func (p *pageCache) staleness(r *http.Request) time.Duration {
	for _, h := range []string{"Cache-Control", "Pragma"} {
		for _, v := range r.Header.Values(h) {
			if strings.Contains(strings.ToLower(v), "no-cache") {
				return 0
			}
		}
	}
	return p.staleFor
}

// refresh renders the page at uri again in the background, unless a render of it is under way,
// and keeps it for the next viewers.
func (p *pageCache) refresh(key, uri string, vals map[string]string, h http.HandlerFunc) {
	p.mu.Lock()
	if p.refreshing[key] || p.bg.Err() != nil {
		p.mu.Unlock()
		return
	}
	p.refreshing[key] = true
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		defer func() {
			p.mu.Lock()
			delete(p.refreshing, key)
			p.mu.Unlock()
		}()
		select {
		case p.renders <- struct{}{}:
			defer func() { <-p.renders }()
		case <-p.bg.Done():
			return
		}
		ctx, cancel := context.WithTimeout(p.bg, prewarmPageTimeout)
		defer cancel()
		st, at := p.results.stamp(), p.results.now()
		rec := renderFor(ctx, h, uri, vals)
		if rec.Code == http.StatusOK {
			p.put(key, st, at, rec.Header().Clone(), rec.Body.Bytes())
		}
	}()
}

// renderFor renders the page h serves for GET uri, with the route's wildcards vals, for no
// viewer: ahead of its viewers (prewarm) or again in the background (refresh).
func renderFor(ctx context.Context, h http.HandlerFunc, uri string, vals map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	for name, v := range vals {
		req.SetPathValue(name, v)
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

// pathValues returns the wildcards of the route r matched (its Pattern, such as
// "GET /teams/{team}") with their values, for a render of the same page in the background: a
// request made from the URI alone has none, and the page would not know which team it shows.
func pathValues(r *http.Request) map[string]string {
	var vals map[string]string
	for _, seg := range strings.Split(r.Pattern, "/") {
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
			continue
		}
		name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
		if name == "$" {
			continue
		}
		if vals == nil {
			vals = map[string]string{}
		}
		vals[name] = r.PathValue(name)
	}
	return vals
}

// close ends the renders in the background and waits for them.
func (p *pageCache) close() {
	p.mu.Lock()
	p.stop()
	p.mu.Unlock()
	p.wg.Wait()
}

// pageKey is what a page is computed from besides the data.
func (s *Server) pageKey(r *http.Request) string {
	return fmt.Sprintf("%s?%s\x00%s\x00%p", r.URL.Path, r.URL.RawQuery, day(s.opts.Now()), s.roster())
}

// get returns the page kept under key, computed at stamp st, unless it is older than the
// result cache's maximum age.
func (p *pageCache) get(key string, st stamp) (*pageEntry, bool) { return p.pages.get(key, st) }

// put keeps a page rendered from the data at stamp st, as it was at time at, and drops the least
// recently used pages beyond the bound. It keeps none over an eighth of the bound, and none
// whose data changed meanwhile unless older pages may be served (staleFor): such a page is then
// served only as one from older data.
func (p *pageCache) put(key string, st stamp, at time.Time, header http.Header, body []byte) {
	if len(body) > p.pages.max/8 || (p.staleFor == 0 && p.results.stamp() != st) {
		return
	}
	p.pages.put(key, st, at, &pageEntry{header: header, body: body})
}

// len returns how many pages are kept.
func (p *pageCache) len() int { return p.pages.len() }

// pageRecorder passes a response through and keeps its status and a copy of its body.
type pageRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *pageRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *pageRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
