package auth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkGuard measures what authentication and authorisation add to one request of a
// viewer route, per mode, against the route served bare.
func BenchmarkGuard(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	none, _ := fuzzGuard(b, "none")
	tokens, tok := fuzzGuard(b, "tokens")
	proxy, _ := fuzzGuard(b, "proxy")
	cookie := sessionCookieFor(b, tokens, tok)
	for _, c := range []struct {
		name string
		h    http.Handler
		set  func(*http.Request)
	}{
		{"bare", bare, func(*http.Request) {}},
		{"none", none, func(*http.Request) {}},
		{"token", tokens, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }},
		{"session", tokens, func(r *http.Request) { r.Header.Set("Cookie", "giveback_session="+cookie) }},
		{"proxy", proxy, func(r *http.Request) {
			r.RemoteAddr = "10.0.0.7:4000"
			r.Header.Set("X-Forwarded-User", "jane")
			r.Header.Set("X-Forwarded-Groups", "staff,osp")
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/api/v1/teams", nil)
			c.set(req)
			for b.Loop() {
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
