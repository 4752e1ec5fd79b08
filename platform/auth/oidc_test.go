package auth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/config"
)

// provider is an OpenID Connect provider in the test process: discovery, keys, an authorization
// endpoint that logs its user in at once, and a token endpoint that signs ID tokens with RSA.
type provider struct {
	*httptest.Server
	key    *rsa.PrivateKey // published in the JWKS
	signer *rsa.PrivateKey // signs the ID tokens: key, or another to forge them
	secret string
	groups []string
	nonce  string // when set, replaces the nonce of the ID token

	mu    sync.Mutex
	codes map[string]url.Values // code → the authorization request
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{key: key, signer: key, secret: "s3cret", codes: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize", "token_endpoint": p.URL + "/token",
			"jwks_uri": p.URL + "/keys", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": b64(p.key.N.Bytes()), "e": b64(big.NewInt(int64(p.key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("client_id") != "giveback" || q.Get("code_challenge_method") != "S256" {
			http.Error(w, "bad authorization request "+q.Encode(), http.StatusBadRequest)
			return
		}
		code := fmt.Sprintf("code-%d", time.Now().UnixNano())
		p.mu.Lock()
		p.codes[code] = q
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok {
			user, pass = r.FormValue("client_id"), r.FormValue("client_secret")
		}
		p.mu.Lock()
		q, found := p.codes[r.FormValue("code")]
		delete(p.codes, r.FormValue("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		if user != "giveback" || pass != p.secret || !found || base64.RawURLEncoding.EncodeToString(sum[:]) != q.Get("code_challenge") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		nonce := q.Get("nonce")
		if p.nonce != "" {
			nonce = p.nonce
		}
		idt := p.sign(t, map[string]any{
			"iss": p.URL, "sub": "u-42", "aud": "giveback", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
			"nonce": nonce, "email": "jane@example.com", "groups": p.groups,
		})
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

// sign returns a compact JWS (RS256) of claims.
func (p *provider) sign(t *testing.T, claims map[string]any) string {
	b64 := base64.RawURLEncoding.EncodeToString
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	in := b64(h) + "." + b64(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.signer, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + b64(sig)
}

// oidcServer starts a guard in mode oidc against p.
func oidcServer(t *testing.T, p *provider, privacy config.Privacy) string {
	t.Helper()
	t.Setenv("TEST_OIDC_SECRET", p.secret)
	ts := httptest.NewUnstartedServer(nil)
	a := config.Default().Auth
	a.Mode = "oidc"
	a.OIDC = config.OIDC{
		Issuer: p.URL, ClientID: "giveback", ClientSecretEnv: "TEST_OIDC_SECRET",
		RedirectURL: "http://" + ts.Listener.Addr().String() + "/auth/callback", Scopes: []string{"openid", "email", "groups"},
		RolesClaim: "groups", Roles: map[string]string{"osp-analysts": "analyst", "osp-admins": "admin", "staff": "viewer"},
	}
	g, err := auth.New(context.Background(), auth.Options{Auth: a, Privacy: privacy, Addr: ts.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = g.Wrap(app())
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL
}

// browse opens path as a browser would (cookies kept, redirects followed) and returns the last
// answer's status and body.
func browse(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// The OIDC login: a page sends an anonymous browser to the provider and back, go-oidc checks the
// ID token's signature against the provider's keys, and the groups claim sets the role.
func TestOIDCLogin(t *testing.T) {
	p := newProvider(t)
	p.groups = []string{"staff", "osp-analysts"}
	base := oidcServer(t, p, config.Privacy{People: true})

	c := browser(t)
	code, body := browse(t, c, base+"/sources?x=1")
	if code != http.StatusOK || body != "served GET /sources to jane@example.com" {
		t.Fatalf("after login: %d %q", code, body)
	}
	if code, _ := browse(t, c, base+"/api/v1/teams"); code != http.StatusOK {
		t.Errorf("an analyst on the teams: %d", code)
	}
	// The API answers 401 to a client that is not a browser, without sending it anywhere.
	resp, err := http.Get(base + "/api/v1/teams")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an anonymous API call: %d, want 401", resp.StatusCode)
	}
	// Logging out ends the session.
	req, _ := http.NewRequest(http.MethodPost, base+"/auth/logout", nil)
	req.Header.Set("Origin", base)
	resp, err = (&http.Client{Jar: c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, base+"/api/v1/teams", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout: %d, want 401", resp.StatusCode)
	}
}

func TestOIDCLoginRefused(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		setup func(p *provider)
		want  int
	}{
		{"an ID token signed with another key", func(p *provider) { p.signer = other }, http.StatusUnauthorized},
		{"another login's nonce", func(p *provider) { p.nonce = "replayed" }, http.StatusUnauthorized},
		{"a wrong client secret", func(p *provider) { p.secret = "other" }, http.StatusUnauthorized},
		{"no group with a role", func(p *provider) { p.groups = []string{"contractors"} }, http.StatusForbidden},
		{"a viewer on a people page", func(p *provider) { p.groups = []string{"staff"} }, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newProvider(t)
			p.groups = []string{"osp-admins"}
			base := oidcServer(t, p, config.Privacy{People: true})
			c.setup(p)
			code, body := browse(t, browser(t), base+"/sources")
			if code != c.want || strings.Contains(body, "served") {
				t.Fatalf("%d %q, want %d", code, body, c.want)
			}
		})
	}
	// A callback whose state is not the one the login cookie carries is refused.
	p := newProvider(t)
	p.groups = []string{"osp-admins"}
	base := oidcServer(t, p, config.Privacy{})
	c := browser(t)
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/auth/callback") {
			q := req.URL.Query()
			q.Set("state", "forged")
			req.URL.RawQuery = q.Encode()
		}
		return nil
	}
	if code, _ := browse(t, c, base+"/sources"); code != http.StatusBadRequest {
		t.Errorf("a forged state: %d, want 400", code)
	}
	// A callback without the login cookie (another browser) is refused.
	if code, _ := browse(t, browser(t), base+"/auth/callback?code=x&state=y"); code != http.StatusBadRequest {
		t.Errorf("a callback without the login cookie: %d, want 400", code)
	}
}
