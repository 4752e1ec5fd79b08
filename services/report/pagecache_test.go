package report

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// A rendered page is served again only while everything it was computed from is unchanged: the
// data (a write, or a change announced from elsewhere), the day and the roster. Whatever the
// page cache serves equals what a server without any cache renders at that moment.
func TestPageCacheServesOnlyWhatWouldBeRendered(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	now := time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC)
	ro := &roster.Roster{Periods: []roster.Period{{EmployeeID: "e1", Team: "core"}}}
	opts := Options{Store: st, Company: "Acme", Now: func() time.Time { return now }, Roster: func() *roster.Roster { return ro }}
	cached, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.CacheEntries = -1
	plain, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if plain.pages != nil {
		t.Fatal("a server without the result cache has a page cache")
	}
	h, want := cached.Handler(), plain.Handler()
	if err := st.InsertContributions(ctx, cacheRows(0, 3)); err != nil {
		t.Fatal(err)
	}
	paths := []string{"/?from=2025-03-01&to=2025-03-31", "/teams", "/teams/core", "/projects", "/projects/golang/go", "/community", "/people"}
	get := func(h http.Handler, path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if ct := rec.Header().Get("Content-Security-Policy"); rec.Code == http.StatusOK && ct != pageCSP {
			t.Fatalf("%s: Content-Security-Policy %q, want the pages' own", path, ct)
		}
		return rec.Code, rec.Body.String()
	}
	// check asks for every page twice: the first answer is rendered (a miss), the second is the
	// kept page, and both equal the page the server without cache renders.
	check := func(step string) {
		t.Helper()
		for _, path := range paths {
			misses := cached.pages.misses.Load()
			code, got := get(h, path)
			if code != http.StatusOK {
				t.Fatalf("%s, %s: %d %s", step, path, code, got)
			}
			if cached.pages.misses.Load() != misses+1 {
				t.Errorf("%s, %s: served a page kept from before", step, path)
			}
			_, fresh := get(want, path)
			if got != fresh {
				t.Errorf("%s, %s: the page differs from the one rendered without cache", step, path)
			}
			hits, statements := cached.pages.hits.Load(), cached.cache.hits.Load()+cached.cache.misses.Load()
			if _, again := get(h, path); again != fresh {
				t.Errorf("%s, %s: the kept page differs from the one rendered without cache", step, path)
			}
			if cached.pages.hits.Load() != hits+1 || cached.cache.hits.Load()+cached.cache.misses.Load() != statements {
				t.Errorf("%s, %s: asked again, the page was rendered again", step, path)
			}
		}
	}
	check("first visit")
	if err := st.InsertContributions(ctx, cacheRows(100, 1)); err != nil {
		t.Fatal(err)
	}
	check("after a write")
	cached.StoreChanged()
	check("after a change announced from elsewhere")
	ro = &roster.Roster{Periods: []roster.Period{{EmployeeID: "e1", Team: "core", End: now.Add(-time.Hour)}}}
	check("after the roster changed")
	now = now.Add(24 * time.Hour)
	check("on the next day")

	// A page that could not be computed is not kept.
	for range 2 {
		misses := cached.pages.misses.Load()
		if code, _ := get(h, "/?from=someday"); code != http.StatusBadRequest {
			t.Fatalf("a bad filter: %d, want 400", code)
		}
		if cached.pages.misses.Load() != misses+1 {
			t.Fatal("a page answered 400 was kept")
		}
	}
}

// The bytes of the kept pages stay within the bound, the least recently used dropped first.
func TestPageCacheBound(t *testing.T) {
	results := newCache(func() uint64 { return 7 }, 0, time.Minute, time.Now)
	p := newPageCache(results, 1000, 0)
	st := results.stamp()
	body := make([]byte, 100)
	for i := range 30 {
		p.put(string(rune('a'+i)), st, time.Now(), http.Header{}, body)
		if p.pages.size > p.pages.max {
			t.Fatalf("after %d pages: %d bytes kept, bound %d", i+1, p.pages.size, p.pages.max)
		}
	}
	if n := p.len(); n != 10 {
		t.Fatalf("%d pages kept, want 10", n)
	}
	if _, ok := p.get("a", st); ok {
		t.Fatal("the least recently used page is still kept")
	}
	if _, ok := p.get(string(rune('a'+29)), st); !ok {
		t.Fatal("the newest page was dropped")
	}
	p.put("big", st, time.Now(), http.Header{}, make([]byte, 200))
	if _, ok := p.get("big", st); ok {
		t.Fatal("a page over an eighth of the bound was kept")
	}
}

// While data arrives, a page rendered from older data is served for at most PageStaleness after
// its rendering began, and one render in the background replaces it with the page of the data as
// it is; a hard reload (Cache-Control: no-cache) and a page older than the bound are rendered for
// their request.
func TestPageCacheServesOlderPageWhileDataArrives(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	cached, plain, clock := staleServers(t, st)
	h, want := cached.Handler(), plain.Handler()
	const path = "/?from=2025-03-01&to=2025-03-31"
	get := func(h http.Handler, header ...string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	counts := func() [3]uint64 {
		return [3]uint64{cached.pages.hits.Load(), cached.pages.stale.Load(), cached.pages.misses.Load()}
	}
	// settled waits until the page kept is the one of the data as it is.
	settled := func() {
		t.Helper()
		awaitRender(t, cached, path, time.Minute)
	}
	write := func(at int) {
		t.Helper()
		if err := st.InsertContributions(ctx, cacheRows(at, 1)); err != nil {
			t.Fatal(err)
		}
	}

	write(0)
	first := get(h)
	if first != get(want) {
		t.Fatal("the first page differs from the one rendered without cache")
	}
	write(100)
	newer := get(want)
	if newer == first {
		t.Fatal("the fixture's write does not change the page; the test would show nothing")
	}
	rendering := func() int {
		cached.pages.mu.Lock()
		defer cached.pages.mu.Unlock()
		return len(cached.pages.refreshing)
	}
	// Younger than half the bound, the page kept is served and not rendered again.
	*clock = clock.Add(time.Second)
	before := counts()
	if got := get(h); got != first {
		t.Fatal("after a write, within the bound: not the page kept from before")
	}
	if c := counts(); c[1] != before[1]+1 || c[2] != before[2] {
		t.Fatalf("after a write: hits, stale, misses %v then %v; want one stale", before, c)
	}
	if n := rendering(); n != 0 {
		t.Fatalf("a page younger than half the bound: %d renders in the background, want none", n)
	}
	// From half the bound on, it is served and rendered again in the background.
	*clock = clock.Add(4 * time.Second)
	if got := get(h); got != first {
		t.Fatal("after a write, at half the bound: not the page kept from before")
	}
	settled()
	before = counts()
	if got := get(h); got != newer {
		t.Fatal("after the render in the background: not the page of the data as it is")
	}
	if c := counts(); c[0] != before[0]+1 {
		t.Fatalf("after the render in the background: hits, stale, misses %v then %v; want one hit", before, c)
	}

	// A hard reload is rendered from the data as it is.
	for i, header := range []string{"Cache-Control", "Pragma"} {
		write(200 + 100*i)
		before = counts()
		if got := get(h, header, "no-cache"); got != get(want) {
			t.Fatalf("%s: no-cache: not the page of the data as it is", header)
		}
		if c := counts(); c[2] != before[2]+1 {
			t.Fatalf("%s: no-cache: hits, stale, misses %v then %v; want one miss", header, before, c)
		}
	}

	// Beyond the bound, counted from when the kept page's rendering began, a page from older
	// data is not served.
	write(400)
	*clock = clock.Add(10*time.Second + time.Millisecond)
	before = counts()
	if got := get(h); got != get(want) {
		t.Fatal("beyond the bound: not the page of the data as it is")
	}
	if c := counts(); c[2] != before[2]+1 {
		t.Fatalf("beyond the bound: hits, stale, misses %v then %v; want one miss", before, c)
	}

	// After Close nothing is rendered in the background: the kept page stays as it was.
	write(500)
	cached.Close()
	*clock = clock.Add(6 * time.Second)
	if got := get(h); got == get(want) {
		t.Fatal("after Close: served the page of the data as it is; want the one kept from before")
	}
	var rendered atomic.Int32
	for i := range 20 {
		cached.pages.refresh(fmt.Sprint("after close ", i), path, nil, func(http.ResponseWriter, *http.Request) { rendered.Add(1) })
	}
	cached.pages.wg.Wait()
	if n := rendered.Load(); n != 0 || rendering() != 0 {
		t.Fatalf("after Close: %d pages rendered in the background", n)
	}
}

// A page rendered from older data never replaces one rendered from newer data, whichever of the
// two renders ends last.
func TestPageCacheKeepsTheNewerPage(t *testing.T) {
	results := newCache(func() uint64 { return 7 }, 0, time.Minute, time.Now)
	p := newPageCache(results, 1<<20, 10*time.Second)
	st := results.stamp()
	t0 := time.Now()
	p.put("/", st, t0.Add(time.Second), http.Header{}, []byte("newer"))
	p.put("/", st, t0, http.Header{}, []byte("older"))
	if e, ok := p.get("/", st); !ok || string(e.body) != "newer" {
		t.Fatalf("kept %q, want the newer page", e.body)
	}
}

// The pages of one team and of one project, served from older data, are rendered again in the
// background as their viewers' requests ask: with the team or project of the path, which a
// request made from the URI alone does not carry.
func TestPageCacheRendersRoutedPagesAgain(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	cached, plain, clock := staleServers(t, st)
	h, want := cached.Handler(), plain.Handler()
	get := func(h http.Handler, path string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	if err := st.InsertContributions(ctx, cacheRows(0, 1)); err != nil {
		t.Fatal(err)
	}
	for i, path := range []string{"/teams/core?from=2025-03-01&to=2025-03-31", "/projects/golang/go?from=2025-03-01&to=2025-03-31"} {
		first := get(h, path)
		if err := st.InsertContributions(ctx, cacheRows(100*(i+1), 1)); err != nil {
			t.Fatal(err)
		}
		newer := get(want, path)
		if newer == first {
			t.Fatalf("%s: the fixture's write does not change the page; the test would show nothing", path)
		}
		*clock = clock.Add(5 * time.Second)
		if got := get(h, path); got != first {
			t.Fatalf("%s: at half the bound: not the page kept from before", path)
		}
		awaitRender(t, cached, path, 20*time.Second)
		if got := get(h, path); got != newer {
			t.Fatalf("%s: after the render in the background: not the page of the data as it is", path)
		}
	}
}

// staleServers returns, over st with e1 in team core on 31 March 2025, a server with the caches
// and a page staleness of 10 s, whose caches read the time from *clock, and the same server
// without cache. The cached one is closed when the test ends.
func staleServers(t *testing.T, st *store.Store) (cached, plain *Server, clock *time.Time) {
	t.Helper()
	ro := &roster.Roster{Periods: []roster.Period{{EmployeeID: "e1", Team: "core"}}}
	opts := Options{Store: st, Company: "Acme", Now: func() time.Time { return time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC) },
		Roster: func() *roster.Roster { return ro }, PageStaleness: 10 * time.Second}
	cached, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cached.Close)
	now := time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC)
	clock = &now
	tick := func() time.Time { return *clock }
	cached.cache.now, cached.pages.pages.now = tick, tick
	opts.CacheEntries = -1
	if plain, err = New(opts); err != nil {
		t.Fatal(err)
	}
	return cached, plain, clock
}

// awaitRender waits, for at most within, until the page s keeps for path is the one of the data
// as it is: rendered again in the background.
func awaitRender(t *testing.T, s *Server, path string, within time.Duration) {
	t.Helper()
	key := s.pageKey(httptest.NewRequest(http.MethodGet, path, nil))
	for deadline := time.Now().Add(within); ; time.Sleep(5 * time.Millisecond) {
		if _, ok := s.pages.get(key, s.cache.stamp()); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not rendered again in the background within %s", path, within)
		}
	}
}
