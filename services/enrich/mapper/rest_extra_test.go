package mapper_test

import (
	"errors"
	"strings"
	"testing"

	"giveback.dev/platform/events"
	"giveback.dev/services/enrich/mapper"
)

func TestRESTExtra(t *testing.T) {
	meta := map[string]string{"repo": "Octo-Org/Hello-World", "number": "7", "login": "octocat"}
	tests := []struct {
		name, kind, payload string
		meta                map[string]string
		want                events.Contribution // zero ID: no rows
		wantErr             string
	}{
		{"review", "review", `{"id":80,"user":{"login":"octocat"},"state":"APPROVED","submitted_at":"2025-03-01T10:00:00Z","html_url":"https://github.com/Octo-Org/Hello-World/pull/7#pullrequestreview-80"}`, meta,
			events.Contribution{ID: "review:octo-org/hello-world#7/80", Kind: events.KindReview, ActorLogin: "octocat", Number: 7, State: "approved",
				OccurredAt: mustTime(t, "2025-03-01T10:00:00Z"), URL: "https://github.com/Octo-Org/Hello-World/pull/7#pullrequestreview-80"}, ""},
		{"review asking for changes", "review", `{"id":82,"user":{"login":"octocat"},"state":"CHANGES_REQUESTED","submitted_at":"2025-03-01T11:00:00Z"}`, meta,
			events.Contribution{ID: "review:octo-org/hello-world#7/82", Kind: events.KindReview, ActorLogin: "octocat", Number: 7, State: "changes_requested",
				OccurredAt: mustTime(t, "2025-03-01T11:00:00Z")}, ""},
		{"pending review", "review", `{"id":81,"user":{"login":"octocat"},"state":"PENDING"}`, meta, events.Contribution{}, ""},
		{"review without number", "review", `{"id":80,"user":{"login":"octocat"},"submitted_at":"2025-03-01T10:00:00Z"}`,
			map[string]string{"repo": "o/r"}, events.Contribution{}, "meta.number"},
		{"comment", "issue_comment", `{"id":1001,"user":{"login":"octocat"},"created_at":"2025-03-02T08:00:00Z","html_url":"https://github.com/Octo-Org/Hello-World/issues/7#issuecomment-1001"}`, meta,
			events.Contribution{ID: "comment:octo-org/hello-world/issue/1001", Kind: events.KindComment, ActorLogin: "octocat", Number: 7,
				OccurredAt: mustTime(t, "2025-03-02T08:00:00Z"), URL: "https://github.com/Octo-Org/Hello-World/issues/7#issuecomment-1001"}, ""},
		{"comment without repo", "issue_comment", `{"id":1001,"user":{"login":"octocat"},"created_at":"2025-03-02T08:00:00Z"}`, nil, events.Contribution{}, "meta.repo"},
		{"commit", "commit", `{"sha":"6DCB09B5","html_url":"https://github.com/Octo-Org/Hello-World/commit/6dcb09b5","commit":{"author":{"date":"2025-03-03T09:00:00.000-07:00"},"message":"Fix all the bugs\n\nbody"},"author":{"login":"octocat"},"repository":{"full_name":"Octo-Org/Hello-World"}}`,
			map[string]string{"repo": "Octo-Org/Hello-World", "login": "octocat"},
			events.Contribution{ID: "commit:octo-org/hello-world@6dcb09b5", Kind: events.KindCommit, ActorLogin: "octocat", Title: "Fix all the bugs",
				OccurredAt: mustTime(t, "2025-03-03T16:00:00Z"), URL: "https://github.com/Octo-Org/Hello-World/commit/6dcb09b5"}, ""},
		{"commit without account", "commit", `{"sha":"abc","commit":{"author":{"date":"2025-03-03T16:00:00Z"},"message":"m"},"author":null,"repository":{"full_name":"o/r"}}`,
			map[string]string{"login": "octocat"},
			events.Contribution{ID: "commit:o/r@abc", Kind: events.KindCommit, ActorLogin: "octocat", Title: "m",
				OccurredAt: mustTime(t, "2025-03-03T16:00:00Z"), URL: "https://github.com/o/r/commit/abc"}, ""},
		{"commit without date", "commit", `{"sha":"abc","commit":{"author":{}},"repository":{"full_name":"o/r"}}`, nil, events.Contribution{}, "commit.author.date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rawOf(events.SourceREST, tt.kind, tt.payload)
			r.Meta = tt.meta
			cs, err := mapper.Map(r)
			if tt.wantErr != "" {
				if err == nil || errors.Is(err, mapper.ErrNotContribution) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.ID == "" {
				if len(cs) != 0 {
					t.Fatalf("rows = %+v, want none", cs)
				}
				return
			}
			if len(cs) != 1 {
				t.Fatalf("rows = %+v, want one", cs)
			}
			c := cs[0]
			if c.ID != tt.want.ID || c.Kind != tt.want.Kind || c.ActorLogin != tt.want.ActorLogin || c.Number != tt.want.Number ||
				!c.OccurredAt.Equal(tt.want.OccurredAt) || c.URL != tt.want.URL || c.Title != tt.want.Title || c.State != tt.want.State ||
				c.Source != events.SourceREST || c.RawID != r.ID || c.Version == 0 || c.RepoOwner == "" {
				t.Fatalf("row = %+v\nwant %+v", c, tt.want)
			}
		})
	}
}
