package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"giveback.dev/platform/config"
)

// Options configure a Guard.
type Options struct {
	// Auth and Privacy are the configuration's sections.
	Auth    config.Auth
	Privacy config.Privacy
	// Addr is the address the server listens on: a loopback address allows mode none, turns on
	// the Host check against DNS rebinding and lets cookies go without the Secure flag.
	Addr string
	// Tokens are the valid API tokens: required in mode tokens, also accepted in oidc and proxy
	// modes when set (for the command line and scripts).
	Tokens *Tokens
	// HTTPClient reaches the OIDC provider; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Guard authenticates and authorises every request of the handler it wraps.
type Guard struct {
	mode     string
	policy   Policy
	loopback bool
	hosts    map[string]bool
	tokens   *Tokens
	proxy    *proxyAuth
	oidc     *oidcLogin
	seal     sealer
	ttl      time.Duration
	now      func() time.Time
	match    *matcher
	log      *slog.Logger
}

// Wait returns once the loops that keep the guard's API tokens current have ended, which they
// do when the context the tokens follow ends; at once where the guard has no tokens.
func (g *Guard) Wait() {
	if g.tokens != nil {
		g.tokens.Wait()
	}
}

// New returns the Guard the options describe, or an error naming the configuration key at fault.
// In mode oidc it fetches the provider's discovery document.
func New(ctx context.Context, o Options, log *slog.Logger) (*Guard, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := o.Auth
	g := &Guard{
		mode:     a.Mode,
		policy:   Policy{People: o.Privacy.People, AggregateOnly: o.Privacy.AggregateOnly, MetricsAnonymous: a.MetricsAnonymous},
		loopback: config.IsLoopback(o.Addr),
		hosts:    map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true},
		tokens:   o.Tokens,
		ttl:      a.SessionTTL.D(),
		now:      o.Now,
		log:      log.With(slog.String("component", "auth")),
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.ttl <= 0 {
		g.ttl = 12 * time.Hour
	}
	for _, h := range a.AllowedHosts {
		g.hosts[strings.ToLower(h)] = true
	}
	m, err := newMatcher(Table)
	if err != nil {
		return nil, err
	}
	g.match = m
	key, err := config.Secret(a.SessionKeyEnv, a.SessionKeyFile)
	if err != nil {
		return nil, fmt.Errorf("auth.session_key_file: %w", err)
	}
	switch {
	case key == "":
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("auth: session key: %w", err)
		}
		g.seal = sealer{key: k}
	case len(key) < 32:
		return nil, errors.New("auth.session_key_env: the session key must be at least 32 characters (openssl rand -base64 32)")
	default:
		g.seal = sealer{key: []byte(key)}
	}
	switch a.Mode {
	case "none":
		if err := a.CheckAuthAddr(o.Addr); err != nil {
			return nil, err
		}
	case "tokens":
		if o.Tokens == nil {
			return nil, errors.New("auth.mode: tokens needs the token bucket in NATS (nats.url, or giveback up's embedded server)")
		}
	case "proxy":
		p, err := newProxyAuth(a.Proxy)
		if err != nil {
			return nil, err
		}
		g.proxy = p
	case "oidc":
		if key == "" {
			log.Warn("auth.session_key_env is not set: sessions end when the process stops and are not shared between replicas")
		}
		secret, err := config.Secret(a.OIDC.ClientSecretEnv, a.OIDC.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("auth.oidc.client_secret_file: %w", err)
		}
		if secret == "" {
			return nil, fmt.Errorf("auth.oidc.client_secret_env: the client secret is empty (set $%s or auth.oidc.client_secret_file)", a.OIDC.ClientSecretEnv)
		}
		if g.oidc, err = newOIDCLogin(ctx, a.OIDC, secret, o.HTTPClient); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("auth.mode: %q must be none, tokens, oidc or proxy", a.Mode)
	}
	return g, nil
}

// Headers are set on every response, pages, JSON and CSV alike: the pages are rendered on the
// server with inline CSS and no script.
var Headers = map[string]string{
	"Content-Security-Policy":      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"X-Frame-Options":              "DENY",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
}

// SetHeaders sets Headers on h.
func SetHeaders(h http.Header) {
	for k, v := range Headers {
		h[k] = []string{v}
	}
}

// Wrap returns next behind the guard. The guard also serves the login routes (/auth/…).
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetHeaders(w.Header())
		if g.loopback && !g.hostAllowed(r.Host) {
			refuse(w, http.StatusMisdirectedRequest, "this server answers only to localhost, 127.0.0.1 or [::1] (auth.allowed_hosts adds names)")
			return
		}
		rule, ok := g.match.rule(r)
		if !ok {
			refuse(w, http.StatusNotFound, "no such route")
			return
		}
		if code, msg := crossSite(r, rule); code != 0 {
			refuse(w, code, msg)
			return
		}
		id, known, err := g.authenticate(r)
		if err != nil {
			g.unauthorized(w, r, false)
			return
		}
		if min := g.policy.Min(rule); min > id.Role {
			switch {
			case min == Nobody:
				refuse(w, http.StatusForbidden, "forbidden: individuals are shown to no one (privacy.aggregate_only)")
			case !known:
				g.unauthorized(w, r, true)
			default:
				refuse(w, http.StatusForbidden, "forbidden: this needs the "+min.String()+" role")
			}
			return
		}
		r = r.WithContext(WithIdentity(r.Context(), id))
		if strings.HasPrefix(rule.Pattern, "GET /auth/") || strings.HasPrefix(rule.Pattern, "POST /auth/") {
			g.serveLogin(w, r, rule.Pattern)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (g *Guard) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	return g.hosts[strings.ToLower(host)]
}

// authenticate returns the caller of r. known is false for an anonymous caller; err is set
// for a credential that is present but wrong (a bad token, a proxy header from an untrusted
// peer).
func (g *Guard) authenticate(r *http.Request) (id Identity, known bool, err error) {
	if g.mode == "none" {
		if g.loopback {
			return Identity{Subject: "local", Role: Admin, Via: "none"}, true, nil
		}
		return Identity{}, false, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := BearerToken(h)
		if !ok || g.tokens == nil {
			return Identity{}, false, ErrBadToken
		}
		id, err := g.tokens.Verify(tok)
		if err != nil {
			return Identity{}, false, err
		}
		return id, true, nil
	}
	if g.proxy != nil {
		return g.proxy.identify(r)
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if id, err := g.seal.openSession(c.Value, g.now()); err == nil {
			return id, true, nil
		}
	}
	return Identity{}, false, nil
}

// unauthorized answers 401; a browser asking for a page in oidc or tokens mode is sent to the
// login instead.
func (g *Guard) unauthorized(w http.ResponseWriter, r *http.Request, missing bool) {
	if missing && r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") && (g.oidc != nil || g.mode == "tokens") {
		http.Redirect(w, r, "/auth/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if g.mode == "tokens" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="giveback"`)
	}
	refuse(w, http.StatusUnauthorized, "authentication required")
}

// refuse writes a JSON error that says nothing about the data.
func refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// crossSite refuses a request that runs a query or changes state when a browser says it comes
// from another site or origin, and a query body of a type a cross-site page can send without
// a preflight. It returns 0 when the request may go on.
func crossSite(r *http.Request, rule Rule) (int, string) {
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
	if safe && !rule.Query {
		return 0, ""
	}
	site := r.Header.Get("Sec-Fetch-Site")
	switch site {
	case "", "same-origin", "none":
	default:
		return http.StatusForbidden, "cross-site request refused"
	}
	// A page whose Referrer-Policy is no-referrer (every page here: Headers) posts its forms
	// with the opaque origin "null"; the browser's Sec-Fetch-Site, which no page can set, then
	// says that it came from this origin. Without it, "null" is refused like a foreign origin.
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) && (o != "null" || site != "same-origin") {
		return http.StatusForbidden, "cross-origin request refused"
	}
	if rule.Query && !safe && !queryBody(r.Header.Get("Content-Type")) {
		return http.StatusUnsupportedMediaType, "send the statement as the body with Content-Type: application/sql (or application/json)"
	}
	return 0, ""
}

// sameOrigin reports whether the Origin header names host (the request's Host).
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.User != nil {
		return false
	}
	return strings.EqualFold(u.Host, host)
}

// queryBody reports whether a body of content type ct may run a query: not one of the types a
// form or a fetch sends cross-site without a preflight (text/plain, form-urlencoded,
// multipart/form-data), nor none at all.
func queryBody(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return false
	}
	return true
}
