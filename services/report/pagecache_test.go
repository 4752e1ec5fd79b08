package report

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"giveback.dev/platform/roster"
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
	p := newPageCache(results, 1000)
	st := results.stamp()
	body := make([]byte, 100)
	for i := range 30 {
		p.put(string(rune('a'+i)), st, http.Header{}, body)
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
	p.put("big", st, http.Header{}, make([]byte, 200))
	if _, ok := p.get("big", st); ok {
		t.Fatal("a page over an eighth of the bound was kept")
	}
}
