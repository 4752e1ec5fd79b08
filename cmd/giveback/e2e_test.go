package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/testkit"
)

// The end-to-end tests run the whole pipeline in this process, on real components: embedded
// NATS, chDB, the real GH Archive sample (read in place) and GitHub's webhook examples, signed
// and posted. What they expect is computed here, from the inputs, by a few lines that do not
// call the code under test.

const webhookSecret = "e2e-secret"

// ghEvent is the part of a GH Archive event the expectations need.
type ghEvent struct {
	Type  string `json:"type"`
	Actor struct {
		Login string `json:"login"`
	} `json:"actor"`
	Repo struct {
		Name string `json:"name"`
	} `json:"repo"`
	Payload json.RawMessage `json:"payload"`
}

type person struct {
	Login string `json:"login"`
}

// ghPayload covers the payloads of every event type that carries a contribution, in both
// GH Archive and webhook shape.
type ghPayload struct {
	Action      string `json:"action"`
	PullRequest *struct {
		Number   int     `json:"number"`
		User     person  `json:"user"`
		Merged   bool    `json:"merged"`
		MergedBy *person `json:"merged_by"`
	} `json:"pull_request"`
	Issue *struct {
		Number      int             `json:"number"`
		User        person          `json:"user"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	Discussion *struct {
		Number int    `json:"number"`
		User   person `json:"user"`
	} `json:"discussion"`
	Review *struct {
		ID   int64  `json:"id"`
		User person `json:"user"`
	} `json:"review"`
	Comment *struct {
		ID   int64  `json:"id"`
		User person `json:"user"`
	} `json:"comment"`
	Release *struct {
		ID     int64  `json:"id"`
		Author person `json:"author"`
	} `json:"release"`
	Commits []struct {
		SHA      string `json:"sha"`
		ID       string `json:"id"`
		Distinct *bool  `json:"distinct"`
		Author   struct {
			Email    string `json:"email"`
			Username string `json:"username"`
		} `json:"author"`
	} `json:"commits"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Sender person `json:"sender"`
}

// expectation counts distinct contribution ids per kind and per credited login.
type expectation struct {
	ids map[string]map[string]string // kind -> id -> login
}

func newExpectation() *expectation { return &expectation{ids: map[string]map[string]string{}} }

func (e *expectation) add(kind, id, login string, roster map[string]bool) {
	if !roster[strings.ToLower(login)] {
		return
	}
	if e.ids[kind] == nil {
		e.ids[kind] = map[string]string{}
	}
	e.ids[kind][strings.ToLower(id)] = strings.ToLower(login)
}

func (e *expectation) byKind() map[string]int64 {
	out := map[string]int64{}
	for k, ids := range e.ids {
		out[k] = int64(len(ids))
	}
	return out
}

func (e *expectation) byLogin() map[string]int64 {
	out := map[string]int64{}
	for _, ids := range e.ids {
		for _, login := range ids {
			out[login]++
		}
	}
	return out
}

// expect applies the documented rules to one event, GH Archive (event type) or webhook (name).
func (e *expectation) expect(kind, actor, repo string, p ghPayload, onRoster map[string]bool) {
	switch kind {
	case "PullRequestEvent", "pull_request":
		e.add("pull_request", fmt.Sprintf("pr:%s#%d", repo, p.PullRequest.Number), p.PullRequest.User.Login, onRoster)
		// A merge by someone other than the author is the merger's: the GH Archive actor who
		// closed it, the webhook's merged_by.
		merger := ""
		switch {
		case kind == "PullRequestEvent" && p.Action == "closed":
			merger = actor
		case kind == "pull_request" && p.PullRequest.MergedBy != nil:
			merger = p.PullRequest.MergedBy.Login
		}
		if p.PullRequest.Merged && merger != "" && !strings.EqualFold(merger, p.PullRequest.User.Login) {
			e.add("merge", fmt.Sprintf("merge:%s#%d", repo, p.PullRequest.Number), merger, onRoster)
		}
	case "IssuesEvent", "issues":
		// An issues event about a pull request is not an issue (and lacks the merge state).
		if p.Issue.PullRequest == nil {
			e.add("issue", fmt.Sprintf("issue:%s#%d", repo, p.Issue.Number), p.Issue.User.Login, onRoster)
		}
	case "discussion":
		e.add("issue", fmt.Sprintf("discussion:%s#%d", repo, p.Discussion.Number), p.Discussion.User.Login, onRoster)
	case "PullRequestReviewEvent", "pull_request_review":
		if p.Action == "created" || p.Action == "submitted" {
			e.add("review", fmt.Sprintf("review:%d", p.Review.ID), p.Review.User.Login, onRoster)
		}
	case "IssueCommentEvent", "issue_comment", "PullRequestReviewCommentEvent", "pull_request_review_comment", "CommitCommentEvent", "commit_comment", "discussion_comment":
		if p.Action == "created" || p.Action == "" {
			e.add("comment", fmt.Sprintf("comment:%s:%d", kind, p.Comment.ID), p.Comment.User.Login, onRoster)
		}
	case "PushEvent", "push":
		for _, c := range p.Commits {
			sha := c.SHA + c.ID
			if c.Distinct == nil || *c.Distinct {
				// credited to the author's linked login, else a noreply e-mail's, else the pusher
				login := c.Author.Username
				if login == "" {
					login = actor
					if l, ok := roster.LoginFromNoreply(c.Author.Email); ok {
						login = l
					}
				}
				e.add("commit", "commit:"+repo+"@"+sha, login, onRoster)
			}
		}
	case "ReleaseEvent", "release":
		if p.Action == "published" {
			login := p.Release.Author.Login
			if login == "" {
				login = actor
			}
			e.add("release", fmt.Sprintf("release:%d", p.Release.ID), login, onRoster)
		}
	}
}

// sampleActors returns the sample's actors ordered by how many events they have, most first.
func sampleActors(t *testing.T, path string) ([]string, []ghEvent) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	counts := map[string]int{}
	var evs []ghEvent
	for {
		var ev ghEvent
		if err := dec.Decode(&ev); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
		switch ev.Type {
		case "PullRequestEvent", "IssuesEvent", "PullRequestReviewEvent", "IssueCommentEvent", "PushEvent", "ReleaseEvent":
			counts[ev.Actor.Login]++
		}
	}
	var actors []string
	for a := range counts {
		if !strings.HasSuffix(a, "[bot]") {
			actors = append(actors, a)
		}
	}
	sort.Slice(actors, func(i, j int) bool {
		if counts[actors[i]] != counts[actors[j]] {
			return counts[actors[i]] > counts[actors[j]]
		}
		return actors[i] < actors[j]
	})
	return actors, evs
}

type webhookExample struct {
	Name     string            `json:"name"`
	Examples []json.RawMessage `json:"examples"`
}

func loadWebhookExamples(t *testing.T) []webhookExample {
	t.Helper()
	body, err := os.ReadFile(testkit.WebhookExamples(t))
	if err != nil {
		t.Fatal(err)
	}
	var all []webhookExample
	if err := json.Unmarshal(body, &all); err != nil {
		t.Fatal(err)
	}
	return all
}

// fixture is the inputs and expectations of an end-to-end run.
type fixture struct {
	cfgPath  string
	hoursDir string
	examples []webhookExample
	onRoster map[string]bool
	want     *expectation
	rawWant  int64 // raw records that must end up in raw_events
	optedOut string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sample := testkit.GHArchiveSample(t)
	actors, evs := sampleActors(t, sample)
	examples := loadWebhookExamples(t)
	dir := t.TempDir()

	// The roster: the 40 busiest actors of the sample, one of them opted out, plus the sender
	// of GitHub's webhook examples.
	logins := append([]string{"Codertocat"}, actors[:40]...)
	optedOut := strings.ToLower(actors[1])
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(roster.Header); err != nil {
		t.Fatal(err)
	}
	f := &fixture{onRoster: map[string]bool{}, want: newExpectation(), examples: examples, optedOut: optedOut}
	for i, l := range logins {
		opt := "false"
		if strings.ToLower(l) == optedOut {
			opt = "true"
		} else {
			f.onRoster[strings.ToLower(l)] = true
		}
		if err := w.Write([]string{fmt.Sprintf("e%02d", i), "Person " + l, []string{"core", "platform", "data"}[i%3], l, "", "2015-01-01", "", opt}); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if err := os.WriteFile(filepath.Join(dir, "roster.csv"), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f.cfgPath = filepath.Join(dir, "giveback.yaml")
	if err := os.WriteFile(f.cfgPath, []byte("company:\n  name: E2E Corp\n  github_orgs: [octo-org]\nroster: roster.csv\ngharchive:\n  filter: roster\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// GH Archive names hours without the suffix the sample carries: link it in place.
	f.hoursDir = filepath.Join(dir, "hours")
	if err := os.MkdirAll(f.hoursDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sample, filepath.Join(f.hoursDir, "2025-01-01-15.json.gz")); err != nil {
		t.Fatal(err)
	}

	for _, ev := range evs {
		var p ghPayload
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			t.Fatal(err)
		}
		f.want.expect(ev.Type, ev.Actor.Login, ev.Repo.Name, p, f.onRoster)
	}
	seen := map[string]bool{}
	for _, ex := range examples {
		for _, body := range ex.Examples {
			var p ghPayload
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if ex.Name == "ping" {
				continue
			}
			// A body posted before under another delivery id is a replay: dropped.
			if seen[string(body)] {
				continue
			}
			seen[string(body)] = true
			f.rawWant++ // every delivery but ping is kept raw, known kind or not
			repo := ""
			if p.Repository != nil {
				repo = p.Repository.FullName
			}
			f.want.expect(ex.Name, p.Sender.Login, repo, p, f.onRoster)
		}
	}
	return f
}

// postWebhooks signs and posts every example; each answer must be 202 (200 for ping).
func (f *fixture) postWebhooks(t *testing.T, base string) {
	t.Helper()
	n := 0
	posted := map[string]bool{}
	for _, ex := range f.examples {
		for i, body := range ex.Examples {
			mac := hmac.New(sha256.New, []byte(webhookSecret))
			mac.Write(body)
			req, err := http.NewRequest(http.MethodPost, base+"/webhooks/github", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", ex.Name)
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("e2e-%s-%d", ex.Name, i))
			req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := http.StatusAccepted
			if ex.Name == "ping" || posted[string(body)] {
				want = http.StatusOK // a ping, or a replay of a body posted before: dropped
			}
			if ex.Name != "ping" {
				posted[string(body)] = true
			}
			if resp.StatusCode != want {
				t.Fatalf("webhook %s #%d: status %d, want %d", ex.Name, i, resp.StatusCode, want)
			}
			n++
		}
	}
	t.Logf("posted %d webhook deliveries", n)
}

// query runs SQL through the CLI's query command against the report service.
func query(t *testing.T, base, sql string) [][]any {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"query", sql, "--format", "json", "--server", base}, &out, &errb); err != nil {
		t.Fatalf("giveback query %q: %v (%s)", sql, err, errb.String())
	}
	var res struct {
		Rows [][]any `json:"rows"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("query output %q: %v", out.String(), err)
	}
	return res.Rows
}

// assertNoDuplicates fails when a contribution matching where is stored twice in a way the
// readers would count twice. FINAL collapses versions within a partition only, so the check
// reads without FINAL: an id with rows in two partitions is a duplicate no merge removes. Then,
// with FINAL, one row per id.
func assertNoDuplicates(t *testing.T, base, where string) {
	t.Helper()
	split := query(t, base, "SELECT id FROM contributions WHERE "+where+" GROUP BY id HAVING uniqExact(_partition_id) > 1 ORDER BY id LIMIT 10")
	if len(split) > 0 {
		t.Errorf("contributions stored in more than one partition (no merge removes them), e.g. %v", split)
	}
	rows := query(t, base, "SELECT count(), uniqExact(id) FROM contributions FINAL WHERE "+where)
	if rows[0][0] != rows[0][1] {
		t.Errorf("contributions FINAL where %s: %v rows for %v ids", where, rows[0][0], rows[0][1])
	}
}

func countsBy(t *testing.T, base, column string) map[string]int64 {
	t.Helper()
	rows := query(t, base, "SELECT "+column+", count() FROM contributions FINAL WHERE employee_id != '' GROUP BY 1")
	out := map[string]int64{}
	for _, r := range rows {
		out[strings.ToLower(fmt.Sprint(r[0]))] = int64(r[1].(float64))
	}
	return out
}

// waitFor polls fn until it returns true or d passes.
func waitFor(t *testing.T, d time.Duration, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func startTestStack(t *testing.T, ctx context.Context, cfgPath, dataDir string) *stack {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.NATS.ListenAddr = "127.0.0.1:0"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	s, err := startStack(ctx, stackOptions{cfg: cfg, dataDir: dataDir, log: log})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func requireChDB(t *testing.T) {
	t.Helper()
	if os.Getenv("CHDB_LIB_PATH") == "" {
		testkit.Missing(t, "CHDB_LIB_PATH is not set; run scripts/setup.sh chdb and `make test`, which sets it")
	}
}

func TestEndToEnd(t *testing.T) {
	requireChDB(t)
	f := newFixture(t)
	t.Setenv("GIVEBACK_WEBHOOK_SECRET", webhookSecret)
	ctx, cancel := context.WithCancel(context.Background())
	s := startTestStack(t, ctx, f.cfgPath, t.TempDir())
	base := "http://" + s.httpAddr.String()

	// The backfill line of the README's Commands table, against the running instance: no
	// --config, so it filters by the roster and the company's orgs the instance holds in NATS KV.
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"backfill", "gharchive", "--source", f.hoursDir,
		"--from", "2025-01-01T15", "--to", "2025-01-01T16", "--nats", s.natsURL, "--data", s.dataDir}, &out, &errb); err != nil {
		t.Fatalf("backfill: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "2 hours read, 0 skipped (done before), 1 missing, 0 failed") {
		t.Errorf("backfill did not read the sample's hour and count the next as missing: %q", errb.String())
	}
	f.postWebhooks(t, base)

	wantKinds := f.want.byKind()
	rawCount := func() int64 {
		rows := query(t, base, "SELECT count() FROM raw_events FINAL WHERE source = 'webhook'")
		return int64(rows[0][0].(float64))
	}
	waitFor(t, 60*time.Second, "every expected contribution", func() bool {
		if rawCount() < f.rawWant {
			return false
		}
		got := countsBy(t, base, "kind")
		for k, n := range wantKinds {
			if got[k] != n {
				return false
			}
		}
		return true
	})
	assertCounts(t, "kind", countsBy(t, base, "kind"), wantKinds)
	assertCounts(t, "login", countsBy(t, base, "actor_login"), f.want.byLogin())

	// Webhook deliveries of every type are kept raw; ping is answered, not stored.
	if got := rawCount(); got != f.rawWant {
		t.Errorf("raw webhook records = %d, want %d", got, f.rawWant)
	}
	// The opted-out person's work is nowhere, attributed or not.
	rows := query(t, base, "SELECT count() FROM contributions WHERE lower(actor_login) = "+quoteSQL(f.optedOut))
	if n := rows[0][0].(float64); n != 0 {
		t.Errorf("%v contributions of the opted-out %s were stored", n, f.optedOut)
	}
	cancel()
	if err := s.wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "\\'") + "'" }

func assertCounts(t *testing.T, by string, got, want map[string]int64) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		if got[k] != want[k] {
			t.Errorf("contributions by %s %q: got %d, want %d", by, k, got[k], want[k])
		}
	}
}

// TestRestartLosesNothing stops the pipeline right after a backfill was published (enrich has
// stored part of it at most), starts it again on the same data directory, and expects exactly
// the same contributions as an uninterrupted run: nothing lost, nothing counted twice.
func TestRestartLosesNothing(t *testing.T) {
	requireChDB(t)
	f := newFixture(t)
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	s := startTestStack(t, ctx, f.cfgPath, data)
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"backfill", "gharchive", "--config", f.cfgPath, "--source", f.hoursDir,
		"--from", "2025-01-01T15", "--to", "2025-01-01T15", "--nats", s.natsURL, "--data", s.dataDir}, &out, &errb); err != nil {
		t.Fatalf("backfill: %v\n%s", err, errb.String())
	}
	cancel()
	if err := s.wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	s2 := startTestStack(t, ctx2, f.cfgPath, data)
	base := "http://" + s2.httpAddr.String()
	// A second backfill of the same hour is skipped: the hour is recorded as done.
	errb.Reset()
	if err := run(ctx2, []string{"backfill", "gharchive", "--config", f.cfgPath, "--source", f.hoursDir,
		"--from", "2025-01-01T15", "--to", "2025-01-01T15", "--nats", s2.natsURL, "--data", s2.dataDir}, &out, &errb); err != nil {
		t.Fatalf("second backfill: %v\n%s", err, errb.String())
	}
	wantGH := newExpectation()
	_, evs := sampleActors(t, testkit.GHArchiveSample(t))
	for _, ev := range evs {
		var p ghPayload
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			t.Fatal(err)
		}
		wantGH.expect(ev.Type, ev.Actor.Login, ev.Repo.Name, p, f.onRoster)
	}
	// Messages the stopped process had pulled are handed back on the way out; one still in
	// flight then is redelivered only after the consumer's AckWait (30s), hence the margin.
	waitFor(t, 90*time.Second, "the backlog to drain after the restart", func() bool {
		got := countsBy(t, base, "kind")
		for k, n := range wantGH.byKind() {
			if got[k] != n {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second) // anything redelivered late would show up now
	assertCounts(t, "kind", countsBy(t, base, "kind"), wantGH.byKind())
	assertNoDuplicates(t, base, "1")
	cancel2()
	if err := s2.wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// A backfill against an instance that holds no roster, without a config naming one, would
// filter out every event: it fails, saying what to do, and publishes nothing.
func TestBackfillWithoutRosterFails(t *testing.T) {
	srv, _, js := testkit.NATS(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "2025-01-01-15.json.gz"), gzipped(t, `{"id":"1","type":"PushEvent","actor":{"id":1,"login":"ann"},"repo":{"id":2,"name":"golang/go"},"payload":{},"created_at":"2025-01-01T15:00:00Z"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"backfill", "gharchive", "--source", dir,
		"--from", "2025-01-01T15", "--to", "2025-01-01T16", "--nats", srv.URL(), "--data", t.TempDir()}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "no roster") || !strings.Contains(err.Error(), "giveback roster load") {
		t.Fatalf("backfill without a roster: err %v, want one naming `giveback roster load`\n%s", err, errb.String())
	}
	info, err := js.Stream(context.Background(), events.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 0 {
		t.Errorf("%d raw records published", n)
	}
}

// gzipped returns s compressed as GH Archive serves its hours.
func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
