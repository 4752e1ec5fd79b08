package report_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report"
)

// buckets returns the cursor and status buckets ingest writes.
func buckets(t *testing.T, js jetstream.JetStream) (cursors, statuses jetstream.KeyValue) {
	t.Helper()
	cursors, err := js.KeyValue(context.Background(), events.BucketCursors)
	if err != nil {
		t.Fatal(err)
	}
	statuses, err = js.KeyValue(context.Background(), events.BucketStatus)
	if err != nil {
		t.Fatal(err)
	}
	return cursors, statuses
}

func TestSources(t *testing.T) {
	ctx := context.Background()
	_, _, js := testkit.NATS(t)
	cursors, statuses := buckets(t, js)
	hour := func(h string) string {
		at, err := events.ParseHourName(h)
		if err != nil {
			t.Fatal(err)
		}
		return events.KeyHourDone(at)
	}
	// What ingest writes: the status of each login's REST sync and of hydration, the backfilled
	// hours, and cursors, ETags and the watch list, which /sources leaves alone.
	for _, kv := range []struct {
		bucket     jetstream.KeyValue
		key, value string
	}{
		{statuses, events.KeyStatusREST("octocat"), `{"login":"octocat","last_sync":"2025-03-01T10:00:00Z","next_sync":"2025-03-01T10:15:00Z",` +
			`"cursors":{"author":"2025-02-28T09:00:00Z"},"items":3,"requests":5,"not_modified":4,"remaining":4990,"reset":"2025-03-01T10:30:00Z","last_error":""}`},
		{statuses, events.KeyStatusREST("hubot"), `{"login":"hubot","last_sync":"2025-03-01T10:00:01Z","items":0,"requests":1,"remaining":0,"last_error":"githubsync: hubot: rate limited"}`},
		{cursors, hour("2025-01-01-9"), "2025-03-01T00:00:00Z"},
		{cursors, hour("2025-01-01-15"), "2025-03-01T00:00:00Z"},
		{cursors, hour("2024-12-31-23"), "2025-03-01T00:00:00Z"},
		{cursors, events.KeyRESTCursor("author", "octocat"), "2025-02-28T09:00:00Z"},
		{statuses, events.KeyStatusHydration, `{"requests":12,"pull_requests":4,"commits":30,"gone":1,"counted":20,"not_modified":3,"watched":2,"last_error":"","last_at":"2025-03-01T10:05:00Z"}`},
		{cursors, events.KeyETag("https://api.github.com/x"), `{"etag":"W/\"x\""}`},
	} {
		if _, err := kv.bucket.Put(ctx, kv.key, []byte(kv.value)); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(newServer(t, report.Options{Company: "Acme", Sources: report.SourceBuckets{Cursors: cursors, Statuses: statuses}}).Handler())
	t.Cleanup(ts.Close)

	var got report.Sources
	if status := get(t, ts, "/api/v1/sources", nil, &got); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if len(got.REST) != 2 || got.REST[0].Login != "hubot" || got.REST[0].LastError == "" || got.REST[1].Login != "octocat" ||
		got.REST[1].Items != 3 || got.REST[1].Remaining != 4990 || got.REST[1].NextSync.IsZero() || got.REST[1].Cursors["author"].IsZero() {
		t.Fatalf("rest = %+v", got.REST)
	}
	if h := got.Hydration; h == nil || h.Requests != 12 || h.Commits != 30 || h.Watched != 2 || h.LastAt.IsZero() {
		t.Fatalf("hydration = %+v", h)
	}
	if got.GHArchive != (report.ArchiveStatus{HoursDone: 3, LastHour: "2025-01-01T15:00:00Z"}) {
		t.Fatalf("gharchive = %+v", got.GHArchive)
	}

	resp, err := http.Get(ts.URL + "/sources")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	for _, want := range []string{`data-login="octocat"`, "2025-03-01 10:15 UTC", "githubsync: hubot: rate limited", ">3</div><div class=\"name\">GH Archive hours", "1 failing", `href="./"`, `id="hydration"`, "2025-03-01 10:05 UTC"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestSourcesEmptyAndAbsent(t *testing.T) {
	_, _, js := testkit.NATS(t)
	cursors, statuses := buckets(t, js)
	ts := httptest.NewServer(newServer(t, report.Options{Sources: report.SourceBuckets{Cursors: cursors, Statuses: statuses}}).Handler())
	t.Cleanup(ts.Close)
	var got report.Sources
	if status := get(t, ts, "/api/v1/sources", nil, &got); status != http.StatusOK || got.REST == nil || len(got.REST) != 0 || got.GHArchive.HoursDone != 0 {
		t.Fatalf("empty bucket: status %d, %+v", status, got)
	}

	off := httptest.NewServer(newServer(t, report.Options{}).Handler())
	t.Cleanup(off.Close)
	var e struct{ Error string }
	if status := get(t, off, "/api/v1/sources", nil, &e); status != http.StatusServiceUnavailable || !strings.Contains(e.Error, "cursor and status buckets") {
		t.Fatalf("without a bucket: status %d, %+v", status, e)
	}
	resp, err := http.Get(off.URL + "/sources")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("page without a bucket: status %d", resp.StatusCode)
	}
}
