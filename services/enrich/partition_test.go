package enrich_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/enrich"
)

// A commit dated differently by two sources — GH Archive by its push just after midnight on the
// 1st, the REST API by its author date the evening before — and a commit seen twice in one
// batch across a month's end stay one row each, in the month of their first version, also for
// readers that deduplicate partition by partition (the metrics' setting).
func TestCommitsStayInOnePartition(t *testing.T) {
	st, svc := partitionService(t)
	ctx := context.Background()
	const x, y = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	for _, batch := range [][]events.Raw{
		{annPush(t, "1", x, "2025-02-01T00:30:00Z")},
		{annRESTCommit(x, "2025-01-31T22:00:00Z")},
		{annRESTCommit(y, "2025-03-31T23:00:00Z"), annPush(t, "2", y, "2025-04-01T00:10:00Z")},
	} {
		if err := svc.Store(ctx, svc.Process(encode(t, batch))); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Query(ctx, "SELECT id, toString(occurred_at) FROM contributions FINAL WHERE kind = 'commit' ORDER BY id",
		store.Settings{"do_not_merge_across_partitions_select_final": 1})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, store.AsString(r[0])+" "+store.AsString(r[1]))
	}
	want := []string{"commit:golang/go@" + x + " 2025-02-01 00:30:00.000", "commit:golang/go@" + y + " 2025-03-31 23:00:00.000"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commits:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Re-deriving a commit's history keeps it in the partition of its first version: the REST
// record that dates it in the month before its push is mapped again, and its row must not land
// in that month, where it would be a second row that no merge removes.
func TestRederivedCommitStaysInItsPartition(t *testing.T) {
	st, svc := partitionService(t)
	ctx := context.Background()
	const sha = "cccccccccccccccccccccccccccccccccccccccc"
	push, rest := annPush(t, "1", sha, "2025-02-01T00:30:00Z"), annRESTCommit(sha, "2025-01-31T22:00:00Z")
	for _, batch := range [][]events.Raw{{push}, {rest}} {
		if err := svc.Store(ctx, svc.Process(encode(t, batch))); err != nil {
			t.Fatal(err)
		}
	}
	read, err := svc.Rederive(ctx, []string{"ann"})
	if err != nil {
		t.Fatal(err)
	}
	if read != 2 {
		t.Fatalf("re-derived %d raw records, want 2", read)
	}
	onePartition(t, st, "202502")
}

// Two versions of one commit not stored yet, stored at the same time (as the consumer and a
// re-derivation may), land in one partition: the second batch is placed only once the first's
// rows are stored. Without that, each would find nothing stored and take its own month.
func TestConcurrentBatchesStayInOnePartition(t *testing.T) {
	st, svc := partitionService(t)
	ctx := context.Background()
	const sha = "dddddddddddddddddddddddddddddddddddddddd"
	rest, push := annRESTCommit(sha, "2025-01-31T22:00:00Z"), annPush(t, "1", sha, "2025-02-01T00:30:00Z")
	first, second := svc.Process(encode(t, []events.Raw{rest})), svc.Process(encode(t, []events.Raw{push}))

	held, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	var overlapped atomic.Bool
	defer enrich.SetAfterPlace(func() {
		if calls.Add(1) == 1 {
			close(held)
			<-release
			return
		}
		select {
		case <-release:
		default:
			overlapped.Store(true)
		}
	})()
	errs := make(chan error, 2)
	go func() { errs <- svc.Store(ctx, first) }()
	<-held
	go func() { errs <- svc.Store(ctx, second) }()
	// Time for the second batch to be placed and stored, were it not held back.
	time.Sleep(300 * time.Millisecond)
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if overlapped.Load() {
		t.Error("the second batch was placed while the first batch's rows were not stored")
	}
	onePartition(t, st, "202501")
}

// partitionService returns a store and an enrich service over it, with the test roster.
func partitionService(t *testing.T) (*store.Store, *enrich.Service) {
	t.Helper()
	st := testkit.Store(t)
	_, _, js := testkit.NATS(t)
	ro, err := roster.Parse(strings.NewReader(rosterCSV))
	if err != nil {
		t.Fatal(err)
	}
	return st, newService(t, enrich.Options{Store: st, JS: js, Company: config.Company{Name: "Acme"}, Roster: ro, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// annPush is a GH Archive push by ann of commit sha to golang/go at the time at.
func annPush(t *testing.T, id, sha, at string) events.Raw {
	return raw(t, "PushEvent", id, `{"id":"`+id+`","type":"PushEvent","actor":{"login":"ann"},"repo":{"name":"golang/go"},`+
		`"payload":{"commits":[{"sha":"`+sha+`","message":"m","distinct":true,"author":{"email":"ann@example.com"}}]},"created_at":"`+at+`"}`)
}

// annRESTCommit is the REST API's record of ann's commit sha to golang/go, authored at authored.
func annRESTCommit(sha, authored string) events.Raw {
	return events.Raw{Schema: events.SchemaRaw, Source: events.SourceREST, Kind: "commit", ID: "commit:golang/go@" + sha,
		FetchedAt: time.Now().UTC(), Meta: map[string]string{"repo": "golang/go", "login": "ann"},
		Payload: json.RawMessage(`{"sha":"` + sha + `","commit":{"message":"m","author":{"email":"ann@example.com","date":"` + authored + `"}},"author":{"login":"ann"}}`)}
}

// onePartition fails t unless every stored commit row lies in partition part.
func onePartition(t *testing.T, st *store.Store, part string) {
	t.Helper()
	res, err := st.Query(context.Background(), "SELECT _partition_id, count() FROM contributions WHERE kind = 'commit' GROUP BY _partition_id ORDER BY _partition_id", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || store.AsString(res.Rows[0][0]) != part {
		t.Fatalf("commit rows by partition: %v, want every version in %s", res.Rows, part)
	}
}
