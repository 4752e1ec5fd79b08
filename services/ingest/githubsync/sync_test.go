package githubsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

const (
	userA    = "octokit-fixture-user-a" // paginate-issues: 13 issues in 5 pages of 3
	userB    = "octokit-fixture-user-b" // search-issues: one page of 2
	recorded = "2017-10-10T16:00:00Z"   // every fixture item's updated_at
	prNumber = 7                        // the item the test turns into a pull request
)

func search(q string, page int) string {
	return "/search/issues?q=" + strings.ReplaceAll(q, " ", "+") + "&page=" + strconv.Itoa(page)
}

func searchCommits(q string, page int) string {
	return "/search/commits?q=" + strings.ReplaceAll(q, " ", "+") + "&page=" + strconv.Itoa(page)
}

const userC = "Codertocat" // the reviewer and commenter of @octokit/webhooks-examples

// searchExchange is a search answer holding items, with the recorded headers of a search.
func searchExchange(t *testing.T, base exchange, total int, items ...json.RawMessage) exchange {
	t.Helper()
	if items == nil {
		items = []json.RawMessage{}
	}
	body, err := json.Marshal(searchPage{TotalCount: total, Items: items})
	if err != nil {
		t.Fatal(err)
	}
	x := base
	x.Headers = map[string]any{}
	for k, v := range base.Headers {
		if !strings.EqualFold(k, "link") {
			x.Headers[k] = v
		}
	}
	x.Response = body
	return x
}

// fixtureReplay routes the searches of userA, userB and userC to the recorded responses. The
// paginate-issues pages (a repository listing) are served as search pages: their recorded
// items, headers and Link pagination, wrapped in a search result; item 7 gets a pull_request
// member, and its details are the pull_request of a recorded pull_request webhook delivery.
// userC reviewed pull request 7 and commented on issue 2 of search-issues (the review and the
// comment of the recorded webhook deliveries, each beside one by someone else) and authored a
// commit found by the commit search (built as GitHub documents the answer).
func fixtureReplay(t *testing.T) *replay {
	r := newReplay(t)
	pages := loadScenario(t, "paginate-issues")
	if len(pages) != 5 {
		t.Fatalf("paginate-issues has %d exchanges, want 5", len(pages))
	}
	var pr7 json.RawMessage
	for i, x := range pages {
		var items []json.RawMessage
		if err := json.Unmarshal(x.Response, &items); err != nil {
			t.Fatal(err)
		}
		for j, item := range items {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(item, &m); err != nil {
				t.Fatal(err)
			}
			if string(m["number"]) == strconv.Itoa(prNumber) {
				m["pull_request"] = json.RawMessage(`{"url":"https://api.github.com/repos/octokit-fixture-org/paginate-issues/pulls/7"}`)
				b, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				items[j], pr7 = b, b
			}
		}
		body, err := json.Marshal(searchPage{TotalCount: 13, Items: items})
		if err != nil {
			t.Fatal(err)
		}
		x.Response = body
		if i == 0 {
			r.add("GET", search("author:"+userA, 1), x)
		}
		r.add("GET", search("author:"+userA+" updated:>="+recorded, i+1), x)
	}
	prx := pages[0]
	prx.Headers = map[string]any{"content-type": "application/json; charset=utf-8", "x-ratelimit-limit": "5000",
		"x-ratelimit-remaining": "4998", "x-ratelimit-reset": "1507651200", "x-ratelimit-resource": "core"}
	prx.Response = recordedPullRequest(t)
	r.add("GET", fmt.Sprintf("/repos/octokit-fixture-org/paginate-issues/pulls/%d", prNumber), prx)

	si := loadScenario(t, "search-issues")
	r.add("GET", search("author:"+userB, 1), si[0])
	r.add("GET", search("author:"+userB+" updated:>="+recorded, 1), si[0])
	var found searchPage
	if err := json.Unmarshal(si[0].Response, &found); err != nil {
		t.Fatal(err)
	}
	issue2 := found.Items[0]

	empty := searchExchange(t, si[0], 0)
	for _, login := range []string{userA, userB, userC} {
		if login != userC {
			r.add("GET", search("reviewed-by:"+login+" is:pr", 1), empty)
			r.add("GET", search("commenter:"+login, 1), empty)
			r.add("GET", searchCommits("author:"+login, 1), empty)
		}
	}
	r.add("GET", search("author:"+userC, 1), empty)
	for _, q := range []string{"reviewed-by:" + userC + " is:pr", "reviewed-by:" + userC + " is:pr updated:>=" + recorded} {
		r.add("GET", search(q, 1), searchExchange(t, si[0], 1, pr7))
	}
	for _, q := range []string{"commenter:" + userC, "commenter:" + userC + " updated:>=" + recorded} {
		r.add("GET", search(q, 1), searchExchange(t, si[0], 1, issue2))
	}
	commit := json.RawMessage(`{"url":"https://api.github.com/repos/octokit-fixture-org/hello-world/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
		"sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e","html_url":"https://github.com/octokit-fixture-org/hello-world/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e",
		"commit":{"author":{"name":"Codertocat","email":"21031067+Codertocat@users.noreply.github.com","date":"2017-10-10T09:00:00.000-07:00"},
		"committer":{"name":"GitHub","email":"noreply@github.com","date":"2017-10-10T09:00:00.000-07:00"},"message":"Fix all the bugs\n\nand a few more","comment_count":0},
		"author":{"login":"Codertocat","id":21031067,"type":"User"},"committer":{"login":"web-flow","id":19864447,"type":"User"},
		"repository":{"id":1296269,"name":"hello-world","full_name":"octokit-fixture-org/hello-world","private":false},"score":1.0}`)
	for _, q := range []string{"author:" + userC, "author:" + userC + " author-date:>=" + recorded} {
		r.add("GET", searchCommits(q, 1), searchExchange(t, si[0], 1, commit))
	}

	review, comment := recordedReviewAndComment(t)
	other := func(obj json.RawMessage, id int) json.RawMessage {
		var m map[string]any
		if err := json.Unmarshal(obj, &m); err != nil {
			t.Fatal(err)
		}
		m["id"] = id
		m["user"] = map[string]any{"login": "someone-else", "id": 1}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	list := func(objs ...json.RawMessage) exchange {
		b, err := json.Marshal(objs)
		if err != nil {
			t.Fatal(err)
		}
		return exchange{Status: http.StatusOK, Response: b, Headers: prx.Headers}
	}
	r.add("GET", "/repos/octokit-fixture-org/paginate-issues/pulls/7/reviews", list(review, other(review, 1)))
	r.add("GET", "/repos/octokit-fixture-org/search-issues/issues/2/comments", list(other(comment, 2), comment))
	// The conversation of pull request 7, read for its first response by someone else.
	r.add("GET", "/repos/octokit-fixture-org/paginate-issues/issues/7/comments", list(comment, other(comment, 3)))
	return r
}

// recordedReviewAndComment returns the review of the first recorded pull_request_review
// delivery and the comment of the first issue_comment delivery, both by userC.
func recordedReviewAndComment(t *testing.T) (review, comment json.RawMessage) {
	data, err := os.ReadFile(testkit.WebhookExamples(t))
	if err != nil {
		t.Fatal(err)
	}
	var index []struct {
		Name     string `json:"name"`
		Examples []struct {
			Review  json.RawMessage `json:"review"`
			Comment json.RawMessage `json:"comment"`
		} `json:"examples"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	for _, ev := range index {
		switch ev.Name {
		case "pull_request_review":
			review = ev.Examples[0].Review
		case "issue_comment":
			comment = ev.Examples[0].Comment
		}
	}
	if review == nil || comment == nil {
		t.Fatal("no pull_request_review or issue_comment example")
	}
	return review, comment
}

// recordedPullRequest returns the pull_request object of the first recorded pull_request
// webhook delivery of @octokit/webhooks-examples.
func recordedPullRequest(t *testing.T) json.RawMessage {
	data, err := os.ReadFile(testkit.WebhookExamples(t))
	if err != nil {
		t.Fatal(err)
	}
	var index []struct {
		Name     string `json:"name"`
		Examples []struct {
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"examples"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	for _, ev := range index {
		if ev.Name == "pull_request" {
			return ev.Examples[0].PullRequest
		}
	}
	t.Fatal("no pull_request example")
	return nil
}

func kvOf(t *testing.T, js jetstream.JetStream) jetstream.KeyValue {
	return bucketOf(t, js, events.BucketCursors)
}

func bucketOf(t *testing.T, js jetstream.JetStream, bucket string) jetstream.KeyValue {
	kv, err := js.KeyValue(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func cursorOf(t *testing.T, kv jetstream.KeyValue, login string) string {
	e, err := kv.Get(context.Background(), events.KeyRESTCursor(SearchAuthor, login))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(e.Value())
}

// streamRecords returns every record in the raw stream, by id.
func streamRecords(t *testing.T, js jetstream.JetStream) map[string]events.Raw {
	ctx := context.Background()
	st, err := js.Stream(ctx, events.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]events.Raw{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != events.SubjectRaw(events.SourceREST) {
			t.Fatalf("record on %s", m.Subject)
		}
		var r events.Raw
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatal(err)
		}
		out[r.ID] = r
	}
	if uint64(len(out)) != info.State.Msgs {
		t.Fatalf("%d messages for %d ids: a record was stored twice", info.State.Msgs, len(out))
	}
	return out
}

func newSyncer(t *testing.T, r *replay, js jetstream.JetStream, logins ...string) *Syncer {
	return &Syncer{REST: newREST(t, r, js), Logins: logins, Statuses: bucketOf(t, js, events.BucketStatus)}
}

// newREST returns the REST client of a test, on the recording r.
func newREST(t *testing.T, r *replay, js jetstream.JetStream) *REST {
	// A base URL other than api.github.com: the client is GitHub Enterprise's, under /api/v3/.
	client, err := NewClient(r.srv.URL+"/", "0000000000000000000000000000000000000001", r.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	pub := bus.NewPublisher(js)
	return &REST{Client: client, KV: kvOf(t, js), Publish: pub.Publish, Flush: pub.Flush, Log: slog.New(slog.DiscardHandler)}
}

func TestSyncOnceReplay(t *testing.T) {
	ctx := context.Background()
	_, _, js := testkit.NATS(t)
	r := fixtureReplay(t)

	s := newSyncer(t, r, js, userA, userB, userC)
	st, err := s.SyncOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// userA: page 1, then the search again from the cursor it set and its Link pages 2 to 5.
	// Every search whose cursor moved is asked once more from its new cursor, to end on the
	// request the next cycle repeats (and gets a 304 for).
	wantQueries := []string{
		"author:" + userA + " page=1",
		"author:" + userA + " updated:>=" + recorded + " page=1",
		"author:" + userA + " updated:>=" + recorded + " page=2",
		"author:" + userA + " updated:>=" + recorded + " page=3",
		"author:" + userA + " updated:>=" + recorded + " page=4",
		"author:" + userA + " updated:>=" + recorded + " page=5",
		"reviewed-by:" + userA + " is:pr page=1",
		"commenter:" + userA + " page=1",
		"author:" + userA + " page=1",
		"author:" + userB + " page=1",
		"author:" + userB + " updated:>=" + recorded + " page=1",
		"reviewed-by:" + userB + " is:pr page=1",
		"commenter:" + userB + " page=1",
		"author:" + userB + " page=1",
		"author:" + userC + " page=1",
		"reviewed-by:" + userC + " is:pr page=1",
		"reviewed-by:" + userC + " is:pr updated:>=" + recorded + " page=1",
		"commenter:" + userC + " page=1",
		"commenter:" + userC + " updated:>=" + recorded + " page=1",
		"author:" + userC + " page=1",
		"author:" + userC + " author-date:>=" + recorded + " page=1",
	}
	if got := r.queries(); strings.Join(got, "\n") != strings.Join(wantQueries, "\n") {
		t.Fatalf("searches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantQueries, "\n"))
	}
	for _, u := range r.requests {
		q := u.Query()
		switch {
		case strings.HasSuffix(u.Path, "/search/issues") && (q.Get("sort") != "updated" || q.Get("order") != "asc"),
			strings.HasSuffix(u.Path, "/search/commits") && (q.Get("sort") != "author-date" || q.Get("order") != "asc"):
			t.Fatalf("search %s is not sorted by date ascending", u)
		}
	}
	// userC's pull request 7 and issue 2 were published by userA's and userB's syncs too: the
	// bus drops the repeats, and the details of 7, unchanged, are a 304. Its first response is
	// looked up in its comments and reviews when its details are published (2 requests).
	want := Stats{Logins: 3, Items: 13 + 2 + 2, PullRequests: 1, Reviews: 1, Comments: 1, Commits: 1, Requests: 26, NotModified: 1}
	if st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
	if counted, nm := r.counts(); counted != want.Requests || nm != want.NotModified {
		t.Fatalf("replay counted %d requests and %d 304s", counted, nm)
	}

	recs := streamRecords(t, js)
	if len(recs) != 13+2+1+3 {
		t.Fatalf("stream holds %d records, want 19", len(recs))
	}
	issue := recs["issue:octokit-fixture-org/paginate-issues#13@"+recorded]
	if issue.Kind != KindIssue || issue.Source != events.SourceREST || issue.Meta["repo"] != "octokit-fixture-org/paginate-issues" ||
		issue.Meta["number"] != "13" || issue.Meta["login"] != userA || !strings.Contains(string(issue.Payload), `"number":13`) {
		t.Fatalf("issue 13 = %+v", issue)
	}
	pr := recs["pull_request:octokit-fixture-org/paginate-issues#7@"+recorded]
	if pr.Kind != KindPullRequest {
		t.Fatalf("pull request 7 = %+v", pr)
	}
	var detail *events.Raw
	for id, rec := range recs {
		if strings.HasPrefix(id, "pull_request_detail:octokit-fixture-org/paginate-issues#7@") {
			detail = &rec
		}
	}
	if detail == nil || detail.Kind != KindPullRequestDetail || detail.Meta["number"] != "7" || !strings.Contains(string(detail.Payload), `"merged"`) {
		t.Fatalf("pull request details = %+v", detail)
	}
	// The author's own comment and review do not count; someone else's comment came first.
	if got := detail.Meta["first_response_at"]; got != "2019-05-15T15:20:21Z" {
		t.Fatalf("first response %q, want someone else's comment of 2019-05-15T15:20:21Z", got)
	}
	if _, ok := recs["issue:octokit-fixture-org/search-issues#2@"+recorded]; !ok {
		t.Fatal("userB's search result is missing")
	}
	review := recs["review:octokit-fixture-org/paginate-issues#7/237895671"]
	if review.Kind != KindReview || review.Meta["repo"] != "octokit-fixture-org/paginate-issues" || review.Meta["number"] != "7" ||
		review.Meta["login"] != userC || !strings.Contains(string(review.Payload), `"submitted_at"`) {
		t.Fatalf("review = %+v", review)
	}
	comment := recs["issue_comment:octokit-fixture-org/search-issues/492700400"]
	if comment.Kind != KindIssueComment || comment.Meta["number"] != "2" || comment.Meta["login"] != userC {
		t.Fatalf("comment = %+v", comment)
	}
	commit := recs["commit:octokit-fixture-org/hello-world@6dcb09b5b57875f334f61aebed695e2e4193db5e"]
	if commit.Kind != KindCommit || commit.Meta["repo"] != "octokit-fixture-org/hello-world" || commit.Meta["login"] != userC ||
		!strings.Contains(string(commit.Payload), `"sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e"`) {
		t.Fatalf("commit = %+v", commit)
	}
	for key, want := range map[string]string{
		events.KeyRESTCursor(SearchAuthor, userA): recorded, events.KeyRESTCursor(SearchAuthor, userB): recorded,
		events.KeyRESTCursor(SearchReviewed, userC): recorded, events.KeyRESTCursor(SearchCommented, userC): recorded,
		events.KeyRESTCursor(SearchCommits, userC): recorded, events.KeyRESTCursor(SearchReviewed, userA): "",
	} {
		if got := kvValue(t, s.KV, key); got != want {
			t.Fatalf("cursor %s = %q, want %q", key, got, want)
		}
	}
	status := s.Status()
	if len(status) != 3 || status[0].Login != userC || status[1].Login != userA || status[1].LastError != "" || status[1].Items != 14 ||
		status[1].Remaining == 0 || status[1].LastSync.IsZero() || status[1].Cursor.Format(time.RFC3339) != recorded ||
		status[0].Cursors[SearchCommits].Format(time.RFC3339) != recorded {
		t.Fatalf("status = %+v", status)
	}
	var stored events.RESTStatus
	if err := json.Unmarshal([]byte(kvValue(t, s.Statuses, events.KeyStatusREST(userA))), &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Login != userA || stored.Items != 14 || stored.Requests != 12 || !stored.LastSync.Equal(status[1].LastSync) {
		t.Fatalf("stored status = %+v", stored)
	}

	// A second syncer, as after a restart, starts from the cursors and the ETags in the bucket:
	// nothing changed, so every request is a 304, which costs no rate limit.
	r.reset()
	s2 := newSyncer(t, r, js, userA, userB, userC)
	st, err = s2.SyncOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q := r.queries(); len(q) != 5+3+4+4 || q[0] != "author:"+userA+" updated:>="+recorded+" page=1" ||
		q[4] != "author:"+userA+" updated:>="+recorded+" page=5" || q[8] != "author:"+userB+" updated:>="+recorded+" page=1" {
		t.Fatalf("second run searches = %q", q)
	}
	if counted, nm := r.counts(); counted != 0 || nm != 16 || st.Requests != 0 || st.NotModified != 16 || st.Items != 0 {
		t.Fatalf("second run: %d counted requests, %d 304s, stats %+v", counted, nm, st)
	}
	if n := len(streamRecords(t, js)); n != 19 {
		t.Fatalf("stream holds %d records after the second run, want still 19", n)
	}
}

func kvValue(t *testing.T, kv jetstream.KeyValue, key string) string {
	t.Helper()
	e, err := kv.Get(context.Background(), key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(e.Value())
}

func TestCursorWaitsForPublish(t *testing.T) {
	_, _, js := testkit.NATS(t)
	r := fixtureReplay(t)
	s := newSyncer(t, r, js, userA, userB)
	calls := 0
	s.Publish = func(context.Context, *events.Raw) error {
		if calls++; calls == 2 {
			return errors.New("bus down")
		}
		return nil
	}
	s.Flush = nil
	s.Searches = []string{SearchAuthor}
	st, err := s.SyncOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "bus down") || st.Failed != 1 || st.Logins != 1 {
		t.Fatalf("stats = %+v, err = %v", st, err)
	}
	if got := cursorOf(t, s.KV, userA); got != "" {
		t.Fatalf("cursor of %s moved to %q although its page was not published", userA, got)
	}
	if got := cursorOf(t, s.KV, userB); got != recorded {
		t.Fatalf("cursor of %s = %q: a failing login stopped the others", userB, got)
	}
	if status := s.Status(); status[0].LastError == "" || status[1].LastError != "" {
		t.Fatalf("status = %+v", status)
	}
}

func TestRateLimits(t *testing.T) {
	last := loadScenario(t, "paginate-issues")[4] // one item, no rel="next"
	var items []json.RawMessage
	if err := json.Unmarshal(last.Response, &items); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(searchPage{TotalCount: 1, Items: items})
	if err != nil {
		t.Fatal(err)
	}
	ok := last
	ok.Response = body

	// As GitHub documents them: a secondary limit is a 403 (or 429) with Retry-After; a
	// primary one a 403 with X-RateLimit-Remaining: 0 and the reset time.
	secondary := exchange{Status: http.StatusForbidden, Headers: map[string]any{"content-type": "application/json", "retry-after": "1",
		"x-ratelimit-limit": "30", "x-ratelimit-remaining": "12", "x-ratelimit-reset": resetSoon},
		Response: json.RawMessage(`{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)}
	tooMany := exchange{Status: http.StatusTooManyRequests, Headers: map[string]any{"content-type": "application/json", "retry-after": "1"},
		Response: json.RawMessage(`{"message":"Too many requests"}`)}
	primary := exchange{Status: http.StatusForbidden, Headers: map[string]any{"content-type": "application/json",
		"x-ratelimit-limit": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": resetSoon, "x-ratelimit-resource": "search"},
		Response: json.RawMessage(`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`)}
	usedUp := ok
	usedUp.Headers = map[string]any{"content-type": "application/json", "x-ratelimit-limit": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": resetSoon}
	long := secondary
	long.Headers = map[string]any{"content-type": "application/json", "retry-after": "7200"}

	tests := []struct {
		name      string
		responses []exchange
		wantErr   string
	}{
		{"secondary limit waits Retry-After", []exchange{secondary, ok}, ""},
		{"429 waits Retry-After", []exchange{tooMany, ok}, ""},
		{"primary limit waits for the reset", []exchange{primary, ok}, ""},
		{"no request left waits before the next", []exchange{usedUp}, ""},
		{"a wait longer than MaxWait fails the login", []exchange{long}, "longer than"},
	}
	_, _, js := testkit.NATS(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplay(t)
			login := fmt.Sprintf("login-%d", i)
			r.add("GET", search("author:"+login, 1), tt.responses...)
			r.add("GET", search("author:"+login+" updated:>="+recorded, 1), ok)
			s := newSyncer(t, r, js, login)
			s.Searches = []string{SearchAuthor}
			s.MaxWait = time.Minute
			var mu sync.Mutex
			var waits []time.Duration
			s.sleep = func(ctx context.Context, d time.Duration) error {
				mu.Lock()
				waits = append(waits, d)
				mu.Unlock()
				time.Sleep(d) // go-github also refuses, client-side, to send before the reset
				return nil
			}
			st, err := s.SyncOnce(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Items != 1 || len(waits) == 0 || waits[0] < 500*time.Millisecond || waits[0] > 3*time.Second {
				t.Fatalf("stats = %+v, waits = %v", st, waits)
			}
		})
	}
}

func TestNewClient(t *testing.T) {
	tests := []struct{ base, want string }{
		{"", "https://api.github.com/"},
		{"https://api.github.com/", "https://api.github.com/"},
		{"https://ghe.example.com", "https://ghe.example.com/api/v3/"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/"},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.base, "t", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.BaseURL.String() != tt.want {
			t.Errorf("NewClient(%q) base = %s, want %s", tt.base, c.BaseURL, tt.want)
		}
	}
	if _, err := NewClient("ftp://x", "", nil); err == nil {
		t.Error("NewClient accepted an ftp URL")
	}
}

func TestRepoOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.github.com/repos/octokit/rest.js":    "octokit/rest.js",
		"https://ghe.example.com/api/v3/repos/team/tool":  "team/tool",
		"https://api.github.com/repositories/1000/issues": "",
		"not a url %%": "",
	} {
		if got := repoOf(in); got != want {
			t.Errorf("repoOf(%q) = %q, want %q", in, got, want)
		}
	}
}
