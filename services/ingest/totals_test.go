package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/ingest/gharchive"
)

// TestBackfillPublishesTotals: the watched repositories come from the cursor bucket, and the
// hour's totals go out as one gharchive_totals record before the hour is marked.
func TestBackfillPublishesTotals(t *testing.T) {
	svc, js := newService(t, nil)
	f, err := os.Open(testkit.GHArchiveSample(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var first struct{ Repo struct{ Name string } }
	if !sc.Scan() {
		t.Fatal("empty sample")
	}
	if err := json.Unmarshal(sc.Bytes(), &first); err != nil {
		t.Fatal(err)
	}
	repo := first.Repo.Name
	ctx := context.Background()
	list, err := json.Marshal([]string{repo})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.o.WatchedRepos.Put(ctx, events.KeyTotalsRepos, list); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hour := time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC)
	if err := os.Symlink(testkit.GHArchiveSample(t), filepath.Join(dir, gharchive.FileName(hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Backfill(ctx, dir, hour, hour, nil); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, js); n != 2048+1 {
		t.Fatalf("stream holds %d records, want 2049", n)
	}
	stream, err := js.Stream(ctx, events.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, events.SubjectRaw(events.SourceGHArchiveTotals))
	if err != nil {
		t.Fatal(err)
	}
	var r events.Raw
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		t.Fatal(err)
	}
	var h events.HourTotals
	if err := json.Unmarshal(r.Payload, &h); err != nil {
		t.Fatal(err)
	}
	if r.ID != "totals:2025-01-01-15" || r.Kind != events.KindHourTotals || h.Hour != "2025-01-01-15" || len(h.Rows) == 0 {
		t.Fatalf("record %s %s, totals %+v", r.ID, r.Kind, h)
	}
	for _, row := range h.Rows {
		if row.Repo != repo || row.Day != "2025-01-01" || row.Events == 0 {
			t.Fatalf("row %+v", row)
		}
	}
}
