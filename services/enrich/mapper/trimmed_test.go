package mapper_test

import (
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/services/enrich/mapper"
)

func TestTrimmed(t *testing.T) {
	at := time.Date(2025, 10, 8, 10, 0, 0, 0, time.UTC)
	head, before := "8b6d1f0c5a7e4b3d2c1f0e9d8c7b6a5f4e3d2c1b", "1234567890abcdef1234567890abcdef12345678"
	for _, tc := range []struct {
		name, typ, payload string
		want               *events.Hydrate
	}{
		{
			name: "push without commits", typ: "PushEvent",
			payload: `{"repository_id":2,"push_id":3,"ref":"refs/heads/main","head":"` + head + `","before":"` + before + `"}`,
			want:    &events.Hydrate{Kind: events.HydratePush, Repo: "Acme/Widget", Head: head, Before: before},
		},
		{
			name: "push of a new branch", typ: "PushEvent",
			payload: `{"ref":"refs/heads/x","head":"` + head + `","before":"0000000000000000000000000000000000000000"}`,
			want:    &events.Hydrate{Kind: events.HydratePush, Repo: "Acme/Widget", Head: head, Before: "0000000000000000000000000000000000000000"},
		},
		{name: "push with commits is whole", typ: "PushEvent", payload: `{"head":"` + head + `","commits":[]}`},
		{name: "push without a head sha", typ: "PushEvent", payload: `{"head":"abc"}`},
		{
			name: "pr closed without author", typ: "PullRequestEvent",
			payload: `{"action":"closed","number":7,"pull_request":{"id":9,"number":7,"url":"https://api.github.com/repos/Acme/Widget/pulls/7"}}`,
			want:    &events.Hydrate{Kind: events.HydratePullRequest, Repo: "Acme/Widget", Number: 7},
		},
		{
			name: "pr number only inside the pull request", typ: "PullRequestEvent",
			payload: `{"action":"opened","pull_request":{"number":8}}`,
			want:    &events.Hydrate{Kind: events.HydratePullRequest, Repo: "Acme/Widget", Number: 8},
		},
		{name: "pr with author is whole", typ: "PullRequestEvent", payload: `{"action":"closed","number":7,"pull_request":{"number":7,"user":{"login":"bob"},"created_at":"2025-10-01T08:00:00Z"}}`},
		{name: "pr without a number", typ: "PullRequestEvent", payload: `{"action":"closed","pull_request":{}}`},
		{name: "another type", typ: "IssuesEvent", payload: `{"action":"opened","issue":{"number":1}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawOf(events.SourceGHArchive, tc.typ, archiveLine(tc.typ, tc.payload))
			got, ok := mapper.Trimmed(r)
			if tc.want == nil {
				if ok {
					t.Fatalf("Trimmed = %+v, want none", got)
				}
				return
			}
			if !ok {
				t.Fatal("Trimmed = none")
			}
			w := *tc.want
			w.Schema, w.Actor, w.At, w.RawID = events.SchemaHydrate, "alice", at, r.ID
			if got != w {
				t.Fatalf("Trimmed =\n %+v\nwant\n %+v", got, w)
			}
		})
	}
}

// The real sample predates the trimming: none of its events asks for hydration, and a webhook
// never does.
func TestTrimmedNotInWholePayloads(t *testing.T) {
	for _, l := range readSample(t) {
		if h, ok := mapper.Trimmed(&l.raw); ok {
			t.Fatalf("sample event %s (%s) taken for trimmed: %+v", l.raw.ID, l.raw.Kind, h)
		}
	}
	for _, ex := range readWebhookExamples(t) {
		if h, ok := mapper.Trimmed(&ex.raw); ok {
			t.Fatalf("webhook example %s taken for trimmed: %+v", ex.name, h)
		}
	}
}

// A pull request's details carry its size, and the first response by someone else that the
// REST sync looked up; a malformed time there names the field.
func TestPullRequestDetail(t *testing.T) {
	body := `{"number":7,"state":"closed","title":"Fix","user":{"login":"bob"},"created_at":"2025-10-01T08:00:00Z","updated_at":"2025-10-08T10:00:00Z",` +
		`"closed_at":"2025-10-08T10:00:00Z","merged_at":"2025-10-08T10:00:00Z","merged":true,"additions":120,"deletions":7,"changed_files":3,` +
		`"base":{"repo":{"full_name":"Acme/Widget","fork":true,"private":false}}}`
	r := rawOf(events.SourceREST, "pull_request_detail", body)
	r.Meta = map[string]string{"repo": "Acme/Widget", "number": "7", "first_response_at": "2025-10-02T09:30:00Z"}
	cs, err := mapper.Map(r)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Map = %v, %v", cs, err)
	}
	c := cs[0]
	if c.Additions != 120 || c.Deletions != 7 || c.ChangedFiles != 3 || !c.Merged || !c.RepoFork || c.RepoPrivate == nil || *c.RepoPrivate {
		t.Fatalf("row %+v", c)
	}
	if c.FirstResponseAt == nil || !c.FirstResponseAt.Equal(time.Date(2025, 10, 2, 9, 30, 0, 0, time.UTC)) {
		t.Fatalf("first response %v", c.FirstResponseAt)
	}
	r.Meta["first_response_at"] = "yesterday"
	if _, err := mapper.Map(r); err == nil || !strings.Contains(err.Error(), "meta.first_response_at") {
		t.Fatalf("bad first response: %v", err)
	}
}
