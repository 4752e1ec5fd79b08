package report

import (
	"bytes"
	"fmt"
	"net/http"
	"sync/atomic"
)

// The page cache: the metric pages as rendered, kept beside the result cache (cache.go) and
// under its rule, so that a page is served only while the data it was computed from is unchanged
// (the same stamp) and for at most the cache's maximum age. The result cache spares ClickHouse;
// this spares the rest of a page's cost, which under many viewers is most of it: turning rows
// into figures, drawing the charts and executing the templates. A page is the same for every
// caller allowed to see it (nothing in it depends on who asks), so its key is what it is
// computed from besides the data: the path and query, the day (the default period ends today)
// and the roster (departures read its end dates).

// pageCacheBytes bounds the bytes of the pages kept.
const pageCacheBytes = 32 << 20

// pageCache keeps rendered pages, least recently used dropped first.
type pageCache struct {
	results *cache               // the stamp
	pages   *stamped[*pageEntry] // costed by their bytes

	hits, misses atomic.Uint64
}

type pageEntry struct {
	header http.Header
	body   []byte
}

func newPageCache(results *cache, maxBytes int) *pageCache {
	size := func(e *pageEntry) int { return len(e.body) }
	return &pageCache{results: results, pages: newStamped(maxBytes, size, results.maxAge, results.now)}
}

// cachedPage serves the page h renders from the page cache, rendering it on a miss; without the
// cache it is h.
func (s *Server) cachedPage(h http.HandlerFunc) http.HandlerFunc {
	if s.pages == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		key := s.pageKey(r)
		st := s.pages.results.stamp()
		if e, ok := s.pages.get(key, st); ok {
			s.pages.hits.Add(1)
			for k, v := range e.header {
				w.Header()[k] = v
			}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(e.body)
			return
		}
		s.pages.misses.Add(1)
		rec := &pageRecorder{ResponseWriter: w}
		h(rec, r)
		if rec.status == http.StatusOK {
			s.pages.put(key, st, rec.Header().Clone(), rec.body.Bytes())
		}
	}
}

// pageKey is what a page is computed from besides the data.
func (s *Server) pageKey(r *http.Request) string {
	return fmt.Sprintf("%s?%s\x00%s\x00%p", r.URL.Path, r.URL.RawQuery, day(s.opts.Now()), s.roster())
}

// get returns the page kept under key, computed at stamp st, unless it is older than the
// result cache's maximum age.
func (p *pageCache) get(key string, st stamp) (*pageEntry, bool) { return p.pages.get(key, st) }

// put keeps a page rendered from the data at stamp st, unless the data changed meanwhile or the
// page alone is over an eighth of the bound, and drops the least recently used pages beyond it.
func (p *pageCache) put(key string, st stamp, header http.Header, body []byte) {
	if len(body) > p.pages.max/8 || p.results.stamp() != st {
		return
	}
	p.pages.put(key, st, &pageEntry{header: header, body: body})
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
