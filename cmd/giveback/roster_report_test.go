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

// The report service reads end dates and opt-outs from the roster the instance attributes by,
// the one in NATS KV, and falls back to the configured file without NATS or before one is
// stored.
func TestReportRosterFollowsKV(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	file, err := roster.Parse(strings.NewReader("employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\ne1,Ann,core,ann,,2020-01-01,,false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := reportRoster(nil, file, log)(); got != file {
		t.Fatalf("without NATS: %v, want the file's roster", got)
	}

	_, _, js := testkit.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		t.Fatal(err)
	}
	if got := reportRoster(js, file, log)(); got != file {
		t.Fatalf("with an empty bucket: %v, want the file's roster", got)
	}
	loaded := "employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\ne1,Ann,core,ann,,2020-01-01,2025-06-30,false\n"
	if err := roster.Seed(ctx, kv, []byte(loaded), events.Company{Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	got := reportRoster(js, file, log)()
	if got == file || len(got.Periods) != 1 || got.Periods[0].End.Format(time.DateOnly) != "2025-06-30" {
		t.Fatalf("with a roster in KV: %+v, want the KV roster (end 2025-06-30)", got)
	}
}
