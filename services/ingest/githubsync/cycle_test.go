package githubsync

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// searchItem returns the first result of the recorded search-issues answer with its
// updated_at set to at, and the recorded answer.
func searchItem(t *testing.T, at string) (json.RawMessage, exchange) {
	t.Helper()
	si := loadScenario(t, "search-issues")
	var found struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(si[0].Response, &found); err != nil {
		t.Fatal(err)
	}
	item := found.Items[0]
	item["updated_at"] = at
	b, err := json.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	return b, si[0]
}

// TestNoChangeCycleIsFree checks the budget of a cycle in which nothing changed. The arithmetic,
// for 1,000 logins: each runs 4 searches (authored, reviewed, commented, commits) whose first
// page, unchanged, is answered 304 because the syncer sends the ETag it kept of that exact
// request — the last one of each search's previous walk, which ends by asking again from the
// cursor it reached. That is 4,000 requests, 1,000 a search kind, none of which GitHub counts
// against the rate limit (conditional requests answered 304 are free), so the cycle costs 0 of
// the 30 searches a minute and 5,000 core requests an hour each token has; with changes, each
// changed search costs its pages plus one, each new pull request one request for its details,
// and each reviewed or commented one a page of reviews or comments. The test runs 50 logins
// and requires 0 counted requests on the second cycle.
func TestNoChangeCycleIsFree(t *testing.T) {
	_, _, js := testkit.NATS(t)
	r := newReplay(t)
	item, si := searchItem(t, recorded)
	one := searchExchange(t, si, 1, item)
	empty := searchExchange(t, si, 0)
	var logins []string
	for i := range 50 {
		login := fmt.Sprintf("login-%02d", i)
		logins = append(logins, login)
		r.add("GET", search("author:"+login, 1), one)
		r.add("GET", search("author:"+login+" updated:>="+recorded, 1), one)
		r.add("GET", search("reviewed-by:"+login+" is:pr", 1), empty)
		r.add("GET", search("commenter:"+login, 1), empty)
		r.add("GET", searchCommits("author:"+login, 1), empty)
	}
	s := newSyncer(t, r, js, logins...)
	if _, err := s.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if counted, _ := r.counts(); counted != 50*5 {
		t.Fatalf("first cycle: %d counted requests, want 250", counted)
	}
	r.reset()
	st, err := s.SyncOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	counted, nm := r.counts()
	if counted != 0 || nm != 50*4 || st.Requests != 0 || st.NotModified != 200 {
		t.Fatalf("second cycle: %d counted requests, %d 304s, stats %+v; want 0 and 200", counted, nm, st)
	}
}

// TestSplitOverCap checks that a search reporting more than GitHub's 1,000 results is split by
// date until each part is under the cap, and the parts walked in order.
func TestSplitOverCap(t *testing.T) {
	_, _, js := testkit.NATS(t)
	r := newReplay(t)
	first, si := searchItem(t, "2024-01-01T12:00:00Z")
	later, _ := searchItem(t, "2024-01-04T00:00:00Z")
	// As GitHub documents it: total_count counts every match, items hold one page, and pages
	// past the 1,000th result are refused.
	over := func(total int) exchange { return searchExchange(t, si, total, first, later) }
	const login = "splitter"
	routes := []struct {
		q string
		x exchange
	}{
		{"updated:>=2024-01-01T00:00:00Z", over(1500)},
		{"updated:2024-01-01T00:00:00Z..2024-01-03T00:00:00Z", over(1200)},
		{"updated:2024-01-01T00:00:00Z..2024-01-02T00:00:00Z", searchExchange(t, si, 1, first)},
		{"updated:2024-01-01T12:00:00Z..2024-01-02T00:00:00Z", searchExchange(t, si, 1, first)},
		{"updated:2024-01-02T00:00:00Z..2024-01-03T00:00:00Z", searchExchange(t, si, 0)},
		{"updated:>=2024-01-03T00:00:00Z", searchExchange(t, si, 1, later)},
		{"updated:>=2024-01-04T00:00:00Z", searchExchange(t, si, 1, later)},
	}
	var want []string
	for _, rt := range routes {
		r.add("GET", search("author:"+login+" "+rt.q, 1), rt.x)
		want = append(want, "author:"+login+" "+rt.q+" page=1")
	}
	s := newSyncer(t, r, js, login)
	s.Searches = []string{SearchAuthor}
	s.Since = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC) }
	st, err := s.SyncOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := r.queries(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("searches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Items != 2 {
		t.Fatalf("stats = %+v", st)
	}
	if got := cursorOf(t, s.KV, login); got != "2024-01-04T00:00:00Z" {
		t.Fatalf("cursor = %q", got)
	}
}

// TestTokens checks that requests go to the token with the most left of its rate limit, and
// that when every token is used up the syncer waits for the first reset.
func TestTokens(t *testing.T) {
	item, si := searchItem(t, recorded)
	setup := func(t *testing.T, limits map[string]func(n int) (remaining int, reset time.Duration)) (*replay, *Syncer, *[]time.Duration) {
		_, _, js := testkit.NATS(t)
		r := newReplay(t)
		var mu sync.Mutex
		served := map[string]int{}
		r.headers = func(req *http.Request, h http.Header) {
			tok := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
			mu.Lock()
			served[tok]++
			n := served[tok]
			mu.Unlock()
			remaining, reset := limits[tok](n)
			h.Set("X-RateLimit-Limit", "30")
			h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
			h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(reset).Unix(), 10))
		}
		var logins []string
		for i := range 3 {
			login := fmt.Sprintf("token-user-%d", i)
			logins = append(logins, login)
			r.add("GET", search("author:"+login, 1), searchExchange(t, si, 1, item))
			r.add("GET", search("author:"+login+" updated:>="+recorded, 1), searchExchange(t, si, 1, item))
		}
		clients, err := NewClients(r.srv.URL+"/", []string{"tok-low", " ", "tok-high"}, r.srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		pub := bus.NewPublisher(js)
		s := &Syncer{REST: &REST{Clients: clients, KV: kvOf(t, js), Publish: pub.Publish, Flush: pub.Flush, MaxWait: time.Minute},
			Logins: logins, Searches: []string{SearchAuthor}, Statuses: bucketOf(t, js, events.BucketStatus)}
		var waits []time.Duration
		s.sleep = func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d)
			time.Sleep(d)
			return nil
		}
		return r, s, &waits
	}

	t.Run("most remaining first", func(t *testing.T) {
		r, s, waits := setup(t, map[string]func(int) (int, time.Duration){
			"tok-low":  func(n int) (int, time.Duration) { return 5 - n, time.Minute },
			"tok-high": func(n int) (int, time.Duration) { return 25 - n, time.Minute },
		})
		if _, err := s.SyncOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Neither budget is known at first: the two tokens are tried in turn; then tok-high,
		// with more left, takes every request.
		want := []string{"Bearer tok-low", "Bearer tok-high", "Bearer tok-high", "Bearer tok-high", "Bearer tok-high", "Bearer tok-high"}
		if strings.Join(r.tokens, ",") != strings.Join(want, ",") || len(*waits) != 0 {
			t.Fatalf("tokens = %q, waits = %v", r.tokens, *waits)
		}
	})
	t.Run("all used up waits for the earliest reset", func(t *testing.T) {
		r, s, waits := setup(t, map[string]func(int) (int, time.Duration){
			"tok-low":  func(int) (int, time.Duration) { return 0, time.Second },
			"tok-high": func(int) (int, time.Duration) { return 0, 4 * time.Second },
		})
		s.Logins = s.Logins[:2]
		if _, err := s.SyncOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Both are used up after one request each (the first login's search and its confirming
		// search); the second login's search waits for tok-low's reset, the earlier, and goes
		// with it.
		if len(*waits) == 0 || (*waits)[0] > 3*time.Second || len(r.tokens) < 3 || r.tokens[2] != "Bearer tok-low" {
			t.Fatalf("tokens = %q, waits = %v", r.tokens, *waits)
		}
	})
}
