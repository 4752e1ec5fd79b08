package auth

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/sources?x=1": "/sources?x=1", "/": "/", "": "/", "//evil.example": "/", "/\\evil.example": "/",
		"/\t/evil.example": "/", "/\n/evil.example": "/", "https://evil.example/": "/", "evil": "/",
		"/a\\b": "/", "/%2F%2Fevil.example": "/%2F%2Fevil.example", "/\x7f": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafeNext: whatever the login is asked to return to, it stays on this server.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/sources", "//x", "/\\x", "/\t/x", "http://x/", "/%5C%5Cx", "/.//x", "/?next=//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
		u, err := url.Parse("http://giveback.example" + got)
		if err != nil || u.Host != "giveback.example" {
			t.Fatalf("safeNext(%q) = %q resolves to host %v", next, got, u)
		}
	})
}
