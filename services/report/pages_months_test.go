package report

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// Every statement of a page reads one list of the months rolled up, read once for the request:
// the teams of the filter bar and the page's own metrics alike.
func TestPageReadsTheMonthsRolledUpOnce(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	if err := st.InsertContributions(ctx, cacheRows(0, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	var lists atomic.Int64
	counted := st.ReadThrough(func(ctx context.Context, q string, s store.Settings, next func(context.Context) (*store.Result, error)) (*store.Result, error) {
		if q == store.RollupMonthsSQL {
			lists.Add(1)
		}
		return next(ctx)
	})
	now := func() time.Time { return time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC) }
	srv, err := New(Options{Store: counted, Now: now, CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/teams", "/teams/core", "/projects", "/community"} {
		lists.Store(0)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		if n := lists.Load(); n != 1 {
			t.Errorf("%s read the months rolled up %d times, want once", path, n)
		}
	}
}
