package githubsync

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v60/github"
)

// A GitHub App installation is a token source of its own: its rate limit (5,000 requests an
// hour and more for large organizations, 15,000 on Enterprise Cloud) is apart from any personal
// token's. The app signs a short JWT with its private key, trades it for an installation token
// (valid one hour) and renews that token before it expires.

// appRenewBefore is how long before its expiry an installation token is renewed.
const appRenewBefore = 5 * time.Minute

// appJWTLifetime is the lifetime of the app's JWT; GitHub accepts at most 10 minutes.
const appJWTLifetime = 9 * time.Minute

// App identifies a GitHub App installation.
type App struct {
	ID             int64
	InstallationID int64
	PrivateKey     []byte // PEM, as GitHub gives it
}

// NewAppClient returns a go-github client for baseURL (see NewClient) that authenticates as the
// app's installation, renewing the installation token as it expires. The key is checked now.
func NewAppClient(baseURL string, app App, httpClient *http.Client) (*github.Client, error) {
	if app.ID <= 0 || app.InstallationID <= 0 {
		return nil, errors.New("githubsync: a GitHub App needs its app id and installation id")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(app.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("githubsync: GitHub App private key: %w (want the PEM file GitHub generated for the app)", err)
	}
	base := http.DefaultTransport
	if httpClient != nil && httpClient.Transport != nil {
		base = httpClient.Transport
	}
	// The client that trades the JWT for installation tokens.
	exchange, err := NewClient(baseURL, "", &http.Client{Transport: base})
	if err != nil {
		return nil, err
	}
	t := &appTransport{base: base, app: app, key: key, exchange: exchange}
	return NewClient(baseURL, "", &http.Client{Transport: t})
}

// appTransport adds the installation token to each request.
type appTransport struct {
	base     http.RoundTripper
	app      App
	key      *rsa.PrivateKey
	exchange *github.Client
	now      func() time.Time // tests move the clock

	mu      sync.Mutex
	token   string
	expires time.Time
	renewed int // tokens obtained, for tests
}

func (t *appTransport) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// RoundTrip sends the request with the installation token, renewing it first when it is about
// to expire.
func (t *appTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.installationToken(req.Context())
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "token "+tok)
	return t.base.RoundTrip(r)
}

func (t *appTransport) installationToken(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	if t.token != "" && now.Add(appRenewBefore).Before(t.expires) {
		return t.token, nil
	}
	claims := jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(t.app.ID, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)), // GitHub's clock may be behind ours
		ExpiresAt: jwt.NewNumericDate(now.Add(appJWTLifetime)),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("githubsync: sign the GitHub App JWT: %w", err)
	}
	it, _, err := t.exchange.WithAuthToken(signed).Apps.CreateInstallationToken(ctx, t.app.InstallationID, nil)
	if err != nil {
		return "", fmt.Errorf("githubsync: installation token of GitHub App %d, installation %d: %w", t.app.ID, t.app.InstallationID, err)
	}
	if it.GetToken() == "" {
		return "", fmt.Errorf("githubsync: GitHub App %d, installation %d: no token in the answer", t.app.ID, t.app.InstallationID)
	}
	t.token, t.expires, t.renewed = it.GetToken(), it.GetExpiresAt().Time, t.renewed+1
	if t.expires.IsZero() {
		t.expires = now.Add(time.Hour)
	}
	return t.token, nil
}
