package auth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// Tokens live hashed in a NATS bucket: one created or revoked there is accepted or refused by a
// running guard within moments, as by every report replica.
func TestTokensInBucket(t *testing.T) {
	_, _, js := testkit.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kv, err := auth.TokenBucket(ctx, js, events.BucketTokens, 1)
	if err != nil {
		t.Fatal(err)
	}
	first, rec, err := auth.CreateToken(ctx, kv, "dashboard", auth.Viewer)
	if err != nil {
		t.Fatal(err)
	}
	set, err := auth.WatchTokens(ctx, kv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := set.Verify(first); err != nil || id.Role != auth.Viewer || id.Subject != "dashboard" {
		t.Fatalf("a token stored before the watch: %+v, %v", id, err)
	}
	a := config.Default().Auth
	a.Mode = "tokens"
	base := serve(t, auth.Options{Auth: a, Tokens: set})
	second, _, err := auth.CreateToken(ctx, kv, "ci", auth.Admin)
	if err != nil {
		t.Fatal(err)
	}
	status := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/sources", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	eventually(t, "the new token to be accepted", func() bool { return status(second) == http.StatusOK })
	if got := status(first); got != http.StatusForbidden {
		t.Errorf("a viewer on the sources: %d, want 403", got)
	}

	// The bucket holds no token, only its hash.
	ts, err := auth.ListTokens(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Name != "dashboard" || ts[1].Name != "ci" || ts[0].ID != rec.ID {
		t.Fatalf("list: %+v", ts)
	}
	for _, k := range []string{rec.ID, ts[1].ID} {
		e, err := kv.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(e.Value()), first[20:]) || strings.Contains(string(e.Value()), second[20:]) {
			t.Errorf("the record of %s holds the token itself: %s", k, e.Value())
		}
	}

	if n, err := auth.RevokeToken(ctx, kv, "ci"); err != nil || n != 1 {
		t.Fatalf("revoke: %d, %v", n, err)
	}
	eventually(t, "the revoked token to be refused", func() bool { return status(second) == http.StatusUnauthorized })
	if _, err := auth.RevokeToken(ctx, kv, "ci"); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("revoking an unknown token: %v", err)
	}
	if _, _, err := auth.CreateToken(ctx, kv, "", auth.Viewer); err == nil {
		t.Error("a token without a name was created")
	}
	if _, _, err := auth.CreateToken(ctx, kv, "x", auth.Anonymous); err == nil {
		t.Error("a token without a role was created")
	}
}

func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
