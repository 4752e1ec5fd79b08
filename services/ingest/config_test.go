package ingest

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/ingest/gharchive"
	"giveback.dev/services/ingest/githubsync"
)

// Collection follows the roster kept in NATS KV: a login added by `giveback roster load` passes
// the GH Archive prefilter and is synced through the REST API without restarting ingest; a bad
// roster there changes nothing.
func TestCollectionFollowsKVRoster(t *testing.T) {
	_, _, js := testkit.NATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kv, err := js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		t.Fatal(err)
	}
	const head = "employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\n"
	file, err := roster.Parse(strings.NewReader(head + "e1,Alice,core,alice,,2020-01-01,,false\n"))
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[func([]byte) bool]
	filter := func(line []byte) bool { return (*current.Load())(line) }
	sy := &githubsync.Syncer{}
	roster.Follow(ctx, kv, file, slog.New(slog.DiscardHandler), func(r *roster.Roster) {
		f := gharchive.LoginFilter(CollectedLogins(r), []string{"acme"})
		current.Store(&f)
		sy.SetLogins(CollectedLogins(r))
	})
	logins := func() string { return strings.Join(sy.CurrentLogins(), ",") }
	if logins() != "alice" {
		t.Fatalf("syncer logins %q, want alice", logins())
	}
	line := func(login, repo string) []byte {
		return []byte(`{"id":"1","type":"PushEvent","actor":{"id":1,"login":"` + login + `"},"repo":{"id":2,"name":"` + repo + `"},"payload":{},"created_at":"2025-01-01T00:00:00Z"}`)
	}
	if !filter(line("alice", "golang/go")) || filter(line("bob", "golang/go")) || !filter(line("bob", "acme/tool")) {
		t.Fatal("the filter does not start from the roster file and the company's orgs")
	}
	if _, err := kv.Put(ctx, events.KeyRosterCurrent, []byte(head+"e1,Alice,core,alice,,2020-01-01,,false\ne2,Bob,core,bob,,2024-01-01,,false\n")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "the filter to take bob", func() bool { return filter(line("bob", "golang/go")) })
	waitUntil(t, 5*time.Second, "the REST sync to take bob", func() bool { return logins() == "alice,bob" })
	if _, err := kv.Put(ctx, events.KeyRosterCurrent, []byte("not a roster\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if !filter(line("bob", "golang/go")) || !filter(line("alice", "golang/go")) {
		t.Fatal("a refused roster changed the filter")
	}
	if logins() != "alice,bob" {
		t.Fatalf("a refused roster changed the synced logins: %q", logins())
	}
}

// waitUntil polls fn until it returns true or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
