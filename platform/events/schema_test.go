package events_test

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/schemas"
)

// Every message struct, filled in, writes only the members its JSON Schema in schemas/events
// lists, and every member the schema requires; its schema const is the struct's version.
func TestMessagesMatchTheirSchemas(t *testing.T) {
	at := time.Date(2025, 10, 8, 10, 0, 0, 0, time.UTC)
	private := false
	for file, msg := range map[string]any{
		"raw.json": events.Raw{Schema: events.SchemaRaw, Source: events.SourceGHArchive, Kind: "PushEvent", ID: "1", FetchedAt: at,
			Origin: "2025-10-08-10.json.gz:1", Meta: map[string]string{"repo": "a/b"}, Payload: json.RawMessage(`{}`)},
		"contribution.json": events.Contribution{Schema: events.SchemaContribution, ID: "pr:a/b#1", Kind: events.KindPullRequest, OccurredAt: at,
			ActorLogin: "ann", EmployeeID: "e1", Team: "core", Repo: "a/b", RepoOwner: "a", IsUpstream: true, Destination: "upstream",
			Foundation: "CNCF", IsDependency: true, DependencyCriticality: 2, Number: 1, Title: "t", State: "closed", Merged: true,
			MergedAt: &at, ClosedAt: &at, URL: "https://github.com/a/b/pull/1", Source: events.SourceREST, RawID: "x", Version: 1,
			AuthorEmail: "ann@example.com", RepoFork: true, RepoPrivate: &private, Additions: 1, Deletions: 2, ChangedFiles: 3, FirstResponseAt: &at},
		"roster.json": events.RosterChange{Schema: events.SchemaRoster, ChangedAt: at, Digest: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Logins: []string{"ann"}},
		"hydrate.json": events.Hydrate{Schema: events.SchemaHydrate, Kind: events.HydratePush, Repo: "a/b", Number: 1, Before: "x", Head: "y",
			Actor: "ann", At: at, RawID: "1"},
		"forget.json": events.Forget{Schema: events.SchemaForget, RequestID: "0123456789abcdef0123456789abcdef", Who: "ann", Actor: "root",
			NATSRemoved: map[string]int64{"stream.GIVEBACK_RAW": 1}},
		"forget_result.json": events.ForgetResult{Schema: events.SchemaForgetResult, RequestID: "0123456789abcdef0123456789abcdef", OnRoster: true,
			OptedOut: true, Identities: 2, Removed: map[string]int64{"clickhouse.contributions": 3}, Took: time.Second, Error: "x"},
	} {
		t.Run(file, func(t *testing.T) {
			data, err := schemas.Events.ReadFile("events/" + file)
			if err != nil {
				t.Fatal(err)
			}
			var schema struct {
				Required             []string                   `json:"required"`
				AdditionalProperties *bool                      `json:"additionalProperties"`
				Properties           map[string]json.RawMessage `json:"properties"`
			}
			if err := json.Unmarshal(data, &schema); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			var extra, missing []string
			for k := range got {
				if _, ok := schema.Properties[k]; !ok {
					extra = append(extra, k)
				}
			}
			for _, k := range schema.Required {
				if _, ok := got[k]; !ok {
					missing = append(missing, k)
				}
			}
			sort.Strings(extra)
			sort.Strings(missing)
			if schema.AdditionalProperties != nil && !*schema.AdditionalProperties && len(extra) > 0 {
				t.Errorf("members the schema does not list: %v", extra)
			}
			if len(missing) > 0 {
				t.Errorf("required members missing: %v", missing)
			}
			var version struct {
				Const string `json:"const"`
			}
			if err := json.Unmarshal(schema.Properties["schema"], &version); err != nil || version.Const != string(got["schema"][1:len(got["schema"])-1]) {
				t.Errorf("schema const %q, the struct writes %s", version.Const, got["schema"])
			}
		})
	}
}
