package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A token is "gbt_" + a 16-hex-digit id + "_" + 43 characters of base64url (32 random bytes). The
// id finds the record; the SHA-256 of the whole token, compared in constant time, proves it.
const tokenPrefix = "gbt_"

// Token is the stored record of an API token: never the token itself, only its SHA-256.
type Token struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	SHA256  string    `json:"sha256"` // hex
	Created time.Time `json:"created"`
}

// ErrBadToken is returned for a token that is malformed, unknown or revoked.
var ErrBadToken = errors.New("auth: invalid or revoked token")

var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$`)

// NewToken draws a new token for a caller named name with role, and returns it with its record.
func NewToken(name string, role Role) (string, Token, error) {
	if !tokenName.MatchString(name) {
		return "", Token{}, fmt.Errorf("auth: token name %q: use 1 to 64 letters, digits, spaces and . _ @ -", name)
	}
	if role < Viewer || role > Admin {
		return "", Token{}, fmt.Errorf("auth: token role %s: want viewer, analyst or admin", role)
	}
	var id [8]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", Token{}, fmt.Errorf("auth: token: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", Token{}, fmt.Errorf("auth: token: %w", err)
	}
	tok := tokenPrefix + hex.EncodeToString(id[:]) + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(tok))
	return tok, Token{ID: hex.EncodeToString(id[:]), Name: name, Role: role.String(), SHA256: hex.EncodeToString(sum[:]), Created: time.Now().UTC()}, nil
}

// ParseToken returns the id of a token in the shape NewToken draws; ok is false otherwise.
func ParseToken(tok string) (id string, ok bool) {
	if len(tok) != len(tokenPrefix)+16+1+43 || !strings.HasPrefix(tok, tokenPrefix) || tok[len(tokenPrefix)+16] != '_' {
		return "", false
	}
	id = tok[len(tokenPrefix) : len(tokenPrefix)+16]
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	for _, c := range tok[len(tokenPrefix)+17:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return "", false
		}
	}
	return id, true
}

// BearerToken returns the token of an "Authorization: Bearer …" header value; ok is false when
// the value is empty or of another scheme.
func BearerToken(header string) (tok string, ok bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// Tokens is the set of valid tokens, kept current from the bucket by Watch.
type Tokens struct {
	mu   sync.RWMutex
	byID map[string]Token
	// loops are the goroutines that keep the set current (watch, and FollowTokens' wait for
	// the bucket); Wait joins them.
	loops sync.WaitGroup
}

// Wait returns once the loops that keep the set current have ended, which they do when the
// context given to WatchTokens or FollowTokens ends.
func (t *Tokens) Wait() { t.loops.Wait() }

// NewTokens returns a set holding ts.
func NewTokens(ts ...Token) *Tokens {
	t := &Tokens{byID: map[string]Token{}}
	for _, tk := range ts {
		t.byID[tk.ID] = tk
	}
	return t
}

// Verify returns the identity of tok, or ErrBadToken.
func (t *Tokens) Verify(tok string) (Identity, error) {
	id, ok := ParseToken(tok)
	if !ok {
		return Identity{}, ErrBadToken
	}
	t.mu.RLock()
	rec, found := t.byID[id]
	t.mu.RUnlock()
	want, err := hex.DecodeString(rec.SHA256)
	if !found || err != nil || len(want) != sha256.Size {
		return Identity{}, ErrBadToken
	}
	sum := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return Identity{}, ErrBadToken
	}
	role, err := ParseRole(rec.Role)
	if err != nil {
		return Identity{}, ErrBadToken
	}
	return Identity{Subject: rec.Name, Role: role, Via: "token"}, nil
}

func (t *Tokens) set(key string, value []byte, deleted bool, log *slog.Logger) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if deleted {
		delete(t.byID, key)
		return
	}
	var rec Token
	if err := json.Unmarshal(value, &rec); err != nil || rec.ID != key {
		log.Warn("ignoring a malformed token record", slog.String("key", key))
		delete(t.byID, key)
		return
	}
	t.byID[key] = rec
}

// Len returns how many tokens are valid.
func (t *Tokens) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byID)
}

// TokenBucket returns the token bucket, creating it (with replicas) when it does not exist.
func TokenBucket(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("auth: token bucket %s: %w", bucket, err)
	}
	// A user that may not create the bucket gets no answer at all: wait for one only briefly.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	kv, err = js.CreateOrUpdateKeyValue(cctx, jetstream.KeyValueConfig{Bucket: bucket, Storage: jetstream.FileStorage, Replicas: max(replicas, 1), History: 1})
	if err != nil {
		return nil, fmt.Errorf("auth: create token bucket %s (giveback tokens create does, as the NATS admin): %w", bucket, err)
	}
	return kv, nil
}

// WatchTokens loads the tokens in kv and keeps them current until ctx ends: a token created or
// revoked by `giveback tokens` takes effect in every replica within moments.
func WatchTokens(ctx context.Context, kv jetstream.KeyValue, log *slog.Logger) (*Tokens, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := NewTokens()
	if err := t.watch(ctx, kv, log); err != nil {
		return nil, err
	}
	return t, nil
}

// FollowTokens is WatchTokens on the bucket of js, which it creates when it may. When the
// bucket does not exist yet and this user may not create it (the report service reads, the
// admin declares), the set starts empty and is filled once `giveback tokens create` made the
// bucket, which is looked for every retry.
func FollowTokens(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, retry time.Duration, log *slog.Logger) (*Tokens, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := NewTokens()
	kv, err := TokenBucket(ctx, js, bucket, replicas)
	if err == nil {
		return t, t.watch(ctx, kv, log)
	}
	log.Warn("no token bucket yet: no API token is valid until `giveback tokens create` makes one", slog.Any("err", err))
	t.loops.Go(func() {
		tick := time.NewTicker(retry)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			kv, err := js.KeyValue(ctx, bucket)
			if err != nil {
				continue
			}
			if err := t.watch(ctx, kv, log); err != nil {
				log.Warn("token bucket not watched", slog.Any("err", err))
				continue
			}
			log.Info("token bucket found", slog.Int("tokens", t.Len()))
			return
		}
	})
	return t, nil
}

// watch loads kv into t, then applies its changes until ctx ends.
func (t *Tokens) watch(ctx context.Context, kv jetstream.KeyValue, log *slog.Logger) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("auth: watch tokens: %w", err)
	}
	apply := func(e jetstream.KeyValueEntry) {
		t.set(e.Key(), e.Value(), e.Operation() != jetstream.KeyValuePut, log)
	}
	// The watcher sends every current entry, then nil, then the changes.
	for loaded := false; !loaded; {
		select {
		case e, open := <-w.Updates():
			if !open {
				return errors.New("auth: watch tokens: the watch ended")
			}
			if e == nil {
				loaded = true
				continue
			}
			apply(e)
		case <-ctx.Done():
			_ = w.Stop()
			return ctx.Err()
		}
	}
	t.loops.Go(func() {
		defer func() { _ = w.Stop() }()
		for {
			select {
			case e, open := <-w.Updates():
				if !open {
					log.Warn("the watch of the token bucket ended; tokens are no longer updated")
					return
				}
				if e != nil {
					apply(e)
				}
			case <-ctx.Done():
				return
			}
		}
	})
	return nil
}

// CreateToken draws a token, stores its record in kv and returns the token, which is shown
// only this once.
func CreateToken(ctx context.Context, kv jetstream.KeyValue, name string, role Role) (string, Token, error) {
	tok, rec, err := NewToken(name, role)
	if err != nil {
		return "", Token{}, err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return "", Token{}, fmt.Errorf("auth: token: %w", err)
	}
	if _, err := kv.Create(ctx, rec.ID, b); err != nil {
		return "", Token{}, fmt.Errorf("auth: store token: %w", err)
	}
	return tok, rec, nil
}

// ListTokens returns the records in kv, oldest first.
func ListTokens(ctx context.Context, kv jetstream.KeyValue) ([]Token, error) {
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	var out []Token
	for k := range lister.Keys() {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("auth: read token %s: %w", k, err)
		}
		var rec Token
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return nil, fmt.Errorf("auth: token %s: malformed record: %w", k, err)
		}
		out = append(out, rec)
	}
	slices.SortFunc(out, func(a, b Token) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// RevokeToken deletes the tokens whose id or name is ref and returns how many it deleted.
func RevokeToken(ctx context.Context, kv jetstream.KeyValue, ref string) (int, error) {
	ts, err := ListTokens(ctx, kv)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range ts {
		if t.ID != ref && t.Name != ref {
			continue
		}
		if err := kv.Purge(ctx, t.ID); err != nil {
			return n, fmt.Errorf("auth: revoke token %s: %w", t.ID, err)
		}
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("auth: no token has the id or name %q (giveback tokens list shows them)", ref)
	}
	return n, nil
}
