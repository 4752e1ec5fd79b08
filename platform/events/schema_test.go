package events_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/auth"
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

// kvSchema is what the KV test reads of a schema in schemas/kv.
type kvSchema struct {
	Bucket               string                     `json:"x-giveback-bucket"`
	Key                  string                     `json:"x-giveback-key"`
	MediaType            string                     `json:"contentMediaType"`
	Type                 any                        `json:"type"`
	Format               string                     `json:"format"`
	Minimum              *float64                   `json:"minimum"`
	Maximum              *float64                   `json:"maximum"`
	Required             []string                   `json:"required"`
	AdditionalProperties *bool                      `json:"additionalProperties"`
	Properties           map[string]json.RawMessage `json:"properties"`
	Items                *struct {
		Pattern string `json:"pattern"`
	} `json:"items"`
}

// keyPattern turns a key of a schema (status.rest.{login}) into a regular expression.
func keyPattern(key string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.MustCompile(`\\\{[a-zA-Z0-9-]+\\\}`).ReplaceAllString(regexp.QuoteMeta(key), `[^.]+`) + "$")
}

// Every value kept in a KV bucket, as its writer encodes it, matches its JSON Schema in
// schemas/kv, under a key its builder makes in the bucket the schema names; every schema has a
// value here, and every bucket a schema.
func TestKVValuesMatchTheirSchemas(t *testing.T) {
	at := time.Date(2025, 10, 8, 10, 0, 0, 0, time.UTC)
	text := func(s string) []byte { return []byte(s) }
	_, token, err := auth.NewToken("ci", auth.Analyst)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]struct {
		bucket, key string
		value       any // a []byte is written as is; anything else as JSON
	}{
		"rest_status.json": {events.BucketStatus, events.KeyStatusREST("Ann"), events.RESTStatus{Login: "ann", LastSync: at, NextSync: at, Cursor: at,
			Cursors: map[string]time.Time{"author": at}, Items: 1, Requests: 2, NotModified: 3, LastError: "x", Remaining: 4, Reset: at}},
		"hydration_status.json": {events.BucketStatus, events.KeyStatusHydration, events.HydrationStatus{Requests: 1, PullRequests: 2, Commits: 3,
			Gone: 4, Invalid: 5, Counted: 6, NotModified: 7, Watched: 8, LastError: "x", LastAt: at}},
		"hydrate_open.json":      {events.BucketHydrateWatch, events.KeyHydrateOpen("A/b", 7), events.HydrateOpen{Repo: "a/b", Number: 7, Actor: "ann", Since: at}},
		"etag.json":              {events.BucketCursors, events.KeyETag("https://api.github.com/search/issues?q=x"), events.ETag{ETag: `W/"x"`, Next: 2}},
		"rest_cursor.json":       {events.BucketCursors, events.KeyRESTCursor("reviewed", "Ann"), text(at.Format(time.RFC3339Nano))},
		"hour_done.json":         {events.BucketCursors, events.KeyHourDone(at), text(at.Format(time.RFC3339))},
		"totals_repos.json":      {events.BucketWatchedRepos, events.KeyTotalsRepos, []string{"a/b", "c/d"}},
		"roster_current.json":    {events.BucketRoster, events.KeyRosterCurrent, text("login,employee_id\nann,e1\n")},
		"roster_generation.json": {events.BucketRoster, events.KeyRosterGeneration, text("3")},
		"company.json": {events.BucketRoster, events.KeyRosterCompany, events.Company{Schema: events.SchemaCompany, Name: "Acme",
			GitHubOrgs: []string{"acme"}, EmailDomains: []string{"acme.com"}}},
		"api_token.json":    {events.BucketTokens, token.ID, token},
		"webhook_body.json": {events.BucketWebhookBodies, strings.Repeat("ab", 32), text("72d3162e-cc78-11e3-81ab-4c9367dc0958")},
		"report_claim.json": {events.BucketReportClaims, events.KeyReportClaim("monthly", "2026-10-01..2026-10-30", "smtp"), events.ReportClaim{
			State: events.ClaimDone, Owner: "r1", Claimed: at, Expires: at, Attempts: 2, Done: at, Error: "x"}},
		"report_archived.json": {events.BucketReportClaims, events.KeyReportArchived("monthly", "2026-10-01..2026-10-30"), events.ReportArchived{
			State: events.ArchiveDone, Owner: "r1", Hash: strings.Repeat("ab", 32), Claimed: at, Expires: at}},
	}
	allBuckets := append(slices.Clone(events.Buckets), events.BucketTokens, events.BucketWebhookBodies, events.BucketReportClaims)
	files, err := schemas.KV.ReadDir("kv")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	buckets := map[string]bool{}
	for _, f := range files {
		seen[f.Name()] = true
		if _, ok := values[f.Name()]; !ok {
			t.Errorf("schemas/kv/%s: no value of it is checked here", f.Name())
		}
	}
	for file, v := range values {
		if !seen[file] {
			t.Errorf("%s: no such schema in schemas/kv", file)
			continue
		}
		t.Run(file, func(t *testing.T) {
			data, err := schemas.KV.ReadFile("kv/" + file)
			if err != nil {
				t.Fatal(err)
			}
			var schema kvSchema
			if err := json.Unmarshal(data, &schema); err != nil {
				t.Fatal(err)
			}
			buckets[schema.Bucket] = true
			if schema.Bucket != v.bucket || !slices.Contains(allBuckets, schema.Bucket) {
				t.Errorf("schema names bucket %q; the value is written to %q (buckets: %v)", schema.Bucket, v.bucket, events.Buckets)
			}
			if !keyPattern(schema.Key).MatchString(v.key) {
				t.Errorf("key %q does not match the schema's %q", v.key, schema.Key)
			}
			raw, isText := v.value.([]byte)
			if schema.MediaType != "" {
				if !isText {
					t.Fatalf("the schema says %s; the value is written as JSON", schema.MediaType)
				}
				if schema.Format == "date-time" {
					if _, err := time.Parse(time.RFC3339Nano, string(raw)); err != nil {
						t.Errorf("value %q is not a date-time: %v", raw, err)
					}
				}
				return
			}
			if !isText {
				if raw, err = json.Marshal(v.value); err != nil {
					t.Fatal(err)
				}
			}
			checkKVValue(t, schema, raw)
		})
	}
	for _, b := range allBuckets {
		if !buckets[b] {
			t.Errorf("bucket %s: no schema in schemas/kv names it", b)
		}
	}
}

// checkKVValue holds a JSON value against the parts of its schema the KV values use.
func checkKVValue(t *testing.T, schema kvSchema, raw []byte) {
	t.Helper()
	switch schema.Type {
	case "object":
		var got map[string]json.RawMessage
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("not an object: %s", raw)
		}
		for k := range got {
			if _, ok := schema.Properties[k]; !ok && schema.AdditionalProperties != nil && !*schema.AdditionalProperties {
				t.Errorf("member %q the schema does not list", k)
			}
		}
		for _, k := range schema.Required {
			if _, ok := got[k]; !ok {
				t.Errorf("required member %q missing", k)
			}
		}
	case "array":
		var got []string
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("not an array of strings: %s", raw)
		}
		if schema.Items != nil && schema.Items.Pattern != "" {
			re := regexp.MustCompile(schema.Items.Pattern)
			for _, s := range got {
				if !re.MatchString(s) {
					t.Errorf("item %q does not match %s", s, schema.Items.Pattern)
				}
			}
		}
	case "integer":
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			t.Fatalf("not an integer: %s", raw)
		}
		if schema.Minimum != nil && float64(n) < *schema.Minimum || schema.Maximum != nil && float64(n) > *schema.Maximum {
			t.Errorf("%d outside [%v, %v]", n, *schema.Minimum, *schema.Maximum)
		}
	default:
		t.Fatalf("type %v: the test does not check it", schema.Type)
	}
}
