package githubsync

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A GitHub App installation authenticates with installation tokens it obtains with a JWT signed
// by the app's key, and renews them before they expire; GitHub Enterprise paths included.
func TestAppClient(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})

	var mu sync.Mutex
	issued := 0
	var seen []string
	expiresIn := 2 * time.Minute // inside the renewal margin: the next request renews
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/api/v3/app/installations/42/access_tokens":
			raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if r.Method != http.MethodPost || !ok {
				http.Error(w, `{"message":"want POST with a Bearer JWT"}`, http.StatusUnauthorized)
				return
			}
			var claims jwt.RegisteredClaims
			if _, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
				jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer("123")); err != nil {
				http.Error(w, fmt.Sprintf(`{"message":%q}`, err.Error()), http.StatusUnauthorized)
				return
			}
			if life := claims.ExpiresAt.Sub(claims.IssuedAt.Time); life > 10*time.Minute {
				http.Error(w, `{"message":"JWT lives longer than 10 minutes"}`, http.StatusUnauthorized)
				return
			}
			issued++
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"token":"ghs_%d","expires_at":%q}`, issued, time.Now().Add(expiresIn).UTC().Format(time.RFC3339))
			expiresIn = time.Hour
		case "/api/v3/rate_limit":
			seen = append(seen, r.Header.Get("Authorization"))
			fmt.Fprint(w, `{"resources":{"core":{"limit":5000,"remaining":4999,"reset":1}}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	if _, err := NewAppClient(srv.URL+"/", App{ID: 123, InstallationID: 42, PrivateKey: []byte("not a key")}, srv.Client()); err == nil ||
		!strings.Contains(err.Error(), "private key") {
		t.Fatalf("a bad key: %v", err)
	}
	c, err := NewAppClient(srv.URL+"/", App{ID: 123, InstallationID: 42, PrivateKey: pemKey}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := c.RateLimit.Get(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// The first token expired within the margin and was renewed once; the second is kept.
	if issued != 2 || strings.Join(seen, ",") != "token ghs_1,token ghs_2,token ghs_2" {
		t.Fatalf("issued %d tokens; requests carried %v", issued, seen)
	}
}

// An app whose installation GitHub refuses fails each request with an error naming the app.
func TestAppClientRefused(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"A JSON web token could not be decoded"}`, http.StatusUnauthorized)
	}))
	defer srv.Close()
	c, err := NewAppClient(srv.URL+"/", App{ID: 7, InstallationID: 9, PrivateKey: pemKey}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.RateLimit.Get(context.Background())
	if err == nil || !strings.Contains(err.Error(), "GitHub App 7, installation 9") {
		t.Fatalf("refused installation: %v", err)
	}
}
