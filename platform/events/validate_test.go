package events_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"giveback.dev/platform/events"
)

const sha1Hex = "0123456789abcdef0123456789abcdef01234567"

func TestHydrateValidate(t *testing.T) {
	sha256Hex := strings.Repeat("ab", 32)
	pr := func(repo string, n int) events.Hydrate {
		return events.Hydrate{Kind: events.HydratePullRequest, Repo: repo, Number: n, RawID: "1"}
	}
	push := func(repo, before, head string) events.Hydrate {
		return events.Hydrate{Kind: events.HydratePush, Repo: repo, Before: before, Head: head, RawID: "1"}
	}
	for _, c := range []struct {
		name  string
		h     events.Hydrate
		field string // "" when valid
	}{
		{"pull request", pr("octo-org/hello.world_1", 42), ""},
		{"largest number", pr("a/b", events.MaxNumber), ""},
		{"owner of 39", pr(strings.Repeat("a", 39)+"/b", 1), ""},
		{"name of 100", pr("a/"+strings.Repeat("b", 100), 1), ""},
		{"push", push("a/b", sha1Hex, strings.ToUpper(sha1Hex)), ""},
		{"push to a new branch", push("a/b", strings.Repeat("0", 40), sha1Hex), ""},
		{"push without before", push("a/b", "", sha256Hex), ""},

		{"number zero", pr("a/b", 0), "number"},
		{"negative number", pr("a/b", -3), "number"},
		{"number too large", pr("a/b", events.MaxNumber+1), "number"},
		{"no slash", pr("ab", 1), "repo"},
		{"two slashes", pr("a/b/c", 1), "repo"},
		{"path traversal", pr("a/..", 1), "repo"},
		{"dot name", pr("a/.", 1), "repo"},
		{"empty owner", pr("/b", 1), "repo"},
		{"empty name", pr("a/", 1), "repo"},
		{"owner too long", pr(strings.Repeat("a", 40)+"/b", 1), "repo"},
		{"name too long", pr("a/"+strings.Repeat("b", 101), 1), "repo"},
		{"owner with underscore", pr("a_b/c", 1), "repo"},
		{"owner starting with a hyphen", pr("-a/c", 1), "repo"},
		{"query in name", pr("a/b?per_page=1", 1), "repo"},
		{"fragment in name", pr("a/b#x", 1), "repo"},
		{"encoded slash", pr("a/b%2F..", 1), "repo"},
		{"space", pr("a/b c", 1), "repo"},
		{"unicode", pr("a/bé", 1), "repo"},
		{"NUL byte", pr("a/b\x00", 1), "repo"},
		{"short head", push("a/b", "", "abc123"), "head"},
		{"empty head", push("a/b", "", ""), "head"},
		{"head of 41", push("a/b", "", sha1Hex+"0"), "head"},
		{"head not hex", push("a/b", "", strings.Repeat("g", 40)), "head"},
		{"head with a range", push("a/b", "", sha1Hex[:19]+"..."+sha1Hex[:18]), "head"},
		{"bad before", push("a/b", "HEAD~1", sha1Hex), "before"},
		{"before with a path", push("a/b", "../../../user", sha1Hex), "before"},
		{"unknown kind", events.Hydrate{Kind: "issue", Repo: "a/b", Number: 1}, "kind"},
	} {
		err := c.h.Validate()
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v; want valid", c.name, err)
		case c.field != "" && (err == nil || !errors.Is(err, events.ErrInvalid) || !strings.Contains(err.Error(), "invalid "+c.field+" ")):
			t.Errorf("%s: %v; want an invalid %s", c.name, err, c.field)
		}
	}
}

// FuzzHydrateValidate: a request that passes validation makes GitHub API paths that stay
// inside the repository: no query, fragment, escape, empty or dot segment.
func FuzzHydrateValidate(f *testing.F) {
	f.Add("octo/repo", 1, sha1Hex, sha1Hex)
	f.Add("a/..", 7, "", "0000")
	f.Add("a/b?x=1", -1, "HEAD", sha1Hex)
	f.Add("a/b%2f", 1<<40, sha1Hex, "../x")
	f.Add("a/b/c", 3, "\x00", "\n")
	f.Fuzz(func(t *testing.T, repo string, number int, before, head string) {
		for _, h := range []events.Hydrate{
			{Kind: events.HydratePullRequest, Repo: repo, Number: number},
			{Kind: events.HydratePush, Repo: repo, Before: before, Head: head},
		} {
			if err := h.Validate(); err != nil {
				if !errors.Is(err, events.ErrInvalid) {
					t.Fatalf("error does not wrap ErrInvalid: %v", err)
				}
				continue
			}
			owner, name, _ := strings.Cut(h.Repo, "/")
			var paths []string
			if h.Kind == events.HydratePullRequest {
				paths = append(paths, fmt.Sprintf("repos/%s/%s/pulls/%d", owner, name, h.Number))
			} else {
				paths = append(paths, fmt.Sprintf("repos/%s/%s/commits/%s", owner, name, h.Head),
					fmt.Sprintf("repos/%s/%s/compare/%s...%s", owner, name, h.Before, h.Head))
			}
			for _, p := range paths {
				u, err := url.Parse("https://api.github.com/" + p)
				if err != nil {
					t.Fatalf("%q: %v", p, err)
				}
				if u.RawQuery != "" || u.Fragment != "" || u.Path != "/"+p || strings.Contains(p, "%") {
					t.Fatalf("path %q leaves the repository: %+v", p, u)
				}
				segs := strings.Split(p, "/")
				if len(segs) != 5 {
					t.Fatalf("path %q has %d segments", p, len(segs))
				}
				for _, s := range segs {
					if s == "" || s == "." || s == ".." {
						t.Fatalf("path %q has segment %q", p, s)
					}
				}
			}
		}
	})
}

func BenchmarkHydrateValidate(b *testing.B) {
	h := events.Hydrate{Kind: events.HydratePush, Repo: "kubernetes/kubernetes", Before: sha1Hex, Head: sha1Hex, RawID: "1"}
	for b.Loop() {
		if err := h.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
