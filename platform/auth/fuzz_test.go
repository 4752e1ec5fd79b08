package auth_test

import (
	"context"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/config"
)

// fuzzGuard returns a guard in mode (none, tokens or proxy) in front of app, on 127.0.0.1:8080, and
// a valid admin token.
func fuzzGuard(t testing.TB, mode string) (http.Handler, string) {
	tok, rec, err := auth.NewToken("fuzz", auth.Admin)
	if err != nil {
		t.Fatal(err)
	}
	a := config.Default().Auth
	a.Mode = mode
	a.Proxy.TrustedCIDRs = []string{"10.0.0.0/8"}
	a.Proxy.Roles = map[string]string{"osp": "viewer", "admins": "admin"}
	g, err := auth.New(context.Background(), auth.Options{Auth: a, Addr: "127.0.0.1:8080", Tokens: auth.NewTokens(rec)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g.Wrap(app()), tok
}

func serveFuzz(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzAuthorizationHeader: no header but the one valid token gets through, and a header that is
// present but wrong is 401.
func FuzzAuthorizationHeader(f *testing.F) {
	h, tok := fuzzGuard(f, "tokens")
	for _, s := range []string{"Bearer " + tok, "bearer " + tok, "Bearer " + tok + " ", "Bearer  " + tok, "Bearer gbt_0123456789abcdef_" + strings.Repeat("A", 43),
		"Basic dXNlcjpwYXNz", "Bearer", "", "Bearer \x00", "Bearer " + tok[:len(tok)-1] + "\xff", "Bearer gbt_" + strings.Repeat("g", 16) + "_" + strings.Repeat("-", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if id, ok := auth.ParseToken(header); ok && len(id) != 16 {
			t.Fatalf("ParseToken(%q) = id %q", header, id)
		}
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/api/v1/teams", nil)
		req.Header["Authorization"] = []string{header}
		rec := serveFuzz(h, req)
		bt, isBearer := auth.BearerToken(header)
		valid := isBearer && bt == tok
		switch {
		case valid && rec.Code != http.StatusOK:
			t.Fatalf("the valid token in %q: %d", header, rec.Code)
		case !valid && header != "" && rec.Code != http.StatusUnauthorized:
			t.Fatalf("header %q: %d, want 401", header, rec.Code)
		case !valid && strings.Contains(rec.Body.String(), "served"):
			t.Fatalf("header %q reached the route", header)
		}
	})
}

// FuzzProxyHeaders: only a trusted peer's headers count, and the role is the highest mapped
// group's.
func FuzzProxyHeaders(f *testing.F) {
	h, _ := fuzzGuard(f, "proxy")
	for _, s := range [][3]string{
		{"10.1.2.3:5000", "jane", "osp"}, {"10.1.2.3:5000", "jane", "staff, admins"}, {"192.168.0.1:1", "mallory", "admins"},
		{"10.0.0.1", "x", ""}, {"[::ffff:10.0.0.1]:80", "y", "admins,,osp"}, {"10.9.9.9:1", "", "admins"}, {"garbage", "z", "admins"},
		{"[10.0.0.0]:", "0", "admins"}, {"[10.0.0.1]", "a", "admins"}, {"10.0.0.1:", "b", "admins"}, {"[11.0.0.1]:1", "c", "admins"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, remote, user, groups string) {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/api/v1/sources", nil)
		req.RemoteAddr = remote
		req.Header["X-Forwarded-User"] = []string{user}
		req.Header["X-Forwarded-Groups"] = []string{groups}
		rec := serveFuzz(h, req)
		gs := auth.ParseGroups([]string{groups})
		for _, g := range gs {
			if g == "" || strings.TrimSpace(g) != g || strings.Contains(g, ",") {
				t.Fatalf("ParseGroups(%q) gave %q", groups, g)
			}
		}
		if rec.Code == http.StatusOK {
			trusted := inTen(remote)
			admin := false
			for _, g := range gs {
				admin = admin || g == "admins"
			}
			if !trusted || strings.TrimSpace(user) == "" || !admin {
				t.Fatalf("peer %q user %q groups %q reached an admin route", remote, user, groups)
			}
		}
	})
}

// inTen reports whether remote, with or without brackets and a port (empty or not), is an address
// in 10.0.0.0/8, the fuzzed guard's trusted proxy range. It is written apart from the guard's own
// parsing: it strips the port by hand and reads the address with net/netip.
func inTen(remote string) bool {
	host := remote
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || (end+1 < len(host) && host[end+1] != ':') {
			return false
		}
		host = host[1:end]
	} else if strings.Count(host, ":") == 1 {
		host = host[:strings.IndexByte(host, ':')]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	return a.Is4() && a.As4()[0] == 10
}

// FuzzSessionCookie: no cookie but a sealed one authenticates.
func FuzzSessionCookie(f *testing.F) {
	h, tok := fuzzGuard(f, "tokens")
	valid := sessionCookieFor(f, h, tok)
	for _, s := range []string{valid, valid + "x", strings.Replace(valid, ".", "..", 1), "e30.AAAA", ".", "", strings.Repeat("A", 5000), "eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIiwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/api/v1/teams", nil)
		req.Header.Set("Cookie", "giveback_session="+value)
		rec := serveFuzz(h, req)
		c, err := http.ParseCookie("giveback_session=" + value)
		sent := err == nil && len(c) == 1 && c[0].Value == valid
		if rec.Code == http.StatusOK && !sent {
			t.Fatalf("cookie %q authenticated", value)
		}
		if rec.Code != http.StatusOK && rec.Code != http.StatusUnauthorized {
			t.Fatalf("cookie %q: %d", value, rec.Code)
		}
	})
}

func sessionCookieFor(t testing.TB, h http.Handler, tok string) string {
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/auth/login", strings.NewReader("token="+tok))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := serveFuzz(h, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "giveback_session" {
			return c.Value
		}
	}
	t.Fatalf("no session cookie: %d %s", rec.Code, rec.Body)
	return ""
}

// FuzzCrossSiteHeaders: a query runs only without a foreign origin and with a body type a
// cross-site page cannot send without a preflight.
func FuzzCrossSiteHeaders(f *testing.F) {
	// Mode none on loopback: the caller is an admin, as in the demo, and only the cross-site
	// checks stand in the way.
	h, _ := fuzzGuard(f, "none")
	f.Add("", "", "application/sql")
	f.Add("http://127.0.0.1:8080", "same-origin", "application/json")
	f.Add("http://evil.example", "cross-site", "text/plain")
	f.Add("null", "", "application/sql")
	f.Add("null", "same-origin", "application/sql")
	f.Add("null", "cross-site", "application/sql")
	f.Add("HTTP://127.0.0.1:8080", "", "Application/SQL; charset=utf-8")
	f.Add("http://127.0.0.1:8080/", "none", "TEXT/PLAIN")
	f.Add("http://user@127.0.0.1:8080", "same-site", "multipart/form-data; boundary=x")
	f.Fuzz(func(t *testing.T, origin, site, ct string) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/api/v1/query", strings.NewReader("SELECT 1"))
		req.Header["Origin"] = []string{origin}
		req.Header["Sec-Fetch-Site"] = []string{site}
		req.Header["Content-Type"] = []string{ct}
		rec := serveFuzz(h, req)
		if rec.Code != http.StatusOK {
			return
		}
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt == "text/plain" || mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
			t.Fatalf("content type %q ran a query", ct)
		}
		if site != "" && site != "same-origin" && site != "none" {
			t.Fatalf("Sec-Fetch-Site %q ran a query", site)
		}
		// A form posted by one of the pages (Referrer-Policy no-referrer) comes with Origin null
		// and Sec-Fetch-Site same-origin.
		pageForm := origin == "null" && site == "same-origin"
		if origin != "" && !pageForm && !strings.EqualFold(origin, "http://127.0.0.1:8080") && !strings.EqualFold(origin, "https://127.0.0.1:8080") {
			t.Fatalf("Origin %q ran a query", origin)
		}
	})
}
