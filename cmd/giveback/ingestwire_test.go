package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/testkit"
)

// The GH Archive prefilter follows the roster kept in NATS KV: a login added by `giveback
// roster load` passes without restarting ingest; a bad roster there changes nothing.
func TestRosterFilterFollowsKV(t *testing.T) {
	_, _, js := testkit.NATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kv, err := js.KeyValue(ctx, events.BucketCursors)
	if err != nil {
		t.Fatal(err)
	}
	const head = "employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\n"
	file, err := roster.Parse(strings.NewReader(head + "e1,Alice,core,alice,,2020-01-01,,false\n"))
	if err != nil {
		t.Fatal(err)
	}
	filter := rosterFilter(ctx, kv, file, []string{"acme"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	line := func(login, repo string) []byte {
		return []byte(`{"id":"1","type":"PushEvent","actor":{"id":1,"login":"` + login + `"},"repo":{"id":2,"name":"` + repo + `"},"payload":{},"created_at":"2025-01-01T00:00:00Z"}`)
	}
	if !filter(line("alice", "golang/go")) || filter(line("bob", "golang/go")) || !filter(line("bob", "acme/tool")) {
		t.Fatal("the filter does not start from the roster file and the company's orgs")
	}
	if _, err := kv.Put(ctx, events.KeyRosterCurrent, []byte(head+"e1,Alice,core,alice,,2020-01-01,,false\ne2,Bob,core,bob,,2024-01-01,,false\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the filter to take bob", func() bool { return filter(line("bob", "golang/go")) })
	if _, err := kv.Put(ctx, events.KeyRosterCurrent, []byte("not a roster\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if !filter(line("bob", "golang/go")) || !filter(line("alice", "golang/go")) {
		t.Fatal("a refused roster changed the filter")
	}
}
