package mapper_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/services/enrich/mapper"
)

// archiveLine builds a GH Archive line in the trimmed format GitHub emits since 2025-10-07.
func archiveLine(typ, payload string) string {
	return `{"id":"50000000001","type":"` + typ + `","actor":{"id":1,"login":"alice"},` +
		`"repo":{"id":2,"name":"Acme/Widget","url":"https://api.github.com/repos/Acme/Widget"},` +
		`"payload":` + payload + `,"public":true,"created_at":"2025-10-08T10:00:00Z"}`
}

func TestTrimmedPayloads(t *testing.T) {
	eventAt := time.Date(2025, 10, 8, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, typ, payload string
		want               []events.Contribution // only the fields checked below
	}{
		{
			name:    "push without commits",
			typ:     "PushEvent",
			payload: `{"repository_id":2,"push_id":3,"ref":"refs/heads/main","head":"abc","before":"def"}`,
		},
		{
			name:    "pr closed without author nor merge state",
			typ:     "PullRequestEvent",
			payload: `{"action":"closed","number":7,"pull_request":{"id":9,"number":7,"url":"https://api.github.com/repos/Acme/Widget/pulls/7","head":{"ref":"x","sha":"abc"},"base":{"ref":"main","sha":"def"}}}`,
		},
		{
			name:    "pr opened without author: the actor opened it",
			typ:     "PullRequestEvent",
			payload: `{"action":"opened","number":7,"pull_request":{"id":9,"number":7,"url":"https://api.github.com/repos/Acme/Widget/pulls/7"}}`,
			want: []events.Contribution{{
				ID: "pr:acme/widget#7", Kind: events.KindPullRequest, ActorLogin: "alice", OccurredAt: eventAt, State: "open",
				Number: 7, URL: "https://github.com/Acme/Widget/pull/7", Version: 0, // a stand-in: any real state replaces it
			}},
		},
		{
			name:    "pr closed with author, without merged",
			typ:     "PullRequestEvent",
			payload: `{"action":"closed","number":7,"pull_request":{"number":7,"state":"closed","title":"Fix","user":{"login":"bob"},"created_at":"2025-10-01T08:00:00Z","updated_at":"2025-10-08T10:00:00Z","closed_at":"2025-10-08T10:00:00Z","html_url":"https://github.com/Acme/Widget/pull/7"}}`,
			want: []events.Contribution{{
				ID: "pr:acme/widget#7", Kind: events.KindPullRequest, ActorLogin: "bob", OccurredAt: time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC),
				State: "closed", Number: 7, Title: "Fix", URL: "https://github.com/Acme/Widget/pull/7", Version: uint64(eventAt.UnixMilli()),
			}},
		},
		{
			name:    "pr closed merged by a maintainer keeps the author",
			typ:     "PullRequestEvent",
			payload: `{"action":"closed","number":7,"pull_request":{"number":7,"state":"closed","user":{"login":"bob"},"created_at":"2025-10-01T08:00:00Z","updated_at":"2025-10-08T10:00:00Z","closed_at":"2025-10-08T10:00:00Z","merged_at":"2025-10-08T10:00:00Z","merged":true}}`,
			want: []events.Contribution{{
				ID: "pr:acme/widget#7", Kind: events.KindPullRequest, ActorLogin: "bob", OccurredAt: time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC),
				State: "closed", Merged: true, Number: 7, URL: "https://github.com/Acme/Widget/pull/7", Version: uint64(eventAt.UnixMilli()),
			}, {
				// and alice, who closed it, merged it
				ID: "merge:acme/widget#7", Kind: events.KindMerge, ActorLogin: "alice", OccurredAt: eventAt,
				Number: 7, URL: "https://github.com/Acme/Widget/pull/7", Version: uint64(eventAt.UnixMilli()),
			}},
		},
		{
			name:    "pr merged by its author: no merge row",
			typ:     "PullRequestEvent",
			payload: `{"action":"closed","number":7,"pull_request":{"number":7,"state":"closed","user":{"login":"Alice"},"created_at":"2025-10-01T08:00:00Z","updated_at":"2025-10-08T10:00:00Z","closed_at":"2025-10-08T10:00:00Z","merged_at":"2025-10-08T10:00:00Z","merged":true}}`,
			want: []events.Contribution{{
				ID: "pr:acme/widget#7", Kind: events.KindPullRequest, ActorLogin: "Alice", OccurredAt: time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC),
				State: "closed", Merged: true, Number: 7, URL: "https://github.com/Acme/Widget/pull/7", Version: uint64(eventAt.UnixMilli()),
			}},
		},
		{
			name:    "pr labeled after its merge: no merge row (only the closing event names the merger)",
			typ:     "PullRequestEvent",
			payload: `{"action":"labeled","number":7,"pull_request":{"number":7,"state":"closed","user":{"login":"bob"},"created_at":"2025-10-01T08:00:00Z","updated_at":"2025-10-08T10:00:00Z","closed_at":"2025-10-08T10:00:00Z","merged_at":"2025-10-08T10:00:00Z","merged":true}}`,
			want: []events.Contribution{{
				ID: "pr:acme/widget#7", Kind: events.KindPullRequest, ActorLogin: "bob", OccurredAt: time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC),
				State: "closed", Merged: true, Number: 7, URL: "https://github.com/Acme/Widget/pull/7", Version: uint64(eventAt.UnixMilli()),
			}},
		},
		{
			name:    "review approved keeps its state",
			typ:     "PullRequestReviewEvent",
			payload: `{"action":"created","review":{"id":6,"user":{"login":"bob"},"state":"approved","submitted_at":"2025-10-08T09:00:00Z"},"pull_request":{"number":7}}`,
			want: []events.Contribution{{
				ID: "review:acme/widget#7/6", Kind: events.KindReview, ActorLogin: "bob", OccurredAt: eventAt.Add(-time.Hour), Number: 7,
				State: "approved", Version: uint64(eventAt.Add(-time.Hour).UnixMilli()),
			}},
		},
		{
			name:    "review dismissed",
			typ:     "PullRequestReviewEvent",
			payload: `{"action":"dismissed","review":{"id":5,"user":{"login":"bob"}},"pull_request":{"number":7}}`,
		},
		{
			name:    "review without submitted_at falls back to the event time",
			typ:     "PullRequestReviewEvent",
			payload: `{"action":"created","review":{"id":5},"pull_request":{"number":7}}`,
			want: []events.Contribution{{
				ID: "review:acme/widget#7/5", Kind: events.KindReview, ActorLogin: "alice", OccurredAt: eventAt, Number: 7, Version: uint64(eventAt.UnixMilli()),
			}},
		},
		{
			name:    "comment edited",
			typ:     "IssueCommentEvent",
			payload: `{"action":"edited","comment":{"id":5,"user":{"login":"bob"}},"issue":{"number":7}}`,
		},
		{
			name:    "release created, not published",
			typ:     "ReleaseEvent",
			payload: `{"action":"created","release":{"id":5,"tag_name":"v1"}}`,
		},
		{
			name:    "release published without name",
			typ:     "ReleaseEvent",
			payload: `{"action":"published","release":{"id":5,"tag_name":"v1.0.0","html_url":"https://github.com/Acme/Widget/releases/tag/v1.0.0"}}`,
			want: []events.Contribution{{
				ID: "release:acme/widget/5", Kind: events.KindRelease, ActorLogin: "alice", OccurredAt: eventAt, Title: "v1.0.0",
				URL: "https://github.com/Acme/Widget/releases/tag/v1.0.0", Version: uint64(eventAt.UnixMilli()),
			}},
		},
		{
			name:    "push skips commits that are not distinct",
			typ:     "PushEvent",
			payload: `{"commits":[{"sha":"AAA111","message":"one\r\nbody","distinct":true},{"sha":"bbb222","message":"two","distinct":false}]}`,
			want: []events.Contribution{{
				ID: "commit:acme/widget@aaa111", Kind: events.KindCommit, ActorLogin: "alice", OccurredAt: eventAt, Title: "one",
				URL: "https://github.com/Acme/Widget/commit/AAA111", Version: uint64(eventAt.UnixMilli()),
			}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := mapper.Map(rawOf(events.SourceGHArchive, tc.typ, archiveLine(tc.typ, tc.payload)))
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, cs, tc.want)
		})
	}
}

// checkRows compares rows on their mapped fields, filling in what every row shares.
func checkRows(t *testing.T, got, want []events.Contribution) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.MergedAt != nil && w.Merged {
			w.MergedAt = g.MergedAt
		}
		w.ClosedAt = g.ClosedAt
		w.Schema, w.Source, w.RawID = events.SchemaContribution, g.Source, "test-1"
		w.Repo, w.RepoOwner = g.Repo, g.RepoOwner
		if g.Repo == "" || g.RepoOwner == "" || !strings.HasPrefix(g.Repo, g.RepoOwner+"/") {
			t.Errorf("repo %q owner %q", g.Repo, g.RepoOwner)
		}
		if g != w {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
		if w.Merged && g.MergedAt == nil {
			t.Errorf("row %d: merged without merged_at", i)
		}
	}
}

func TestREST(t *testing.T) {
	created := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	updated := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	const issueFields = `"html_url":"https://github.com/Up/Stream/pull/42","number":42,"title":"Add x","state":"closed",` +
		`"user":{"login":"ann"},"created_at":"2025-03-01T09:00:00Z","updated_at":"2025-03-04T09:00:00Z","closed_at":"2025-03-03T09:00:00Z"`
	closed := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, kind, payload string
		meta                map[string]string
		want                events.Contribution
	}{
		{
			name: "issue that is a merged PR",
			kind: "issue",
			payload: `{"repository_url":"https://api.github.com/repos/Up/Stream",` + issueFields +
				`,"pull_request":{"url":"https://api.github.com/repos/Up/Stream/pulls/42","html_url":"https://github.com/Up/Stream/pull/42","merged_at":"2025-03-03T09:00:00Z"}}`,
			want: events.Contribution{ID: "pr:up/stream#42", Kind: events.KindPullRequest, Merged: true, MergedAt: &closed},
		},
		{
			name: "issue that is a PR closed unmerged",
			kind: "issue",
			payload: `{"repository_url":"https://api.github.com/repos/Up/Stream",` + issueFields +
				`,"pull_request":{"url":"https://api.github.com/repos/Up/Stream/pulls/42","merged_at":null}}`,
			want: events.Contribution{ID: "pr:up/stream#42", Kind: events.KindPullRequest},
		},
		{
			name:    "plain issue, repo from meta",
			kind:    "issue",
			payload: `{` + issueFields + `}`,
			meta:    map[string]string{"repo": "Up/Stream", "number": "42"},
			want:    events.Contribution{ID: "issue:up/stream#42", Kind: events.KindIssue},
		},
		{
			name: "pull request detail",
			kind: "pull_request_detail",
			payload: `{` + issueFields + `,"merged":true,"merged_at":"2025-03-03T09:00:00Z",` +
				`"base":{"ref":"main","repo":{"full_name":"Up/Stream","owner":{"login":"Up"}}},"head":{"repo":{"full_name":"ann/Stream"}}}`,
			want: events.Contribution{ID: "pr:up/stream#42", Kind: events.KindPullRequest, Merged: true, MergedAt: &closed},
		},
		{
			name: "pull request detail merged by its author",
			kind: "pull_request_detail",
			payload: `{` + issueFields + `,"merged":true,"merged_at":"2025-03-03T09:00:00Z","merged_by":{"login":"Ann"},` +
				`"base":{"ref":"main","repo":{"full_name":"Up/Stream","owner":{"login":"Up"}}}}`,
			want: events.Contribution{ID: "pr:up/stream#42", Kind: events.KindPullRequest, Merged: true, MergedAt: &closed},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawOf(events.SourceREST, tc.kind, tc.payload)
			r.Meta = tc.meta
			cs, err := mapper.Map(r)
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			w.Schema, w.Source, w.RawID = events.SchemaContribution, events.SourceREST, "test-1"
			w.Repo, w.RepoOwner, w.Number, w.Title, w.State, w.ActorLogin = "Up/Stream", "Up", 42, "Add x", "closed", "ann"
			w.OccurredAt, w.ClosedAt, w.Version = created, &closed, uint64(updated.UnixMilli())
			w.URL = "https://github.com/Up/Stream/pull/42"
			if len(cs) != 1 {
				t.Fatalf("%d rows %+v, want 1", len(cs), cs)
			}
			g := cs[0]
			if (g.MergedAt == nil) != (w.MergedAt == nil) || g.MergedAt != nil && !g.MergedAt.Equal(*w.MergedAt) ||
				g.ClosedAt == nil || !g.ClosedAt.Equal(closed) {
				t.Errorf("merged_at %v closed_at %v, want %v %v", g.MergedAt, g.ClosedAt, w.MergedAt, closed)
			}
			g.MergedAt, g.ClosedAt, w.MergedAt, w.ClosedAt = nil, nil, nil, nil
			if g != w {
				t.Errorf("\n got %+v\nwant %+v", g, w)
			}
		})
	}
}

func TestNotContribution(t *testing.T) {
	for _, tc := range []struct{ source, kind string }{
		{events.SourceGHArchive, "WatchEvent"},
		{events.SourceGHArchive, "ForkEvent"},
		{events.SourceGHArchive, "CreateEvent"},
		{events.SourceGHArchive, "DeleteEvent"},
		{events.SourceGHArchive, "SomethingNewEvent"},
		{events.SourceWebhook, "ping"},
		{events.SourceWebhook, "star"},
		{events.SourceWebhook, "workflow_run"},
		{events.SourceREST, "repository"},
	} {
		t.Run(tc.source+"/"+tc.kind, func(t *testing.T) {
			cs, err := mapper.Map(rawOf(tc.source, tc.kind, `{}`))
			if !errors.Is(err, mapper.ErrNotContribution) || cs != nil {
				t.Fatalf("got %v, %v; want ErrNotContribution", cs, err)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	for _, tc := range []struct{ name, source, kind, payload, want string }{
		{"not json", events.SourceGHArchive, "PullRequestEvent", `{"id":`, "decode payload"},
		{"not json webhook", events.SourceWebhook, "push", `<html>`, "decode payload"},
		{"not json rest", events.SourceREST, "issue", `[`, "decode payload"},
		{"wrong type", events.SourceGHArchive, "IssuesEvent", archiveLine("IssuesEvent", `{"issue":{"number":"seven"}}`), "decode payload"},
		{"missing repo", events.SourceGHArchive, "PullRequestEvent", `{"type":"PullRequestEvent","actor":{"login":"a"},"payload":{"number":1,"pull_request":{"number":1}}}`, "repo.name: missing"},
		{"repo without owner", events.SourceGHArchive, "PushEvent", `{"repo":{"name":"widget"},"payload":{}}`, "repo.name: \"widget\" is not owner/name"},
		{"missing repository", events.SourceWebhook, "pull_request", `{"action":"opened","number":1,"pull_request":{"number":1}}`, "repository.full_name: missing"},
		{"missing number", events.SourceGHArchive, "PullRequestEvent", archiveLine("PullRequestEvent", `{"action":"opened","pull_request":{"user":{"login":"bob"}}}`), "payload.pull_request.number: missing"},
		{"missing issue number", events.SourceWebhook, "issues", `{"action":"opened","issue":{"user":{"login":"bob"}},"repository":{"full_name":"a/b"}}`, "issue.number: missing"},
		{"missing review id", events.SourceGHArchive, "PullRequestReviewEvent", archiveLine("PullRequestReviewEvent", `{"action":"created","review":{},"pull_request":{"number":7}}`), "payload.review.id: missing"},
		{"missing comment id", events.SourceGHArchive, "IssueCommentEvent", archiveLine("IssueCommentEvent", `{"action":"created","comment":{},"issue":{"number":7}}`), "payload.comment.id: missing"},
		{"missing sha", events.SourceGHArchive, "PushEvent", archiveLine("PushEvent", `{"commits":[{"distinct":true}]}`), "payload.commits[0].sha: missing"},
		{"bad timestamp", events.SourceGHArchive, "IssuesEvent", archiveLine("IssuesEvent", `{"action":"opened","issue":{"number":1,"user":{"login":"b"},"created_at":"yesterday"}}`), "payload.issue.created_at"},
		{"bad event time", events.SourceGHArchive, "PushEvent", `{"repo":{"name":"a/b"},"created_at":"soon","payload":{}}`, "created_at"},
		{"rest without repo", events.SourceREST, "issue", `{"number":1,"user":{"login":"b"},"created_at":"2025-01-01T00:00:00Z"}`, "repository_url or meta.repo: missing"},
		{"rest without number", events.SourceREST, "pull_request_detail", `{"base":{"repo":{"full_name":"a/b"}},"user":{"login":"b"}}`, "number: missing"},
		{"unknown source", "carrier-pigeon", "PushEvent", `{}`, `source "carrier-pigeon": unknown`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := mapper.Map(rawOf(tc.source, tc.kind, tc.payload))
			if err == nil || errors.Is(err, mapper.ErrNotContribution) || !strings.Contains(err.Error(), tc.want) || cs != nil {
				t.Fatalf("got %d rows, error %v; want an error containing %q", len(cs), err, tc.want)
			}
		})
	}
}

// TestMergedBy checks the merge row of pull requests whose merger the record names.
func TestMergedBy(t *testing.T) {
	mergedAt := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	const pr = `"number":42,"state":"closed","title":"Add x","user":{"login":"ann"},"html_url":"https://github.com/Up/Stream/pull/42",` +
		`"created_at":"2025-03-01T09:00:00Z","updated_at":"2025-03-04T09:00:00Z","closed_at":"2025-03-03T09:00:00Z","merged":true,"merged_at":"2025-03-03T09:00:00Z"`
	for _, tc := range []struct{ name, source, kind, payload string }{
		{"rest pull request detail", events.SourceREST, "pull_request_detail",
			`{` + pr + `,"merged_by":{"login":"Maintainer"},"base":{"repo":{"full_name":"Up/Stream"}}}`},
		{"webhook closed", events.SourceWebhook, "pull_request",
			`{"action":"closed","number":42,"pull_request":{` + pr + `,"merged_by":{"login":"Maintainer"}},"repository":{"full_name":"Up/Stream"},"sender":{"login":"someone-else"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := mapper.Map(rawOf(tc.source, tc.kind, tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 2 {
				t.Fatalf("%d rows %+v, want the pull request and its merge", len(cs), cs)
			}
			m := cs[1]
			want := events.Contribution{Schema: events.SchemaContribution, ID: "merge:up/stream#42", Kind: events.KindMerge,
				OccurredAt: mergedAt, ActorLogin: "Maintainer", Repo: "Up/Stream", RepoOwner: "Up", Number: 42, Title: "Add x",
				URL: "https://github.com/Up/Stream/pull/42", Source: tc.source, RawID: "test-1", Version: uint64(mergedAt.UnixMilli())}
			if m != want {
				t.Errorf("\n got %+v\nwant %+v", m, want)
			}
		})
	}
}
