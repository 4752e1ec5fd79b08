package githubsync

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// recordedPushCommit returns the commit of the recorded push webhook delivery of
// @octokit/webhooks-examples, in the shape the REST API gives commits (compare, commits/{sha}),
// with the repository and the commit's sha.
func recordedPushCommit(t *testing.T) (repo, sha string, commit json.RawMessage) {
	data, err := os.ReadFile(testkit.WebhookExamples(t))
	if err != nil {
		t.Fatal(err)
	}
	var index []struct {
		Name     string `json:"name"`
		Examples []struct {
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
			Commits []struct {
				ID        string `json:"id"`
				Message   string `json:"message"`
				Timestamp string `json:"timestamp"`
				URL       string `json:"url"`
				Author    struct {
					Name     string `json:"name"`
					Email    string `json:"email"`
					Username string `json:"username"`
				} `json:"author"`
			} `json:"commits"`
		} `json:"examples"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	for _, ev := range index {
		if ev.Name != "push" {
			continue
		}
		for _, ex := range ev.Examples {
			if len(ex.Commits) == 0 {
				continue
			}
			c := ex.Commits[0]
			obj := map[string]any{
				"sha":      c.ID,
				"html_url": c.URL,
				"commit": map[string]any{
					"message": c.Message,
					"author":  map[string]any{"name": c.Author.Name, "email": c.Author.Email, "date": c.Timestamp},
				},
				"author": map[string]any{"login": c.Author.Username},
			}
			b, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			return ex.Repository.FullName, c.ID, b
		}
	}
	t.Fatal("no push example with a commit")
	return "", "", nil
}

// withState returns the recorded pull request closed and merged at the given time.
func mergedAt(t *testing.T, pr json.RawMessage, at string) json.RawMessage {
	var m map[string]any
	if err := json.Unmarshal(pr, &m); err != nil {
		t.Fatal(err)
	}
	m["state"], m["merged"], m["merged_at"], m["closed_at"], m["updated_at"] = "closed", true, at, at, at
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newHydrator returns the hydrator of a test, on the recording r.
func newHydrator(t *testing.T, r *replay, js jetstream.JetStream) *Hydrator {
	return &Hydrator{REST: newREST(t, r, js), Statuses: bucketOf(t, js, events.BucketStatus), Watch: bucketOf(t, js, events.BucketHydrateWatch)}
}

func watched(t *testing.T, kv jetstream.KeyValue, repo string, number int) bool {
	_, err := kv.Get(context.Background(), events.KeyHydrateOpen(repo, number))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// A trimmed PullRequestEvent is filled with the pull request's details; while it is open it is
// watched and re-checked, for free while unchanged, until the answer says it is merged.
func TestHydratePullRequest(t *testing.T) {
	ctx := context.Background()
	_, _, js := testkit.NATS(t)
	r := newReplay(t)
	pr := recordedPullRequest(t)
	var head struct {
		Number int `json:"number"`
		Base   struct {
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"base"`
		UpdatedAt string `json:"updated_at"`
		State     string `json:"state"`
	}
	if err := json.Unmarshal(pr, &head); err != nil {
		t.Fatal(err)
	}
	if head.State != "open" {
		t.Fatalf("the recorded pull request is %s, the test wants it open", head.State)
	}
	repo, n := head.Base.Repo.FullName, head.Number
	const merged = "2019-05-20T09:00:00Z"
	path := "/repos/" + repo + "/pulls/" + itoa(n)
	r.add("GET", path, exchange{Response: pr}, exchange{Response: pr}, exchange{Response: pr}, exchange{Response: mergedAt(t, pr, merged)})
	// Its conversation: the author's own comment, then a bot's; its reviews: the author's only.
	// Nobody else has answered.
	review, comment := recordedReviewAndComment(t)
	bot := strings.Replace(string(comment), `"login":"Codertocat"`, `"login":"ci-helper[bot]"`, 1)
	lists := func(objs ...string) exchange {
		return exchange{Response: json.RawMessage("[" + strings.Join(objs, ",") + "]")}
	}
	r.add("GET", "/repos/"+repo+"/issues/"+itoa(n)+"/comments", lists(string(comment), bot))
	r.add("GET", "/repos/"+repo+"/pulls/"+itoa(n)+"/reviews", lists(string(review)))
	r.add("GET", "/repos/gone/away/pulls/1", exchange{Status: 404, Response: json.RawMessage(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)})

	s := newHydrator(t, r, js)
	kv := bucketOf(t, js, events.BucketHydrateWatch)
	req := events.Hydrate{Schema: events.SchemaHydrate, Kind: events.HydratePullRequest, Repo: repo, Number: n, Actor: "Codertocat",
		At: time.Date(2025, 10, 8, 10, 0, 0, 0, time.UTC), RawID: "50000000001"}
	if err := s.Hydrate(ctx, req); err != nil {
		t.Fatal(err)
	}
	recs := streamRecords(t, js)
	openID := recordID(KindPullRequestDetail, repo, n, mustParse(t, head.UpdatedAt))
	rec, ok := recs[openID]
	if !ok || len(recs) != 1 {
		t.Fatalf("records %v, want only %s", keys(recs), openID)
	}
	if _, ok := rec.Meta["first_response_at"]; ok {
		t.Fatalf("a first response where only the author and a bot answered: %v", rec.Meta)
	}
	if rec.Kind != KindPullRequestDetail || rec.Meta["hydrates"] != "50000000001" || rec.Meta["repo"] != repo || string(rec.Payload) != string(pr) {
		t.Fatalf("record %+v", rec)
	}
	if !watched(t, kv, repo, n) {
		t.Fatal("an open pull request is not watched")
	}

	// The same request again (a redelivery, another trimmed event of the PR): a free 304.
	r.reset()
	if err := s.Hydrate(ctx, req); err != nil {
		t.Fatal(err)
	}
	if c, nm := r.counts(); c != 0 || nm != 1 {
		t.Fatalf("repeat cost %d counted requests and %d 304s, want 0 and 1", c, nm)
	}

	// A re-check while unchanged is free too; the next one sees it merged and stops watching.
	if still, err := s.RecheckOpen(ctx); err != nil || still != 1 {
		t.Fatalf("RecheckOpen = %d, %v; want 1 still open", still, err)
	}
	if c, _ := r.counts(); c != 0 {
		t.Fatalf("an unchanged re-check cost %d counted requests", c)
	}
	// A fresh syncer (a restart) finds the watch list and the ETags in the bucket.
	s = newHydrator(t, r, js)
	if still, err := s.RecheckOpen(ctx); err != nil || still != 0 {
		t.Fatalf("RecheckOpen = %d, %v; want 0 still open", still, err)
	}
	recs = streamRecords(t, js)
	mergedID := recordID(KindPullRequestDetail, repo, n, mustParse(t, merged))
	if len(recs) != 2 || !strings.Contains(string(recs[mergedID].Payload), `"merged":true`) {
		t.Fatalf("records %v, want the merged state %s too", keys(recs), mergedID)
	}
	if watched(t, kv, repo, n) {
		t.Fatal("a merged pull request is still watched")
	}
	r.reset()
	if still, err := s.RecheckOpen(ctx); err != nil || still != 0 {
		t.Fatalf("RecheckOpen = %d, %v", still, err)
	}
	if c, nm := r.counts(); c+nm != 0 {
		t.Fatal("an empty watch list made requests")
	}

	// A pull request GitHub no longer shows is counted, not retried.
	if err := s.Hydrate(ctx, events.Hydrate{Schema: events.SchemaHydrate, Kind: events.HydratePullRequest, Repo: "gone/away", Number: 1, Actor: "x", RawID: "2"}); err != nil {
		t.Fatalf("a 404 is an error: %v", err)
	}
	st := s.HydrationStatus()
	// Counted since hydration began, across the restart above: two requests before, this one.
	if st.Gone != 1 || st.Requests != 3 || st.PullRequests != 2 || st.Watched != 0 {
		t.Fatalf("status %+v", st)
	}
	var stored events.HydrationStatus
	if err := json.Unmarshal([]byte(kvValue(t, s.Statuses, events.KeyStatusHydration)), &stored); err != nil || stored.Gone != 1 {
		t.Fatalf("stored status %+v, %v", stored, err)
	}
	// A restart counts on from the stored status.
	s = newHydrator(t, r, js)
	if err := s.Hydrate(ctx, events.Hydrate{Schema: events.SchemaHydrate, Kind: events.HydratePullRequest, Repo: "gone/away", Number: 1, Actor: "x", RawID: "3"}); err != nil {
		t.Fatal(err)
	}
	if st := s.HydrationStatus(); st.Gone != 2 || st.Requests != stored.Requests+1 {
		t.Fatalf("status after a restart %+v, stored before %+v", st, stored)
	}
}

// A trimmed PushEvent is filled with the commits between its before and head; a new branch,
// with nothing to compare to, with its head commit; a malformed request names what is wrong.
func TestHydratePush(t *testing.T) {
	ctx := context.Background()
	_, _, js := testkit.NATS(t)
	r := newReplay(t)
	repo, sha, commit := recordedPushCommit(t)
	before := strings.Repeat("ab", 20)
	cmp, err := json.Marshal(map[string]any{"status": "ahead", "ahead_by": 1, "total_commits": 1, "commits": []json.RawMessage{commit}})
	if err != nil {
		t.Fatal(err)
	}
	r.add("GET", "/repos/"+repo+"/compare/"+before+"..."+sha, exchange{Response: cmp})
	r.add("GET", "/repos/"+repo+"/commits/"+sha, exchange{Response: commit})
	s := newHydrator(t, r, js)

	req := events.Hydrate{Schema: events.SchemaHydrate, Kind: events.HydratePush, Repo: repo, Before: before, Head: sha, Actor: "pusher", RawID: "7"}
	if err := s.Hydrate(ctx, req); err != nil {
		t.Fatal(err)
	}
	recs := streamRecords(t, js)
	id := "commit:" + repo + "@" + sha
	if rec, ok := recs[id]; !ok || len(recs) != 1 || rec.Kind != KindCommit || rec.Meta["login"] != "pusher" || rec.Meta["repo"] != repo || rec.Meta["hydrates"] != "7" {
		t.Fatalf("records %v, want %s with its meta: %+v", keys(recs), id, recs[id])
	}
	req.Before, req.RawID = zeroSHA, "8"
	if err := s.Hydrate(ctx, req); err != nil {
		t.Fatal(err)
	}
	if got := r.queriesOf("/commits/" + sha); got != 1 {
		t.Fatalf("new branch push fetched its head commit %d times, want 1", got)
	}
	if st := s.HydrationStatus(); st.Commits != 2 || st.Requests != 2 {
		t.Fatalf("status %+v", st)
	}
	err = s.Hydrate(ctx, events.Hydrate{Schema: events.SchemaHydrate, Kind: events.HydratePush, Repo: "no-slash", Head: sha, RawID: "9"})
	if err == nil || !strings.Contains(err.Error(), "owner/name") {
		t.Fatalf("bad repository: %v", err)
	}
}

func mustParse(t *testing.T, s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func keys(m map[string]events.Raw) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// queriesOf counts the requests received whose path ends with suffix.
func (r *replay) queriesOf(suffix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, u := range r.requests {
		if strings.HasSuffix(u.Path, suffix) {
			n++
		}
	}
	return n
}
