package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// An instance upgraded in place keeps its roster, statuses, watch list and watched
// repositories: the keys an earlier version kept in the cursor bucket are in the buckets that
// hold them now as soon as EnsureStreams returns, copied once (a key deleted since stays
// deleted), while the cursors stay where they were.
func TestEnsureStreamsMovesLegacyKeys(t *testing.T) {
	_, _, js := testkit.BareNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The earlier version: one bucket for everything.
	old, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: events.BucketCursors, Storage: jetstream.FileStorage, History: 1})
	if err != nil {
		t.Fatal(err)
	}
	openKey := events.KeyHydrateOpen("a/b", 7)
	legacy := map[string]struct{ bucket, value string }{
		events.KeyRosterCurrent:               {events.BucketRoster, "login,employee_id\nann,e1\n"},
		events.KeyRosterGeneration:            {events.BucketRoster, "3"},
		events.KeyStatusREST("Ann"):           {events.BucketStatus, `{"login":"ann"}`},
		events.KeyStatusHydration:             {events.BucketStatus, `{"requests":2}`},
		openKey:                               {events.BucketHydrateWatch, `{"repo":"a/b","number":7}`},
		events.KeyTotalsRepos:                 {events.BucketWatchedRepos, `["a/b"]`},
		events.KeyRESTCursor("author", "ann"): {events.BucketCursors, "2025-01-01T00:00:00Z"},
		events.KeyHourDone(time.Date(2025, 1, 1, 5, 0, 0, 0, time.UTC)): {events.BucketCursors, "2025-01-02T00:00:00Z"},
	}
	for k, v := range legacy {
		if _, err := old.Put(ctx, k, []byte(v.value)); err != nil {
			t.Fatal(err)
		}
	}

	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	for k, v := range legacy {
		kv, err := js.KeyValue(ctx, v.bucket)
		if err != nil {
			t.Fatal(err)
		}
		e, err := kv.Get(ctx, k)
		if err != nil {
			t.Errorf("%s in %s: %v", k, v.bucket, err)
			continue
		}
		if string(e.Value()) != v.value {
			t.Errorf("%s in %s = %q; want %q", k, v.bucket, e.Value(), v.value)
		}
	}
	// Only what moved is in the new buckets: the cursors were not copied.
	status, err := js.KeyValue(ctx, events.BucketStatus)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := status.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range keys.Keys() {
		n++
	}
	if n != 2 {
		t.Errorf("status bucket holds %d keys; want the 2 statuses", n)
	}

	// The pull request closes: its key is deleted, and a second start does not bring it back.
	watch, err := js.KeyValue(ctx, events.BucketHydrateWatch)
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Delete(ctx, openKey); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if e, err := watch.Get(ctx, openKey); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("deleted watch key after a restart: %v, %v; want it gone", e, err)
	}
}

// A fresh instance, with nothing to move, starts without waiting.
func TestEnsureStreamsFresh(t *testing.T) {
	_, _, js := testkit.BareNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("EnsureStreams on a fresh server took %s", d)
	}
	for _, b := range events.Buckets {
		if _, err := js.KeyValue(ctx, b); err != nil {
			t.Errorf("bucket %s: %v", b, err)
		}
	}
}

// A service declares the buckets with its own user, on a server where nothing is declared yet
// but the cursor bucket of an earlier version, and the legacy keys are copied all the same:
// the server runs the copy, not the user.
func TestEnsureStreamsMovesLegacyKeysAsAService(t *testing.T) {
	for _, user := range []string{bus.UserIngest, bus.UserEnrich} {
		t.Run(user, func(t *testing.T) {
			srv, pw := secureServer(t)
			admin := connectAs(t, srv, pw, bus.UserAdmin)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			old, err := admin.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: events.BucketCursors, Storage: jetstream.FileStorage, History: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := old.Put(ctx, events.KeyRosterGeneration, []byte("4")); err != nil {
				t.Fatal(err)
			}
			js := connectAs(t, srv, pw, user)
			if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
				t.Fatal(err)
			}
			kv, err := js.KeyValue(ctx, events.BucketRoster)
			if err != nil {
				t.Fatal(err)
			}
			if e, err := kv.Get(ctx, events.KeyRosterGeneration); err != nil || string(e.Value()) != "4" {
				t.Fatalf("roster generation after the %s user declared the buckets: %v", user, err)
			}
		})
	}
}
