package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Cookie names.
const (
	sessionCookie = "giveback_session"
	loginCookie   = "giveback_login"
)

// maxCookie bounds the cookie values opened, before any decoding.
const maxCookie = 4096

// errCookie is returned for a cookie that is malformed, forged, of another purpose or expired.
var errCookie = errors.New("auth: invalid cookie")

// sealer signs cookie values with HMAC-SHA-256: base64url(JSON) "." base64url(MAC). The MAC
// covers a purpose, so a value sealed for one cookie is refused as another.
type sealer struct{ key []byte }

func (s sealer) mac(purpose, payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("giveback/" + purpose + "\x00" + payload))
	return m.Sum(nil)
}

func (s sealer) seal(purpose string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("auth: seal %s: %w", purpose, err)
	}
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(purpose, p)), nil
}

// open checks value's MAC and decodes its JSON into v.
func (s sealer) open(purpose, value string, v any) error {
	if len(value) > maxCookie {
		return errCookie
	}
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return errCookie
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(purpose, p)) {
		return errCookie
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return errCookie
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errCookie
	}
	return nil
}

// session is the content of the session cookie.
type session struct {
	Subject string `json:"sub"`
	Role    string `json:"role"`
	Expires int64  `json:"exp"` // Unix seconds
}

// openSession returns the identity a session cookie value carries at now.
func (s sealer) openSession(value string, now time.Time) (Identity, error) {
	var ss session
	if err := s.open(sessionCookie, value, &ss); err != nil {
		return Identity{}, err
	}
	if now.Unix() >= ss.Expires {
		return Identity{}, errCookie
	}
	role, err := ParseRole(ss.Role)
	if err != nil {
		return Identity{}, errCookie
	}
	return Identity{Subject: ss.Subject, Role: role, Via: "session"}, nil
}

// loginState is the content of the short-lived cookie that carries an OIDC login from the
// redirect to the callback.
type loginState struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
	Expires  int64  `json:"exp"`
}
