package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"giveback.dev/platform/roster"
	"giveback.dev/platform/testkit"
)

// sampleEvent is the part of a sample event the hydration test reads and rewrites.
type sampleEvent struct {
	ID        string                `json:"id"`
	Type      string                `json:"type"`
	CreatedAt string                `json:"created_at"`
	Actor     person                `json:"actor"`
	Repo      struct{ Name string } `json:"repo"`
	Payload   json.RawMessage       `json:"payload"`
}

type samplePull struct {
	Action      string          `json:"action"`
	Number      int             `json:"number"`
	PullRequest json.RawMessage `json:"pull_request"`
}

type samplePullHead struct {
	Number int             `json:"number"`
	User   person          `json:"user"`
	Merged bool            `json:"merged"`
	Files  int             `json:"changed_files"`
	Adds   int             `json:"additions"`
	ID     int64           `json:"id"`
	URL    string          `json:"url"`
	Head   json.RawMessage `json:"head"`
	Base   json.RawMessage `json:"base"`
}

type samplePush struct {
	RepositoryID int64  `json:"repository_id"`
	PushID       int64  `json:"push_id"`
	Ref          string `json:"ref"`
	Head         string `json:"head"`
	Before       string `json:"before"`
	Commits      []struct {
		SHA      string `json:"sha"`
		Message  string `json:"message"`
		Distinct bool   `json:"distinct"`
		Author   struct {
			Email string `json:"email"`
			Name  string `json:"name"`
		} `json:"author"`
	} `json:"commits"`
}

// fakeGitHub answers what hydration asks, from what the sample's whole events say: a pull
// request's object as its last event in the hour shows it, and a push's commits in the shape of
// GitHub's compare answer. It records the paths asked.
type fakeGitHub struct {
	pulls    map[string]json.RawMessage // lower(owner/name)#n -> pull request object
	compares map[string]json.RawMessage // lower(owner/name)/before...head -> compare answer
	mu       sync.Mutex
	asked    []string
	badAuth  []string // requests without the installation token
}

func (g *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/api/v3")
	if p == "/app/installations/77/access_tokens" && r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":"ghs_e2e","expires_at":%q}`, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		return
	}
	g.mu.Lock()
	g.asked = append(g.asked, p)
	if r.Header.Get("Authorization") != "token ghs_e2e" {
		g.badAuth = append(g.badAuth, p)
	}
	g.mu.Unlock()
	parts := strings.Split(strings.TrimPrefix(p, "/repos/"), "/")
	var body json.RawMessage
	if len(parts) == 4 {
		repo := strings.ToLower(parts[0] + "/" + parts[1])
		switch parts[2] {
		case "pulls":
			body = g.pulls[repo+"#"+parts[3]]
		case "compare":
			body = g.compares[repo+"/"+parts[3]]
		}
	}
	if body == nil {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"Not Found"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", "4999")
	w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Hour).Unix()))
	_, _ = w.Write(body)
}

// trimmedHour writes the sample as GitHub publishes events since 2025-10-07: every
// PullRequestEvent's pull request cut down to its url, id, number, head and base, and every
// PushEvent without its commits. It returns what the whole events say, for the fake GitHub and
// for the expectation: per pull request its author and final merge state, per push its commits.
func trimmedHour(t *testing.T, sample, dir string, onRoster map[string]bool) (*fakeGitHub, map[string]string, map[string]string) {
	t.Helper()
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	g := &fakeGitHub{pulls: map[string]json.RawMessage{}, compares: map[string]json.RawMessage{}}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	enc := json.NewEncoder(zw)
	prs := map[string]string{}     // id -> "author merged=…" of PRs a roster person acted on
	commits := map[string]string{} // id -> credited login of the commits of roster people's pushes
	final := map[string]samplePullHead{}
	dec := json.NewDecoder(zr)
	for {
		var line map[string]json.RawMessage
		if err := dec.Decode(&line); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var ev sampleEvent
		b, _ := json.Marshal(line)
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		repo := strings.ToLower(ev.Repo.Name)
		actorOn := onRoster[strings.ToLower(ev.Actor.Login)]
		switch ev.Type {
		case "PullRequestEvent":
			var p samplePull
			var h samplePullHead
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(p.PullRequest, &h); err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("%s#%d", repo, p.Number)
			g.pulls[key] = p.PullRequest // the last event of the hour wins: its state is the latest
			final[key] = h
			if actorOn {
				prs["pr:"+key] = ""
			}
			trimmed, _ := json.Marshal(map[string]any{"action": p.Action, "number": p.Number,
				"pull_request": map[string]any{"url": h.URL, "id": h.ID, "number": h.Number, "head": h.Head, "base": h.Base}})
			line["payload"] = trimmed
		case "PushEvent":
			var p samplePush
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			var listed []map[string]any
			for _, c := range p.Commits {
				if !c.Distinct {
					continue
				}
				listed = append(listed, map[string]any{"sha": c.SHA, "author": nil, "commit": map[string]any{
					"message": c.Message, "author": map[string]any{"name": c.Author.Name, "email": c.Author.Email, "date": ev.CreatedAt}}})
				if actorOn {
					login := ev.Actor.Login
					if l, ok := roster.LoginFromNoreply(c.Author.Email); ok {
						login = l
					}
					commits["commit:"+repo+"@"+strings.ToLower(c.SHA)] = strings.ToLower(login)
				}
			}
			cmp, _ := json.Marshal(map[string]any{"total_commits": len(listed), "commits": listed})
			g.compares[repo+"/"+p.Before+"..."+p.Head] = cmp
			trimmed, _ := json.Marshal(map[string]any{"repository_id": p.RepositoryID, "push_id": p.PushID, "ref": p.Ref, "head": p.Head, "before": p.Before})
			line["payload"] = trimmed
		}
		if err := enc.Encode(line); err != nil {
			t.Fatal(err)
		}
	}
	for id := range prs {
		h := final[strings.TrimPrefix(id, "pr:")]
		prs[id] = fmt.Sprintf("%s merged=%v files=%d additions=%d", strings.ToLower(h.User.Login), h.Merged, h.Files, h.Adds)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2025-01-01-15.json.gz"), out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return g, prs, commits
}

// An hour in the trimmed format, hydrated from a GitHub that answers with what the events lost,
// ends with the same pull request authors and merge states, and the same commits credited to the
// same people, as the whole events give; the trimmed rows are updated in place, not duplicated.
func TestTrimmedHourHydrated(t *testing.T) {
	requireChDB(t)
	sample := testkit.GHArchiveSample(t)
	actors, _ := sampleActors(t, sample)
	dir := t.TempDir()
	onRoster := map[string]bool{}
	var rosterCSV strings.Builder
	rosterCSV.WriteString(strings.Join(roster.Header, ",") + "\n")
	for i, l := range actors[:40] {
		onRoster[strings.ToLower(l)] = true
		fmt.Fprintf(&rosterCSV, "e%02d,Person %d,core,%s,,2015-01-01,,false\n", i, i, l)
	}
	if err := os.WriteFile(filepath.Join(dir, "roster.csv"), []byte(rosterCSV.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	hours := filepath.Join(dir, "hours")
	if err := os.MkdirAll(hours, 0o750); err != nil {
		t.Fatal(err)
	}
	gh, wantPRs, wantCommits := trimmedHour(t, sample, hours, onRoster)
	if len(wantPRs) == 0 || len(wantCommits) == 0 {
		t.Fatalf("the roster's people have %d pull requests and %d commits in the sample: nothing to hydrate", len(wantPRs), len(wantCommits))
	}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	cfgPath := filepath.Join(dir, "giveback.yaml")
	// Ingest authenticates as a GitHub App installation (no token).
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(dir, "app.pem"), pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "company:\n  name: E2E Corp\nroster: roster.csv\ngharchive:\n  filter: roster\n" +
		"github:\n  base_url: " + srv.URL + "/api/v3/\n  token_env: E2E_GITHUB_TOKEN\n  hydrate: true\n" +
		"  app_id: 99\n  app_installation_id: 77\n  app_private_key_file: app.pem\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("E2E_GITHUB_TOKEN", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startTestStack(t, ctx, cfgPath, t.TempDir())
	base := "http://" + s.httpAddr.String()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"backfill", "gharchive", "--config", cfgPath, "--source", hours,
		"--from", "2025-01-01T15", "--nats", s.natsURL, "--data", s.dataDir}, &out, &errb); err != nil {
		t.Fatalf("backfill: %v\n%s", err, errb.String())
	}

	rowsOf := func(kind string) map[string]string {
		got := map[string]string{}
		for _, r := range query(t, base, "SELECT id, lower(actor_login), merged, changed_files, additions FROM contributions FINAL WHERE kind = "+quoteSQL(kind)) {
			v := fmt.Sprint(r[1])
			if kind == "pull_request" {
				v = fmt.Sprintf("%s merged=%v files=%v additions=%v", r[1], r[2].(float64) == 1, r[3], r[4])
			}
			got[fmt.Sprint(r[0])] = v
		}
		return got
	}
	same := func(got, want map[string]string) bool {
		if len(got) != len(want) {
			return false
		}
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(90 * time.Second)
	for !same(rowsOf("pull_request"), wantPRs) || !same(rowsOf("commit"), wantCommits) {
		if time.Now().After(deadline) {
			report := func(what string, got, want map[string]string) {
				var diff []string
				for k, v := range want {
					if got[k] != v {
						diff = append(diff, fmt.Sprintf("%s: got %q want %q", k, got[k], v))
					}
				}
				for k, v := range got {
					if _, ok := want[k]; !ok {
						diff = append(diff, fmt.Sprintf("%s: got %q, not expected", k, v))
					}
				}
				sort.Strings(diff)
				t.Errorf("%s: %d rows, want %d; differences:\n%s", what, len(got), len(want), strings.Join(diff, "\n"))
			}
			report("pull requests", rowsOf("pull_request"), wantPRs)
			report("commits", rowsOf("commit"), wantCommits)
			t.FailNow()
		}
		time.Sleep(300 * time.Millisecond)
	}
	// One row per pull request even before merges collapse: the hydrated state replaced the
	// trimmed one.
	assertNoDuplicates(t, base, "kind = 'pull_request'")
	gh.mu.Lock()
	asked, bad := len(gh.asked), gh.badAuth
	gh.mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("%d requests without the installation token, e.g. %s", len(bad), bad[0])
	}
	t.Logf("%d pull requests and %d commits hydrated with %d requests", len(wantPRs), len(wantCommits), asked)
	cancel()
	if err := s.wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}
