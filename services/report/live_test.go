package report_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
)

// publish puts c on the enriched stream as enrich does and returns its stream sequence.
func publish(t *testing.T, js jetstream.JetStream, c events.Contribution) uint64 {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(context.Background(), events.SubjectContribution, data, jetstream.WithMsgID(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// as serves h to callers of role, as the guard would after authenticating them.
func as(role auth.Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(auth.WithIdentity(r.Context(), auth.Identity{Subject: "test-" + role.String(), Role: role, Via: "token"})))
	})
}

// sse is an open event stream.
type sse struct {
	resp *http.Response
	sc   *bufio.Scanner
}

type sseEvent struct {
	id, name string
	data     report.LiveContribution
	raw      string
}

func openSSE(t *testing.T, url string, lastID string) *sse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &sse{resp: resp, sc: bufio.NewScanner(resp.Body)}
}

// next returns the next event, skipping comments and the retry field.
func (s *sse) next(t *testing.T) sseEvent {
	t.Helper()
	var ev sseEvent
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				return ev
			}
		case strings.HasPrefix(line, "id: "):
			ev.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.raw = strings.TrimPrefix(line, "data: ")
			if ev.name == "contribution" {
				if err := json.Unmarshal([]byte(ev.raw), &ev.data); err != nil {
					t.Fatalf("event data %q: %v", ev.raw, err)
				}
			}
		}
	}
	t.Fatalf("the stream ended: %v", s.sc.Err())
	return ev
}

func liveContribution(id, kind, repo, dest, login, emp string) events.Contribution {
	owner, _, _ := strings.Cut(repo, "/")
	return events.Contribution{Schema: events.SchemaContribution, ID: id, Kind: kind, OccurredAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		ActorLogin: login, EmployeeID: emp, Team: "core", Repo: repo, RepoOwner: owner, Destination: dest, IsUpstream: dest == "upstream",
		Number: 7, Title: "Fix the " + id, URL: "https://github.com/" + repo + "/pull/7", Source: events.SourceWebhook, Version: 1}
}

// TestLive publishes contributions through a real embedded NATS and reads them from the live
// endpoint as server-sent events: to a viewer without the people (login, URL, a person's own
// repository), to an analyst allowed to see people with them, resuming after Last-Event-ID, and
// on the page.
func TestLive(t *testing.T) {
	_, _, js := testkit.NATS(t)
	srv := newServer(t, report.Options{Company: "Acme", Live: js, Privacy: config.Privacy{People: true}})
	t.Cleanup(srv.Close)
	viewer := httptest.NewServer(as(auth.Viewer, srv.Handler()))
	t.Cleanup(viewer.Close)
	analyst := httptest.NewServer(as(auth.Analyst, srv.Handler()))
	t.Cleanup(analyst.Close)

	// Stored before anyone watched: the stream's recent past primes the feed.
	a := publish(t, js, liveContribution("pr:nats-io/nats.go#7", events.KindPullRequest, "nats-io/nats.go", "upstream", "octocat", "e1"))

	v := openSSE(t, viewer.URL+"/api/v1/live", "")
	ev := v.next(t)
	if ev.name != "contribution" || ev.id != strconv.FormatUint(a, 10) || ev.data.Repo != "nats-io/nats.go" || ev.data.Kind != "pull_request" ||
		!ev.data.Employee || ev.data.Title != "Fix the pr:nats-io/nats.go#7" || ev.data.Team != "core" {
		t.Fatalf("viewer's first event: %+v", ev)
	}
	if ev.data.Login != "" || ev.data.URL != "" || strings.Contains(ev.raw, "octocat") {
		t.Fatalf("a viewer was shown who: %s", ev.raw)
	}

	an := openSSE(t, analyst.URL+"/api/v1/live?after="+strconv.FormatUint(a, 10), "")
	b := publish(t, js, liveContribution("commit:octocat/dotfiles@1", events.KindCommit, "octocat/dotfiles", "personal", "octocat", "e1"))
	ev = v.next(t)
	if ev.id != strconv.FormatUint(b, 10) || ev.data.Destination != "personal" || ev.data.Repo != "" || ev.data.Title != "" || strings.Contains(ev.raw, "octocat") {
		t.Fatalf("viewer's event for a personal repository: %s", ev.raw)
	}
	ev = an.next(t)
	if ev.id != strconv.FormatUint(b, 10) || ev.data.Repo != "octocat/dotfiles" || ev.data.Login != "octocat" || ev.data.URL == "" {
		t.Fatalf("analyst's event: %s", ev.raw)
	}

	// A browser reconnecting says where it was; the feed resumes after it.
	c := publish(t, js, liveContribution("issue:acme/tool#9", events.KindIssue, "acme/tool", "company_oss", "outsider", ""))
	r := openSSE(t, analyst.URL+"/api/v1/live", strconv.FormatUint(a, 10))
	for _, want := range []uint64{b, c} {
		if ev := r.next(t); ev.id != strconv.FormatUint(want, 10) {
			t.Fatalf("resumed stream gave %s, want %d", ev.id, want)
		}
	}
	if ev := v.next(t); ev.id != strconv.FormatUint(c, 10) || ev.data.Employee || ev.data.Repo != "acme/tool" {
		t.Fatalf("viewer's event for an outside contributor: %s", ev.raw)
	}

	// The page lists them, newest first, with its one script allowed.
	resp, err := http.Get(viewer.URL + "/live")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&page); err != nil {
		t.Fatal(err)
	}
	body := page.String()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
		strings.Index(body, `data-seq="`+strconv.FormatUint(c, 10)+`"`) > strings.Index(body, `data-seq="`+strconv.FormatUint(a, 10)+`"`) ||
		!strings.Contains(body, `data-after="`+strconv.FormatUint(c, 10)+`"`) || !strings.Contains(body, "nats-io/nats.go#7") ||
		strings.Contains(body, "octocat") || !strings.Contains(body, `<script src="live.js"></script>`) {
		t.Fatalf("live page: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), body)
	}
	if status, js := send(t, viewer, http.MethodGet, "/live.js", "", ""); status != http.StatusOK || !strings.Contains(js, "new EventSource(") {
		t.Fatalf("live.js: %d", status)
	}
	if status, out := send(t, viewer, http.MethodGet, "/api/v1/live?after=x", "", ""); status != http.StatusBadRequest || !strings.Contains(out, `"param":"after"`) {
		t.Fatalf("a bad after: %d %s", status, out)
	}
}

// TestLiveWithoutNATS answers 503 saying what is missing.
func TestLiveWithoutNATS(t *testing.T) {
	ts := httptest.NewServer(newServer(t, report.Options{Company: "Acme"}).Handler())
	t.Cleanup(ts.Close)
	if status, out := send(t, ts, http.MethodGet, "/api/v1/live", "", ""); status != http.StatusServiceUnavailable || !strings.Contains(out, "nats.url") {
		t.Fatalf("api: %d %s", status, out)
	}
	if status, out := send(t, ts, http.MethodGet, "/live", "", ""); status != http.StatusServiceUnavailable || !strings.Contains(out, "nats.url") {
		t.Fatalf("page: %d %s", status, out)
	}
}
