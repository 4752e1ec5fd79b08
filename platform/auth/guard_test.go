package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/config"
)

// expect is what each route of the table answers to an anonymous caller, a viewer, an analyst
// and an admin, under the default privacy (individuals to admins only), privacy.people, and
// privacy.aggregate_only. It is written out by hand from the roles, so a change of the
// table shows up here.
var expect = map[string][3]string{
	"GET /healthz":                       {"200 200 200 200", "200 200 200 200", "200 200 200 200"},
	"GET /readyz":                        {"200 200 200 200", "200 200 200 200", "200 200 200 200"},
	"GET /metrics":                       {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"/webhooks/github":                   {"200 200 200 200", "200 200 200 200", "200 200 200 200"},
	"GET /{$}":                           {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /teams":                         {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /teams/{team}":                  {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /projects":                      {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /community":                     {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /projects/{owner}/{name}":       {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /people":                        {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /api/v1/metrics/summary":        {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/contributions":  {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/contributors":   {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/repos":          {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/acceptance":     {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/responsiveness": {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/cycle":          {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/community":      {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/newcomers":      {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/reach":          {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/projects":       {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/risks":          {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/seats":          {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /api/v1/metrics/departures":     {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /api/v1/people":                 {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /api/v1/teams":                  {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /docs/METRICS.md":               {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/metrics/influence":      {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /api/v1/identities/unmatched":   {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /identities":                    {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /api/v1/sources":                {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /sources":                       {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /api/v1/query":                  {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"POST /api/v1/query":                 {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /live":                          {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /live.js":                       {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /api/v1/live":                   {"401 200 200 200", "401 200 200 200", "401 200 200 200"},
	"GET /query":                         {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /api/v1/saved-queries":          {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"POST /api/v1/saved-queries":         {"401 403 403 200", "401 403 200 200", "403 403 403 403"},

	// A DELETE is sent with a body, as the guard wants of a route that changes state.
	"DELETE /api/v1/saved-queries/{name}": {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"POST /query/saved":                   {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"POST /query/saved/{name}/delete":     {"401 403 403 200", "401 403 200 200", "403 403 403 403"},
	"GET /reports":                        {"401 403 403 200", "401 403 403 200", "401 403 403 200"},
	"GET /reports/{name}/{period}":        {"401 403 403 200", "401 403 403 200", "401 403 403 200"},
	"GET /api/v1/reports":                 {"401 403 403 200", "401 403 403 200", "401 403 403 200"},
	"GET /api/v1/reports/{name}/{period}": {"401 403 403 200", "401 403 403 200", "401 403 403 200"},
	"POST /api/v1/reports/{name}/run":     {"401 403 403 200", "401 403 403 200", "401 403 403 200"},
	"POST /reports/{name}/{period}/send":  {"401 403 403 200", "401 403 403 200", "401 403 403 200"},
}

var policies = []struct {
	name    string
	privacy config.Privacy
}{
	{"default", config.Privacy{}},
	{"people", config.Privacy{People: true}},
	{"aggregate_only", config.Privacy{AggregateOnly: true}},
}

var roles = []auth.Role{auth.Anonymous, auth.Viewer, auth.Analyst, auth.Admin}

// login reports whether rule is one of the guard's own login routes, tested apart.
func login(rule auth.Rule) bool { return strings.Contains(rule.Pattern, " /auth/") }

// TestEveryRuleHasAnExpectation keeps expect and the table in step.
func TestEveryRuleHasAnExpectation(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range auth.Table {
		seen[r.Pattern] = true
		if _, ok := expect[r.Pattern]; !ok && !login(r) {
			t.Errorf("route %q has no expected answers in this test", r.Pattern)
		}
	}
	for p := range expect {
		if !seen[p] {
			t.Errorf("expected answers for %q, which is not in the table", p)
		}
	}
}

// app answers 200 and the pattern on every route of the table, like the services behind the
// guard, and records who the guard let through.
func app() http.Handler {
	mux := http.NewServeMux()
	for _, r := range auth.Table {
		if login(r) {
			continue
		}
		mux.HandleFunc(r.Pattern, func(w http.ResponseWriter, req *http.Request) {
			id, _ := auth.FromContext(req.Context())
			w.Header().Set("Content-Type", "text/csv")
			io.WriteString(w, "served "+r.Pattern+" to "+id.Subject)
		})
	}
	mux.HandleFunc("GET /api/v1/unlisted", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "served unlisted") })
	return mux
}

// serve starts the guard of o in front of app on a loopback port and returns its base URL.
func serve(t testing.TB, o auth.Options) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	o.Addr = ts.Listener.Addr().String()
	if o.Auth.Mode == "" {
		o.Auth = config.Default().Auth
	}
	g, err := auth.New(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = g.Wrap(app())
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL
}

// routeRequest builds a request that reaches rule's route, as a same-origin script or a
// command-line client sends it.
func routeRequest(t testing.TB, base string, rule auth.Rule) *http.Request {
	t.Helper()
	method, path, found := strings.Cut(rule.Pattern, " ")
	if !found {
		method, path = http.MethodPost, rule.Pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	var body io.Reader
	if method == http.MethodPost || method == http.MethodDelete {
		body = strings.NewReader("SELECT 1")
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/sql")
		if !rule.Query {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	return req
}

// check sends req and compares the answer with want; a refusal must carry the security headers
// and say nothing but its reason.
func check(t *testing.T, req *http.Request, want int, what string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Errorf("%s: %d %s, want %d", what, resp.StatusCode, b, want)
		return
	}
	for k, v := range auth.Headers {
		if resp.Header.Get(k) != v {
			t.Errorf("%s: header %s = %q, want %q", what, k, resp.Header.Get(k), v)
		}
	}
	if want == http.StatusOK {
		if !strings.HasPrefix(string(b), "served ") {
			t.Errorf("%s: answered %q, not the route's", what, b)
		}
		return
	}
	var e map[string]string
	if err := json.Unmarshal(b, &e); err != nil || len(e) != 1 || e["error"] == "" || strings.Contains(string(b), "served") {
		t.Errorf("%s: refusal %q is not a bare JSON error", what, b)
	}
}

// TestRoutesByRoleAndMode walks every route of the table for an anonymous caller and each role,
// under each privacy policy, authenticated by API token, by a trusted proxy's headers and by a
// session cookie.
func TestRoutesByRoleAndMode(t *testing.T) {
	tokens := map[auth.Role]string{}
	var recs []auth.Token
	for _, r := range roles[1:] {
		tok, rec, err := auth.NewToken("walk "+r.String(), r)
		if err != nil {
			t.Fatal(err)
		}
		tokens[r] = tok
		recs = append(recs, rec)
	}
	set := auth.NewTokens(recs...)
	proxy := config.Default().Auth
	proxy.Mode = "proxy"
	proxy.Proxy.TrustedCIDRs = []string{"127.0.0.1/32", "::1"}
	proxy.Proxy.Roles = map[string]string{"osp-viewers": "viewer", "osp-analysts": "analyst", "osp-admins": "admin"}
	tokensMode := config.Default().Auth
	tokensMode.Mode = "tokens"

	type mode struct {
		name string
		auth config.Auth
		as   func(req *http.Request, r auth.Role, base string)
	}
	modes := []mode{
		{"tokens", tokensMode, func(req *http.Request, r auth.Role, _ string) {
			if r > auth.Anonymous {
				req.Header.Set("Authorization", "Bearer "+tokens[r])
			}
		}},
		{"proxy", proxy, func(req *http.Request, r auth.Role, _ string) {
			if r > auth.Anonymous {
				req.Header.Set("X-Forwarded-User", "jane")
				req.Header.Set("X-Forwarded-Groups", "staff, osp-"+r.String()+"s")
			}
		}},
		{"session", tokensMode, func(req *http.Request, r auth.Role, base string) {
			if r > auth.Anonymous {
				req.AddCookie(sessionFor(t, base, tokens[r]))
			}
		}},
	}
	for _, m := range modes {
		for pi, p := range policies {
			t.Run(m.name+"/"+p.name, func(t *testing.T) {
				base := serve(t, auth.Options{Auth: m.auth, Privacy: p.privacy, Tokens: set})
				for _, rule := range auth.Table {
					if login(rule) {
						continue
					}
					codes := strings.Fields(expect[rule.Pattern][pi])
					for ri, r := range roles {
						req := routeRequest(t, base, rule)
						m.as(req, r, base)
						want := map[string]int{"200": 200, "401": 401, "403": 403}[codes[ri]]
						check(t, req, want, rule.Pattern+" as "+r.String())
					}
				}
				// A route missing from the table is refused, whoever asks.
				for _, r := range roles {
					req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/unlisted", nil)
					m.as(req, r, base)
					check(t, req, http.StatusNotFound, "an unlisted route as "+r.String())
				}
			})
		}
	}
}

// sessionFor signs in with tok through the login form and returns the session cookie.
func sessionFor(t testing.TB, base, tok string) *http.Cookie {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, base+"/auth/login", strings.NewReader(url.Values{"token": {tok}, "next": {"/sources"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sources" {
		t.Fatalf("login: %d to %q, want 303 to /sources", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "giveback_session" {
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie %+v: want HttpOnly and SameSite=Lax", ck)
			}
			return ck
		}
	}
	t.Fatal("login set no session cookie")
	return nil
}

// In mode none on loopback everyone is an admin: the laptop demo needs no setup.
func TestModeNoneIsAdminOnLoopback(t *testing.T) {
	for pi, p := range policies {
		base := serve(t, auth.Options{Auth: config.Default().Auth, Privacy: p.privacy})
		for _, rule := range auth.Table {
			if login(rule) {
				continue
			}
			codes := strings.Fields(expect[rule.Pattern][pi])
			want := map[string]int{"200": 200, "403": 403}[codes[3]]
			check(t, routeRequest(t, base, rule), want, p.name+": "+rule.Pattern)
		}
	}
}

func TestModeNoneRefusedOffLoopback(t *testing.T) {
	for _, addr := range []string{":8080", "0.0.0.0:8080", "192.168.1.5:8080", "[::]:8080"} {
		_, err := auth.New(context.Background(), auth.Options{Auth: config.Default().Auth, Addr: addr}, nil)
		if err == nil || !strings.Contains(err.Error(), "auth.mode") {
			t.Errorf("mode none on %s: %v, want an error naming auth.mode", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080", "127.0.0.2:0"} {
		if _, err := auth.New(context.Background(), auth.Options{Auth: config.Default().Auth, Addr: addr}, nil); err != nil {
			t.Errorf("mode none on %s: %v", addr, err)
		}
	}
}

// A bad token is 401 on every route that needs a role, and on the open ones too: a credential
// that is wrong is never ignored in silence.
func TestBadTokens(t *testing.T) {
	tok, rec, err := auth.NewToken("ci", auth.Admin)
	if err != nil {
		t.Fatal(err)
	}
	a := config.Default().Auth
	a.Mode = "tokens"
	base := serve(t, auth.Options{Auth: a, Tokens: auth.NewTokens(rec)})
	other, _, _ := auth.NewToken("ci", auth.Admin)
	// The secret's last character changed: to "B" when it is "A" already (1 token in 64).
	last := "A"
	if strings.HasSuffix(tok, "A") {
		last = "B"
	}
	for _, h := range []string{
		"Bearer " + other, // well formed, unknown
		"Bearer " + tok[:len(tok)-1] + last,
		"Bearer " + tok[:20] + strings.Repeat("0", 16) + tok[36:],
		"Bearer " + tok + "x",
		"Basic " + tok,
		"Bearer",
		"Bearer  ",
		tok,
	} {
		for _, p := range []string{"/api/v1/teams", "/healthz"} {
			req, _ := http.NewRequest(http.MethodGet, base+p, nil)
			req.Header.Set("Authorization", h)
			check(t, req, http.StatusUnauthorized, p+" with "+h)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/teams", nil)
	req.Header.Set("Authorization", "bearer "+tok)
	check(t, req, http.StatusOK, "the scheme in lower case")
}

// Proxy headers count only from a trusted proxy's address.
func TestProxyHeadersFromUntrustedPeer(t *testing.T) {
	a := config.Default().Auth
	a.Mode = "proxy"
	a.Proxy.TrustedCIDRs = []string{"10.0.0.0/8"}
	a.Proxy.DefaultRole = "admin"
	base := serve(t, auth.Options{Auth: a})
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/teams", nil)
	req.Header.Set("X-Forwarded-User", "mallory")
	check(t, req, http.StatusUnauthorized, "a forged proxy header")
	req, _ = http.NewRequest(http.MethodGet, base+"/healthz", nil)
	check(t, req, http.StatusOK, "no header from anywhere")
	// A user the proxy vouches for with no role mapped is known but may do nothing: 403.
	a.Proxy.TrustedCIDRs = []string{"127.0.0.0/8"}
	a.Proxy.DefaultRole = ""
	a.Proxy.Roles = map[string]string{"osp": "viewer"}
	base = serve(t, auth.Options{Auth: a})
	req, _ = http.NewRequest(http.MethodGet, base+"/api/v1/teams", nil)
	req.Header.Set("X-Forwarded-User", "joe")
	req.Header.Set("X-Forwarded-Groups", "staff")
	check(t, req, http.StatusForbidden, "a user with no mapped group")
}

// Requests that run a query or change state refuse other origins and the content types a
// cross-site page can send without a preflight; plain reads do not care.
func TestCrossSiteRefused(t *testing.T) {
	base := serve(t, auth.Options{})
	u, _ := url.Parse(base)
	post := func(ct string, hdr ...string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/query", strings.NewReader("SELECT 1"))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		for i := 0; i < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return req
	}
	get := func(path string, hdr ...string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		for i := 0; i < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return req
	}
	for _, c := range []struct {
		req  *http.Request
		want int
		what string
	}{
		{post("application/sql"), 200, "a command-line client"},
		{post("application/sql", "Origin", base, "Sec-Fetch-Site", "same-origin"), 200, "the same origin"},
		{post("application/json; charset=utf-8", "Origin", base), 200, "JSON from the same origin"},
		{post("application/sql", "Origin", "http://evil.example"), 403, "another origin"},
		{post("application/sql", "Origin", "null"), 403, "an opaque origin"},
		{post("application/sql", "Origin", "null", "Sec-Fetch-Site", "same-origin"), 200, "a page's post: no-referrer makes its origin null"},
		{post("application/sql", "Origin", "null", "Sec-Fetch-Site", "same-site"), 403, "an opaque origin from a sibling site"},
		{post("application/sql", "Origin", "http://evil.example", "Sec-Fetch-Site", "same-origin"), 403, "a foreign origin said to be the same"},
		{post("application/sql", "Origin", "http://"+u.Host+".evil.example"), 403, "a look-alike origin"},
		{post("application/sql", "Sec-Fetch-Site", "cross-site"), 403, "Sec-Fetch-Site cross-site"},
		{post("application/sql", "Sec-Fetch-Site", "same-site"), 403, "Sec-Fetch-Site same-site"},
		{post("text/plain"), 415, "text/plain"},
		{post("text/plain; charset=utf-8", "Origin", base), 415, "text/plain even from the same origin"},
		{post("application/x-www-form-urlencoded"), 415, "a form"},
		{post("multipart/form-data; boundary=x"), 415, "a multipart form"},
		{post(""), 415, "no content type"},
		{post("text/plain;;;"), 415, "an unreadable content type"},
		{get("/api/v1/query?q=SELECT+1", "Sec-Fetch-Site", "cross-site"), 403, "a cross-site GET of a query"},
		{get("/api/v1/query?q=SELECT+1", "Origin", "http://evil.example"), 403, "a cross-origin GET of a query"},
		{get("/api/v1/query?q=SELECT+1", "Sec-Fetch-Site", "none"), 200, "a query typed in the address bar"},
		{get("/api/v1/teams", "Sec-Fetch-Site", "cross-site"), 200, "a cross-site link to an aggregate"},
		{get("/healthz", "Origin", "http://evil.example"), 200, "a cross-origin health check"},
	} {
		check(t, c.req, c.want, c.what)
	}
}

// On loopback, the Host header must be a loopback name: a page on a rebound DNS name reaches the
// port but not the data.
func TestLoopbackHostOnly(t *testing.T) {
	base := serve(t, auth.Options{Auth: func() config.Auth { a := config.Default().Auth; a.AllowedHosts = []string{"giveback.test"}; return a }()})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	for host, want := range map[string]int{
		"127.0.0.1:" + port: 200, "localhost:" + port: 200, "LOCALHOST": 200, "[::1]:" + port: 200, "giveback.test:" + port: 200,
		"evil.example:" + port: 421, "evil.example": 421, "127.0.0.1.evil.example": 421,
	} {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/teams", nil)
		req.Host = host
		check(t, req, want, "Host "+host)
	}
}

// The session cookie expires, and a cookie signed with another key or altered is ignored.
func TestSessionCookie(t *testing.T) {
	tok, rec, _ := auth.NewToken("jo", auth.Analyst)
	a := config.Default().Auth
	a.Mode = "tokens"
	a.SessionTTL = config.Duration(time.Hour)
	now := time.Now()
	clock := func() time.Time { return now }
	ts := httptest.NewUnstartedServer(nil)
	g, err := auth.New(context.Background(), auth.Options{Auth: a, Addr: ts.Listener.Addr().String(), Tokens: auth.NewTokens(rec), Now: clock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = g.Wrap(app())
	ts.Start()
	defer ts.Close()
	ck := sessionFor(t, ts.URL, tok)
	get := func(c *http.Cookie) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/teams", nil)
		req.AddCookie(c)
		return req
	}
	check(t, get(ck), 200, "a fresh session")
	forged := *ck
	forged.Value = strings.Replace(ck.Value, ".", "x.", 1)
	check(t, get(&forged), 401, "an altered session")
	other := serve(t, auth.Options{Auth: a, Tokens: auth.NewTokens(rec)})
	req, _ := http.NewRequest(http.MethodGet, other+"/api/v1/teams", nil)
	req.AddCookie(ck)
	check(t, req, 401, "a session of another key")
	now = now.Add(time.Hour + time.Second)
	check(t, get(ck), 401, "an expired session")
}
