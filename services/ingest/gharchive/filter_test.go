package gharchive

import (
	"encoding/json"
	"strings"
	"testing"
)

// decodedEvent is the part of an event the reference filter reads, by full decode.
type decodedEvent struct {
	Type  string `json:"type"`
	Actor struct {
		Login string `json:"login"`
	} `json:"actor"`
	Repo struct {
		Name string `json:"name"`
	} `json:"repo"`
	Payload struct {
		PullRequest *struct {
			User struct {
				Login string `json:"login"`
			} `json:"user"`
		} `json:"pull_request"`
		Issue *struct {
			User struct {
				Login string `json:"login"`
			} `json:"user"`
		} `json:"issue"`
	} `json:"payload"`
}

// referenceMatch is LoginFilter's contract written with a full decode.
func referenceMatch(t *testing.T, line []byte, logins, orgs map[string]bool) bool {
	var ev decodedEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if logins[strings.ToLower(ev.Actor.Login)] {
		return true
	}
	if owner, _, ok := strings.Cut(ev.Repo.Name, "/"); ok && orgs[strings.ToLower(owner)] {
		return true
	}
	switch ev.Type {
	case "PullRequestEvent", "PullRequestReviewEvent", "PullRequestReviewCommentEvent":
		return ev.Payload.PullRequest != nil && logins[strings.ToLower(ev.Payload.PullRequest.User.Login)]
	case "IssuesEvent", "IssueCommentEvent":
		return ev.Payload.Issue != nil && logins[strings.ToLower(ev.Payload.Issue.User.Login)]
	}
	return false
}

func TestLoginFilterMatchesFullDecode(t *testing.T) {
	lines := sampleLines(t)
	// A roster drawn from the sample: every 5th actor (upper-cased, to check case), every
	// 3rd author of a PR or issue acted on, and every 9th repository owner as a company org.
	logins, orgs := map[string]bool{}, map[string]bool{}
	var loginList, orgList []string
	for i, line := range lines {
		var ev decodedEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		add := func(set map[string]bool, list *[]string, name string) {
			if name != "" && !set[strings.ToLower(name)] {
				set[strings.ToLower(name)] = true
				*list = append(*list, strings.ToUpper(name))
			}
		}
		if i%5 == 0 {
			add(logins, &loginList, ev.Actor.Login)
		}
		if i%3 == 0 && ev.Payload.PullRequest != nil {
			add(logins, &loginList, ev.Payload.PullRequest.User.Login)
		}
		if i%3 == 0 && ev.Payload.Issue != nil {
			add(logins, &loginList, ev.Payload.Issue.User.Login)
		}
		if owner, _, ok := strings.Cut(ev.Repo.Name, "/"); ok && i%9 == 0 {
			add(orgs, &orgList, owner)
		}
	}
	filter := LoginFilter(loginList, orgList)
	kept := 0
	for i, line := range lines {
		want := referenceMatch(t, line, logins, orgs)
		if got := filter(line); got != want {
			t.Fatalf("line %d: filter = %v, full decode = %v: %.300s", i+1, got, want, line)
		}
		if want {
			kept++
		}
	}
	if kept == 0 || kept == len(lines) {
		t.Fatalf("kept %d of %d lines: the roster does not exercise the filter", kept, len(lines))
	}
	t.Logf("kept %d of %d lines for %d logins and %d orgs", kept, len(lines), len(loginList), len(orgList))

	if none := LoginFilter(nil, nil); none(lines[0]) {
		t.Fatal("a filter with no logins and no orgs accepted a line")
	}
}

func TestLoginFilterTraps(t *testing.T) {
	filter := LoginFilter([]string{"Alice"}, []string{"acme"})
	tests := []struct {
		name, line string
		want       bool
	}{
		{"actor", `{"id":"1","type":"PushEvent","actor":{"id":1,"login":"alice"},"repo":{"name":"x/y"},"payload":{}}`, true},
		{"actor after repo", `{"repo":{"name":"x/y"},"actor":{"login":"ALICE"},"id":"1","type":"PushEvent"}`, true},
		{"company org", `{"id":"1","type":"WatchEvent","actor":{"login":"bob"},"repo":{"id":2,"name":"Acme/tool"}}`, true},
		{"org named like a repo", `{"id":"1","type":"WatchEvent","actor":{"login":"bob"},"repo":{"name":"x/acme"}}`, false},
		{"login only in payload", `{"id":"1","type":"PushEvent","actor":{"login":"bob"},"repo":{"name":"x/y"},"payload":{"actor":{"login":"alice"}}}`, false},
		{"nested repo in payload", `{"id":"1","type":"ForkEvent","actor":{"login":"bob"},"repo":{"name":"x/y"},"payload":{"forkee":{"repo":{"name":"acme/y"}}}}`, false},
		{"login in another actor field", `{"id":"1","type":"PushEvent","actor":{"display_login":"alice","login":"bob"},"repo":{"name":"x/y"}}`, false},
		{"merge of our PR by a maintainer", `{"id":"1","type":"PullRequestEvent","actor":{"login":"bob"},"repo":{"name":"x/y"},"payload":{"action":"closed","pull_request":{"merged_by":{"login":"bob"},"user":{"login":"alice"}}}}`, true},
		{"comment on our issue", `{"id":"1","type":"IssueCommentEvent","actor":{"login":"bob"},"repo":{"name":"x/y"},"payload":{"issue":{"user":{"login":"Alice"}}}}`, true},
		{"author path on the wrong type", `{"id":"1","type":"PushEvent","actor":{"login":"bob"},"repo":{"name":"x/y"},"payload":{"issue":{"user":{"login":"alice"}}}}`, false},
		{"type after payload", `{"payload":{"pull_request":{"user":{"login":"alice"}}},"actor":{"login":"bob"},"repo":{"name":"x/y"},"type":"PullRequestReviewEvent"}`, true},
		{"escaped login", `{"actor":{"login":"\u0061lice"},"repo":{"name":"x/y"}}`, true},
		{"not json", `alice acme/`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := filter([]byte(tt.line)); got != tt.want {
				t.Fatalf("filter(%s) = %v, want %v", tt.line, got, tt.want)
			}
		})
	}
}

// FuzzLoginFilter checks the prefilter against its contract written with a full decode, on
// events built from fuzzed names (escapes, case, any bytes) with their members in any order —
// the payload before or after the actor and repository, the author before or after the rest of
// the pull request or issue — and that it never panics on the raw bytes themselves.
func FuzzLoginFilter(f *testing.F) {
	f.Add("PullRequestEvent", "Alice", "acme/widget", "bob", uint8(0))
	f.Add("IssueCommentEvent", "x", "o/r", "ALICE", uint8(3))
	f.Add("PushEvent", "al\u00efce", "Acme/x", "", uint8(5))
	f.Fuzz(func(t *testing.T, kind, actor, repo, author string, order uint8) {
		obj := map[string]any{"login": author}
		var path string
		switch authorPath([]byte(`"` + kind + `"`)) {
		case "pull_request":
			path = "pull_request"
		case "issue":
			path = "issue"
		default:
			path = "pull_request"
		}
		inner := `{"number":1,"title":"t","user":` + mustJSON(t, obj) + `,"body":"x"}`
		if order&1 == 1 {
			inner = `{"user":` + mustJSON(t, obj) + `,"number":1,"title":"t"}`
		}
		members := []string{
			`"type":` + mustJSON(t, kind),
			`"actor":{"id":1,"login":` + mustJSON(t, actor) + `}`,
			`"repo":{"id":2,"name":` + mustJSON(t, repo) + `}`,
			`"payload":{"action":"opened","` + path + `":` + inner + `}`,
		}
		if order&2 == 2 { // the payload first
			members = append(members[3:], members[:3]...)
		}
		if order&4 == 4 { // the type last
			members = append(members[1:], members[0])
		}
		line := []byte(`{"id":"1",` + strings.Join(members, ",") + `,"public":true}`)
		logins := []string{"alice", "BOB", "Al\u00cfce"}
		orgs := []string{"acme"}
		got := LoginFilter(logins, orgs)(line)
		want := referenceMatch(t, line, lowerBools(logins), lowerBools(orgs))
		if got != want {
			t.Fatalf("%s: filter %v, full decode %v", line, got, want)
		}
		LoginFilter(logins, orgs)([]byte(kind + actor + repo + author)) // raw bytes: must not panic
	})
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lowerBools(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}
