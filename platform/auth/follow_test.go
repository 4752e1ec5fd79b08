package auth_test

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/events"
)

// A report replica whose NATS user may read the token bucket but not create it starts with no
// valid token when the bucket does not exist yet, and accepts the first token as soon as the
// admin's `giveback tokens create` has made it.
func TestFollowTokensBeforeTheBucketExists(t *testing.T) {
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
		Users: []*server.User{
			{Username: "admin", Password: "admin-password"},
			{Username: "report", Password: "report-password", Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: []string{">"}, Deny: []string{"$JS.API.STREAM.CREATE.KV_" + events.BucketTokens}},
				Subscribe: &server.SubjectPermission{Allow: []string{">"}},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	connect := func(user, pw string) jetstream.JetStream {
		nc, err := nats.Connect(srv.ClientURL(), nats.UserInfo(user, pw))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	set, err := auth.FollowTokens(ctx, connect("report", "report-password"), events.BucketTokens, 1, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 0 {
		t.Fatalf("%d tokens before the bucket exists", set.Len())
	}
	kv, err := auth.TokenBucket(ctx, connect("admin", "admin-password"), events.BucketTokens, 1)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := auth.CreateToken(ctx, kv, "first", auth.Analyst)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first token to be valid", func() bool {
		id, err := set.Verify(tok)
		return err == nil && id.Role == auth.Analyst
	})
	// The loops that kept the set current (the wait for the bucket, then its watch) end with
	// the context, and Wait joins them: nothing of theirs is left running.
	cancel()
	set.Wait()
	buf := make([]byte, 1<<20)
	if stacks := buf[:runtime.Stack(buf, true)]; bytes.Contains(stacks, []byte("giveback.dev/platform/auth.")) {
		t.Fatalf("a goroutine of the token set still runs after Wait:\n%s", stacks)
	}
}
