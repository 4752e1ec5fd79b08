package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"giveback.dev/platform/config"
)

// proxyAuth trusts the user and groups headers of a reverse proxy at a known address.
type proxyAuth struct {
	nets   []*net.IPNet
	user   string
	groups string
	roles  map[string]Role
	def    Role
}

func newProxyAuth(c config.AuthProxy) (*proxyAuth, error) {
	p := &proxyAuth{user: c.UserHeader, groups: c.GroupsHeader}
	for i, s := range c.TrustedCIDRs {
		n, err := config.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("auth.proxy.trusted_cidrs[%d]: %w", i, err)
		}
		p.nets = append(p.nets, n)
	}
	if len(p.nets) == 0 {
		return nil, fmt.Errorf("auth.proxy.trusted_cidrs: list the reverse proxy's addresses")
	}
	var err error
	if p.roles, p.def, err = roleMap("auth.proxy", c.Roles, c.DefaultRole); err != nil {
		return nil, err
	}
	return p, nil
}

// roleMap parses a group → role map and a default role.
func roleMap(key string, m map[string]string, def string) (map[string]Role, Role, error) {
	roles := map[string]Role{}
	for g, s := range m {
		r, err := ParseRole(s)
		if err != nil {
			return nil, 0, fmt.Errorf("%s.roles.%s: %w", key, g, err)
		}
		roles[g] = r
	}
	d := Anonymous
	if def != "" {
		r, err := ParseRole(def)
		if err != nil {
			return nil, 0, fmt.Errorf("%s.default_role: %w", key, err)
		}
		d = r
	}
	return roles, d, nil
}

// highest returns the highest role any of groups maps to, or def.
func highest(groups []string, roles map[string]Role, def Role) Role {
	best := def
	for _, g := range groups {
		if r, ok := roles[g]; ok && r > best {
			best = r
		}
	}
	return best
}

// ParseGroups splits the values of a groups header (comma-separated, as oauth2-proxy sends
// them) into trimmed, non-empty groups.
func ParseGroups(values []string) []string {
	var out []string
	for _, v := range values {
		for g := range strings.SplitSeq(v, ",") {
			if g = strings.TrimSpace(g); g != "" {
				out = append(out, g)
			}
		}
	}
	return out
}

// identify returns the proxy's user. Headers from a peer outside the trusted addresses are an
// error (401), not ignored in silence.
func (p *proxyAuth) identify(r *http.Request) (Identity, bool, error) {
	user := strings.TrimSpace(r.Header.Get(p.user))
	if user == "" && (p.groups == "" || r.Header.Get(p.groups) == "") {
		return Identity{}, false, nil
	}
	if !p.trusted(r.RemoteAddr) {
		return Identity{}, false, fmt.Errorf("auth: %s from %s, which is not a trusted proxy", p.user, r.RemoteAddr)
	}
	if user == "" {
		return Identity{}, false, fmt.Errorf("auth: the proxy sent groups without %s", p.user)
	}
	var groups []string
	if p.groups != "" {
		groups = ParseGroups(r.Header.Values(p.groups))
	}
	return Identity{Subject: user, Role: highest(groups, p.roles, p.def), Via: "proxy"}, true, nil
}

func (p *proxyAuth) trusted(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range p.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// oidcLogin is the authorization code flow with an OpenID Connect provider.
type oidcLogin struct {
	verifier *oidc.IDTokenVerifier
	conf     oauth2.Config
	claim    string
	roles    map[string]Role
	def      Role
	client   *http.Client
}

func newOIDCLogin(ctx context.Context, c config.OIDC, secret string, hc *http.Client) (*oidcLogin, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth.oidc.issuer: %w", err)
	}
	roles, def, err := roleMap("auth.oidc", c.Roles, c.DefaultRole)
	if err != nil {
		return nil, err
	}
	scopes := c.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID}
	}
	return &oidcLogin{
		verifier: p.Verifier(&oidc.Config{ClientID: c.ClientID}),
		conf:     oauth2.Config{ClientID: c.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: c.RedirectURL, Scopes: scopes},
		claim:    c.RolesClaim, roles: roles, def: def, client: hc,
	}, nil
}

// claimGroups returns the values of a claim that is a string or a list of strings.
func claimGroups(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// safeNext returns next when it is a path on this server, else "/". Browsers drop tabs and
// newlines from URLs and read a backslash as a slash, so any control byte or backslash refuses
// it: "/\t/evil.example" would otherwise leave the site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if next[i] < 0x20 || next[i] == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

func random() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (g *Guard) cookie(name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, Secure: !g.loopback, SameSite: http.SameSiteLaxMode}
}

// setSession gives the browser a session for id.
func (g *Guard) setSession(w http.ResponseWriter, id Identity) error {
	v, err := g.seal.seal(sessionCookie, session{Subject: id.Subject, Role: id.Role.String(), Expires: g.now().Add(g.ttl).Unix()})
	if err != nil {
		return err
	}
	http.SetCookie(w, g.cookie(sessionCookie, v, "/", int(g.ttl.Seconds())))
	return nil
}

// serveLogin serves Guard's own routes.
func (g *Guard) serveLogin(w http.ResponseWriter, r *http.Request, pattern string) {
	switch {
	case pattern == "POST /auth/logout":
		http.SetCookie(w, g.cookie(sessionCookie, "", "/", -1))
		http.Redirect(w, r, "/auth/login", http.StatusSeeOther)
	case g.oidc != nil && pattern == "GET /auth/login":
		g.oidcStart(w, r)
	case g.oidc != nil && pattern == "GET /auth/callback":
		g.oidcCallback(w, r)
	case g.mode == "tokens" && pattern == "GET /auth/login":
		g.tokenForm(w, safeNext(r.URL.Query().Get("next")), http.StatusOK, "")
	case g.mode == "tokens" && pattern == "POST /auth/login":
		g.tokenLogin(w, r)
	default:
		refuse(w, http.StatusNotFound, "no login in auth.mode "+g.mode)
	}
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Giveback · sign in</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.4rem;margin:.5rem 0;font:inherit}.err{color:#b00020}</style>
</head><body><h1>Giveback</h1>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
<form method="post" action="/auth/login"><label>API token<input type="password" name="token" autocomplete="off" required></label>
<input type="hidden" name="next" value="{{.Next}}"><button type="submit">Sign in</button></form>
<p>An admin creates tokens with <code>giveback tokens create --role viewer --name NAME</code>.</p>
</body></html>
`))

func (g *Guard) tokenForm(w http.ResponseWriter, next string, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = loginPage.Execute(w, struct{ Next, Error string }{next, msg})
}

// tokenLogin turns a token pasted in the login form into a session, so a browser can use the
// pages in mode tokens.
func (g *Guard) tokenLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		g.tokenForm(w, "/", http.StatusBadRequest, "The form could not be read.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	id, err := g.tokens.Verify(strings.TrimSpace(r.PostForm.Get("token")))
	if err != nil {
		g.tokenForm(w, next, http.StatusUnauthorized, "That token is not valid.")
		return
	}
	if err := g.setSession(w, id); err != nil {
		refuse(w, http.StatusInternalServerError, "session not created")
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (g *Guard) oidcStart(w http.ResponseWriter, r *http.Request) {
	ls := loginState{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(r.URL.Query().Get("next")), Expires: g.now().Add(10 * time.Minute).Unix()}
	v, err := g.seal.seal(loginCookie, ls)
	if err != nil {
		refuse(w, http.StatusInternalServerError, "login not started")
		return
	}
	http.SetCookie(w, g.cookie(loginCookie, v, "/auth/", 600))
	http.Redirect(w, r, g.oidc.conf.AuthCodeURL(ls.State, oidc.Nonce(ls.Nonce), oauth2.S256ChallengeOption(ls.Verifier)), http.StatusFound)
}

func (g *Guard) oidcCallback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(loginCookie)
	var ls loginState
	if err != nil || g.seal.open(loginCookie, c.Value, &ls) != nil || g.now().Unix() >= ls.Expires {
		refuse(w, http.StatusBadRequest, "login expired or not started here; start again at /auth/login")
		return
	}
	http.SetCookie(w, g.cookie(loginCookie, "", "/auth/", -1))
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(ls.State)) != 1 {
		refuse(w, http.StatusBadRequest, "login state mismatch; start again at /auth/login")
		return
	}
	if e := q.Get("error"); e != "" {
		refuse(w, http.StatusUnauthorized, "the identity provider refused the login")
		return
	}
	ctx := oidc.ClientContext(r.Context(), g.oidc.client)
	tok, err := g.oidc.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(ls.Verifier))
	if err != nil {
		g.log.Warn("oidc code exchange failed", "err", err)
		refuse(w, http.StatusUnauthorized, "login failed")
		return
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		refuse(w, http.StatusUnauthorized, "login failed: the provider sent no ID token")
		return
	}
	idt, err := g.oidc.verifier.Verify(ctx, raw)
	if err != nil {
		g.log.Warn("oidc id token refused", "err", err)
		refuse(w, http.StatusUnauthorized, "login failed")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(ls.Nonce)) != 1 {
		refuse(w, http.StatusUnauthorized, "login failed: nonce mismatch")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		refuse(w, http.StatusUnauthorized, "login failed")
		return
	}
	subject := idt.Subject
	if e, ok := claims["email"].(string); ok && e != "" {
		subject = e
	}
	role := highest(claimGroups(claims[g.oidc.claim]), g.oidc.roles, g.oidc.def)
	if role == Anonymous {
		refuse(w, http.StatusForbidden, "forbidden: your account has no Giveback role")
		return
	}
	if err := g.setSession(w, Identity{Subject: subject, Role: role, Via: "session"}); err != nil {
		refuse(w, http.StatusInternalServerError, "session not created")
		return
	}
	http.Redirect(w, r, ls.Next, http.StatusSeeOther)
}
