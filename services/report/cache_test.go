package report

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report/metrics"
)

// cacheRows returns n upstream commits of one employee on 2025-03-10, numbered from first.
func cacheRows(first, n int) []events.Contribution {
	var cs []events.Contribution
	for i := first; i < first+n; i++ {
		cs = append(cs, events.Contribution{ID: fmt.Sprintf("commit:%d", i), Kind: events.KindCommit,
			OccurredAt: time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC), ActorLogin: "ann", EmployeeID: "e1", Team: "core",
			Repo: "golang/go", RepoOwner: "golang", IsUpstream: true, Destination: "upstream", Source: events.SourceGHArchive, Version: 1})
	}
	return cs
}

// summaryCount asks h for March 2025's summary and returns its contributions.
func summaryCount(t *testing.T, h http.Handler) int64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/metrics/summary?from=2025-03-01&to=2025-03-31", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("summary: %d %s", rec.Code, rec.Body)
	}
	var s metrics.Summary
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	return s.Contributions
}

// An answer is served from the cache until the store writes, and never after: in the same
// process every write of the store counts, whichever part of it wrote.
func TestCacheNeverStaleAfterWrite(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	srv, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if err := st.InsertContributions(ctx, cacheRows(0, 3)); err != nil {
		t.Fatal(err)
	}
	if n := summaryCount(t, h); n != 3 {
		t.Fatalf("%d contributions, want 3", n)
	}
	hits := srv.cache.hits.Load()
	if n := summaryCount(t, h); n != 3 || srv.cache.hits.Load() == hits {
		t.Fatalf("second ask: %d contributions, %d hits before and %d after; want 3 from the cache", n, hits, srv.cache.hits.Load())
	}
	for i := range 3 {
		if err := st.InsertContributions(ctx, cacheRows(100+i, 1)); err != nil {
			t.Fatal(err)
		}
		if n, want := summaryCount(t, h), int64(4+i); n != want {
			t.Fatalf("after write %d: %d contributions, want %d: a stale answer was served", i+1, n, want)
		}
	}
	// A write through another Store on the same connection counts too.
	if err := store.New(st.Conn()).InsertContributions(ctx, cacheRows(200, 1)); err != nil {
		t.Fatal(err)
	}
	if n := summaryCount(t, h); n != 7 {
		t.Fatalf("after a write through another Store: %d contributions, want 7", n)
	}
}

// otherWriter opens a connection of its own to st's database, as another process would: its
// writes are not counted by st.
func otherWriter(t *testing.T, st *store.Store) store.Conn {
	t.Helper()
	res, err := st.Query(context.Background(), "SELECT currentDatabase()", nil)
	if err != nil {
		t.Fatal(err)
	}
	dsn := os.Getenv("GIVEBACK_TEST_CLICKHOUSE_DSN")
	if dsn == "" {
		dsn = "chdb://" + filepath.Join(os.TempDir(), fmt.Sprintf("giveback-test-chdb-%d", os.Getpid())) // testkit.Store's
	}
	conn, err := store.Open(context.Background(), store.Options{DSN: dsn, Database: store.AsString(res.Rows[0][0])})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// A report service of its own drops its answers when enrich, elsewhere, announces a stored
// contribution on NATS (FollowChanges).
func TestCacheFollowsEnrichedSubject(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	_, nc, _ := testkit.NATS(t)
	srv, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	subs, err := srv.FollowChanges(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
	})
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := summaryCount(t, h); n != 0 {
		t.Fatalf("%d contributions, want none", n)
	}
	other := store.New(otherWriter(t, st))
	if err := other.InsertContributions(ctx, cacheRows(0, 2)); err != nil {
		t.Fatal(err)
	}
	if n := summaryCount(t, h); n != 0 {
		t.Fatalf("before the announcement: %d contributions, want the cached 0 (the write was not seen)", n)
	}
	changes := srv.cache.changes.Load()
	if err := nc.Publish(events.SubjectContribution, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); srv.cache.changes.Load() == changes; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the announcement did not reach the cache")
		}
	}
	if n := summaryCount(t, h); n != 2 {
		t.Fatalf("after the announcement: %d contributions, want 2", n)
	}
}

// Identical statements missing at once run once; the cache keeps no more answers than its
// bound, and users' own statements (readonly) are never kept.
func TestCacheSingleFlightAndBound(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	if err := st.InsertContributions(ctx, cacheRows(0, 5)); err != nil {
		t.Fatal(err)
	}
	c := newCache(st.Generation, 3, 0, time.Now)
	var mu sync.Mutex
	runs := 0
	gate := make(chan struct{})
	next := func(ctx context.Context) (*store.Result, error) {
		mu.Lock()
		runs++
		mu.Unlock()
		<-gate
		return st.Query(ctx, "SELECT count() FROM contributions FINAL", metrics.Settings)
	}
	const callers = 8
	var wg sync.WaitGroup
	results := make([]*store.Result, callers)
	for i := range callers {
		wg.Go(func() {
			res, err := c.read(ctx, "SELECT count() FROM contributions FINAL", metrics.Settings, next)
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	for c.misses.Load() < callers {
		time.Sleep(time.Millisecond)
	}
	close(gate)
	wg.Wait()
	if runs != 1 {
		t.Fatalf("%d callers missing at once ran the statement %d times, want once", callers, runs)
	}
	for _, r := range results {
		if r == nil || store.AsInt(r.Rows[0][0]) != 5 {
			t.Fatalf("results %v, want 5 for every caller", results)
		}
	}
	for i := range 10 {
		q := fmt.Sprintf("SELECT %d", i)
		if _, err := c.read(ctx, q, metrics.Settings, func(ctx context.Context) (*store.Result, error) { return st.Query(ctx, q, nil) }); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.len(); n != 3 {
		t.Fatalf("%d answers kept, want the bound, 3", n)
	}
	before := c.len()
	readonly := store.Settings{"readonly": 2}
	if _, err := c.read(ctx, "SELECT 42", readonly, func(ctx context.Context) (*store.Result, error) { return st.Query(ctx, "SELECT 42", readonly) }); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.get(settingsKey(readonly)+"SELECT 42", c.stamp()); ok || c.len() != before {
		t.Fatal("a statement with a readonly setting (a user's own) was kept")
	}
}

// After new data, Prewarm computes the main pages and each team's page with their default filter
// once the writes stop, so their next viewer is answered from the cache alone: no statement runs
// for the page.
func TestPrewarmServesPagesFromCacheAfterWrite(t *testing.T) {
	st := testkit.Store(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := func() time.Time { return time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC) }
	srv, err := New(Options{Store: st, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	done := make(chan struct{})
	go func() { defer close(done); srv.Prewarm(ctx, 10*time.Millisecond, 50*time.Millisecond) }()
	defer func() { cancel(); <-done }()

	// waitPass waits for a pass of Prewarm that began after the writes so far.
	waitPass := func() {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for p := srv.cache.prewarmed.Load(); p == nil || *p != srv.cache.stamp(); p = srv.cache.prewarmed.Load() {
			if time.Now().After(deadline) {
				t.Fatal("no prewarm pass after the write within a minute")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for i, rows := range [][]events.Contribution{cacheRows(0, 3), cacheRows(100, 2)} {
		if err := st.InsertContributions(context.Background(), rows); err != nil {
			t.Fatal(err)
		}
		waitPass()
		for _, path := range []string{"/", "/teams", "/projects", "/community", "/teams/core"} {
			misses := srv.cache.misses.Load()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("write %d, %s: %d %s", i+1, path, rec.Code, rec.Body)
			}
			if m := srv.cache.misses.Load() - misses; m != 0 {
				t.Errorf("write %d, %s: %d statements missed the cache after prewarming, want none", i+1, path, m)
			}
		}
	}
}

// A pass of Prewarm that sees the data change ends before its next team page and says it did
// not finish, so that the next pass starts from the main pages.
func TestPrewarmEndsWhenTheDataChanges(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC) }
	srv, err := New(Options{Store: st, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InsertContributions(ctx, cacheRows(0, 3)); err != nil {
		t.Fatal(err)
	}
	if n, complete := srv.PrewarmPass(ctx); !complete || n != 5 {
		t.Fatalf("a pass over unchanged data: %d pages, complete %v; want the 4 main pages and 1 team page, complete", n, complete)
	}
	before := srv.cache.stamp()
	if err := st.InsertContributions(ctx, cacheRows(100, 2)); err != nil {
		t.Fatal(err)
	}
	if n, complete := srv.prewarm(ctx, before); complete || n != 4 {
		t.Fatalf("a pass begun before a write: %d pages, complete %v; want the 4 main pages, not complete", n, complete)
	}
	misses := srv.cache.misses.Load()
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/teams/core", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/teams/core: %d %s", rec.Code, rec.Body)
	}
	if srv.cache.misses.Load() == misses {
		t.Fatal("the team page was computed by a pass whose data had changed")
	}
}
