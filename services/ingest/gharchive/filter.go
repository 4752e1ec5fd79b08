package gharchive

import (
	"bytes"
	"strings"
)

// LoginFilter returns a prefilter for GH Archive lines. It accepts an event when
//   - its actor's login ("actor":{"login":…}) is one of logins, or
//   - its repository's owner ("repo":{"name":"owner/…"}) is one of orgs, or
//   - it acts on a pull request or issue authored by one of logins: a PullRequestEvent,
//     PullRequestReviewEvent or PullRequestReviewCommentEvent whose payload.pull_request.user.login,
//     or an IssuesEvent or IssueCommentEvent whose payload.issue.user.login, is in logins. This
//     keeps what upstream maintainers do to the company's work (merge, review, answer), which
//     the actor alone would drop.
//
// Names compare without regard to case. The filter walks only the members it needs, without
// decoding the event, and rejects a line that is not a JSON object. With no logins and no orgs
// it rejects every line.
func LoginFilter(logins, orgs []string) func(line []byte) bool {
	f := &loginFilter{logins: lowerSet(logins), orgs: lowerSet(orgs)}
	return f.match
}

type loginFilter struct {
	logins map[string]struct{}
	orgs   map[string]struct{}
}

// authorPath says where an event type keeps the author of the object it acts on.
func authorPath(kind []byte) string {
	switch string(kind) {
	case `"PullRequestEvent"`, `"PullRequestReviewEvent"`, `"PullRequestReviewCommentEvent"`:
		return "pull_request"
	case `"IssuesEvent"`, `"IssueCommentEvent"`:
		return "issue"
	}
	return ""
}

func (f *loginFilter) match(line []byte) bool {
	var kind, payload []byte
	sawActor, sawRepo := false, false
	for m := newMembers(line); m.next(); {
		switch {
		case keyIs(m.key, "actor"):
			sawActor = true
			if f.has(f.logins, memberText(m.value(), "login")) {
				return true
			}
		case keyIs(m.key, "repo"):
			sawRepo = true
			name := memberText(m.value(), "name")
			if i := bytes.IndexByte(name, '/'); i >= 0 && f.has(f.orgs, name[:i]) {
				return true
			}
		case keyIs(m.key, "type"):
			kind = m.value()
		case keyIs(m.key, "payload"):
			if kind != nil && sawActor && sawRepo {
				// GH Archive writes id, type, actor, repo, then payload: the answer is known
				// here. The payload, the bulk of the line, is read only as far as the author of
				// the pull request or issue, never to its end.
				return f.author(kind, m.open())
			}
			payload = m.value()
		}
	}
	return f.author(kind, payload)
}

// author reports whether the pull request or issue the event acts on is by one of the logins.
// payload may run past its end (the rest of the line): only its first members are read.
func (f *loginFilter) author(kind, payload []byte) bool {
	path := authorPath(kind)
	if path == "" || payload == nil {
		return false
	}
	return f.has(f.logins, memberText(memberOpen(memberOpen(payload, path), "user"), "login"))
}

// memberOpen returns the input from the value of the member name of the object at the start of
// obj on (see members.open), or nil.
func memberOpen(obj []byte, name string) []byte {
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	for m := newMembers(obj); m.next(); {
		if keyIs(m.key, name) {
			return m.open()
		}
	}
	return nil
}

// has reports whether text, lower-cased, is in set.
func (f *loginFilter) has(set map[string]struct{}, text []byte) bool { return inSet(set, text) }

// inSet reports whether text, lower-cased, is in set.
func inSet(set map[string]struct{}, text []byte) bool {
	if len(set) == 0 || len(text) == 0 {
		return false
	}
	var buf [64]byte
	if len(text) > len(buf) {
		_, ok := set[strings.ToLower(string(text))]
		return ok
	}
	for i, c := range text {
		if c >= 0x80 {
			_, ok := set[strings.ToLower(string(text))]
			return ok
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	_, ok := set[string(buf[:len(text)])]
	return ok
}

// memberValue returns the raw value of the member name of the object obj, or nil.
func memberValue(obj []byte, name string) []byte {
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	for m := newMembers(obj); m.next(); {
		if keyIs(m.key, name) {
			return m.value()
		}
	}
	return nil
}

// memberText returns the text of the string member name of the object obj, or nil.
func memberText(obj []byte, name string) []byte {
	raw := memberValue(obj, name)
	if len(raw) < 2 || raw[0] != '"' {
		return nil
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	return []byte(stringValue(raw))
}

func lowerSet(names []string) map[string]struct{} {
	set := make(map[string]struct{}, len(names))
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			set[n] = struct{}{}
		}
	}
	return set
}
