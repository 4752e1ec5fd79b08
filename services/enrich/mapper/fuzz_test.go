package mapper_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/services/enrich/mapper"
)

// fuzzKinds are the (source, kind) pairs the fuzzer feeds payloads to.
var fuzzKinds = []struct{ source, kind string }{
	{events.SourceGHArchive, "PullRequestEvent"},
	{events.SourceGHArchive, "IssuesEvent"},
	{events.SourceGHArchive, "PullRequestReviewEvent"},
	{events.SourceGHArchive, "IssueCommentEvent"},
	{events.SourceGHArchive, "PushEvent"},
	{events.SourceGHArchive, "ReleaseEvent"},
	{events.SourceWebhook, "pull_request"},
	{events.SourceWebhook, "push"},
	{events.SourceWebhook, "discussion"},
	{events.SourceWebhook, "discussion_comment"},
	{events.SourceREST, "issue"},
	{events.SourceREST, "pull_request_detail"},
}

func FuzzMap(f *testing.F) {
	for i, k := range fuzzKinds {
		if k.source == events.SourceGHArchive {
			f.Add(uint8(i), []byte(archiveLine(k.kind, `{"action":"opened","number":1,"pull_request":{"number":1},"issue":{"number":1},"review":{"id":1},"comment":{"id":1},"commits":[{"sha":"a","distinct":true}],"release":{"id":1}}`)))
		}
	}
	f.Add(uint8(6), []byte(`{"action":"closed","number":3,"pull_request":{"number":3,"user":{"login":"u"},"created_at":"2025-01-01T00:00:00Z","merged":true,"merged_at":"2025-01-02T00:00:00Z"},"repository":{"full_name":"o/r"},"sender":{"login":"s"}}`))
	f.Add(uint8(7), []byte(`{"commits":[{"id":"abc","distinct":true,"message":"m","timestamp":"2019-05-15T15:19:25-07:00"}],"repository":{"full_name":"o/r"},"sender":{"login":"s"}}`))
	f.Add(uint8(10), []byte(`{"repository_url":"https://api.github.com/repos/o/r","number":1,"user":{"login":"u"},"created_at":"2025-01-01T00:00:00Z","pull_request":{"merged_at":null}}`))
	f.Add(uint8(11), []byte(`{"number":1,"user":{"login":"u"},"created_at":"2025-01-01T00:00:00Z","base":{"repo":{"full_name":"o/r"}}}`))
	f.Add(uint8(11), []byte(`{"number":1,"user":{"login":"u"},"created_at":"2025-01-01T00:00:00Z","merged":true,"merged_at":"2025-01-02T00:00:00Z","merged_by":{"login":"m"},"base":{"repo":{"full_name":"o/r"}}}`))
	f.Add(uint8(0), []byte(archiveLine("PullRequestEvent", `{"action":"closed","number":2,"pull_request":{"number":2,"user":{"login":"u"},"created_at":"2025-01-01T00:00:00Z","merged":true,"merged_at":"2025-01-02T00:00:00Z"}}`)))
	f.Add(uint8(2), []byte(archiveLine("PullRequestReviewEvent", `{"action":"created","review":{"id":3,"state":"APPROVED","user":{"login":"r"}},"pull_request":{"number":2}}`)))
	// A few real lines of the sample, when it is present (never copied into the corpus on disk).
	if sharedSample() != "" {
		seen := map[string]bool{}
		for _, l := range readSample(f) {
			for i, k := range fuzzKinds {
				if k.source == events.SourceGHArchive && k.kind == l.raw.Kind && !seen[k.kind] {
					seen[k.kind] = true
					f.Add(uint8(i), []byte(l.raw.Payload))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, payload []byte) {
		kind := fuzzKinds[int(k)%len(fuzzKinds)]
		r := &events.Raw{Source: kind.source, Kind: kind.kind, ID: "fuzz", FetchedAt: time.Unix(1700000000, 0), Payload: payload}
		cs, err := mapper.Map(r)
		if err != nil && cs != nil {
			t.Fatalf("rows %v with error %v", cs, err)
		}
		for i, c := range cs {
			if c.ID == "" || c.Kind == "" || c.Repo == "" {
				t.Fatalf("incomplete row %+v from %q", c, payload)
			}
			// A merge row follows its pull request's and names someone other than its author.
			if c.Kind == events.KindMerge && (i == 0 || cs[i-1].Kind != events.KindPullRequest || strings.EqualFold(cs[i-1].ActorLogin, c.ActorLogin) || c.ActorLogin == "") {
				t.Fatalf("merge row %+v after %+v from %q", c, cs[:i], payload)
			}
		}
	})
}

// sharedSample returns the sample's path, or "" when it is absent; unlike testkit it does not
// skip, so the fuzzer still runs on its hand-made seeds.
func sharedSample() string {
	if d := os.Getenv("GIVEBACK_SHARED_TESTDATA"); d != "" {
		return filepath.Join(d, "gharchive", sampleName)
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; filepath.Dir(dir) != dir; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "shared", "testdata", "gharchive", sampleName)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

const sampleName = "2025-01-01-15-head2048.json.gz"
