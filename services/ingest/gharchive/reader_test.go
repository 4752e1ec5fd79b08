package gharchive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

func TestHoursAndFileName(t *testing.T) {
	from := time.Date(2025, 1, 1, 22, 40, 0, 0, time.UTC)
	to := time.Date(2025, 1, 2, 1, 5, 0, 0, time.UTC)
	var names []string
	for _, h := range Hours(from, to) {
		names = append(names, FileName(h))
	}
	want := "2025-01-01-22.json.gz 2025-01-01-23.json.gz 2025-01-02-0.json.gz 2025-01-02-1.json.gz"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("names = %s, want %s", got, want)
	}
	if h := Hours(to, from); h != nil {
		t.Fatalf("Hours(to, from) = %v, want nil", h)
	}
	if got := FileName(time.Date(2025, 1, 1, 5, 0, 0, 0, time.FixedZone("x", 3600))); got != "2025-01-01-4.json.gz" {
		t.Fatalf("FileName in another zone = %s", got)
	}
}

// collector gathers emitted records; emit may run on several goroutines.
type collector struct {
	mu   sync.Mutex
	recs []*events.Raw
}

func (c *collector) emit(_ context.Context, r *events.Raw) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r)
	return nil
}

func TestReadSample(t *testing.T) {
	dir := t.TempDir()
	linkSample(t, dir, FileName(sampleHour))
	lines := sampleLines(t)
	fetched := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var c collector
	var last Progress
	r := &Reader{Source: dir, now: func() time.Time { return fetched }}
	st, err := r.Read(context.Background(), []time.Time{sampleHour}, c.emit, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 2048 || st.Lines != 2048 || st.Malformed != 0 || st.Hours != 1 {
		t.Fatalf("stats = %+v, want 2048 events", st)
	}
	if last.HoursDone != 1 || last.HoursTotal != 1 || last.Events != 2048 || last.Bytes != st.Bytes {
		t.Fatalf("last progress = %+v", last)
	}
	kinds := map[string]int{}
	actors := map[string]bool{}
	ids := map[string]bool{}
	for i, rec := range c.recs {
		if rec.Schema != events.SchemaRaw || rec.Source != events.SourceGHArchive || !rec.FetchedAt.Equal(fetched) {
			t.Fatalf("record %d envelope = %+v", i, rec)
		}
		if want := fmt.Sprintf("2025-01-01-15.json.gz:%d", i+1); rec.Origin != want {
			t.Fatalf("record %d origin = %s, want %s", i, rec.Origin, want)
		}
		if !bytes.Equal(rec.Payload, lines[i]) {
			t.Fatalf("record %d payload differs from line %d", i, i+1)
		}
		var ev struct {
			ID, Type string
			Actor    struct{ Login string }
		}
		if err := json.Unmarshal(rec.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ID != rec.ID || ev.Type != rec.Kind {
			t.Fatalf("record %d id/kind = %s/%s, event has %s/%s", i, rec.ID, rec.Kind, ev.ID, ev.Type)
		}
		kinds[rec.Kind]++
		actors[ev.Actor.Login] = true
		ids[rec.ID] = true
	}
	// The figures of the sample's README.
	for kind, n := range map[string]int{"PushEvent": 1463, "CreateEvent": 204, "PullRequestEvent": 113, "WatchEvent": 100, "IssueCommentEvent": 53} {
		if kinds[kind] != n {
			t.Errorf("%s = %d, want %d", kind, kinds[kind], n)
		}
	}
	if len(actors) != 1156 || len(ids) != 2048 {
		t.Errorf("distinct actors = %d (want 1156), ids = %d (want 2048)", len(actors), len(ids))
	}
	// The payload is a copy: changing one record leaves the others and the next read intact.
	c.recs[0].Payload[0] = 'X'
	if c.recs[1].Payload[0] != '{' {
		t.Fatal("payloads share memory")
	}
}

func TestReadBadInput(t *testing.T) {
	dir := t.TempDir()
	lines := sampleLines(t)
	h := func(n int) time.Time { return time.Date(2025, 1, 1, n, 0, 0, 0, time.UTC) }

	// Hour 1: the sample with three bad lines and a blank one inserted.
	var bad [][]byte
	bad = append(bad, lines[:10]...)
	bad = append(bad, []byte("this is not json"), []byte(`{"type":"PushEvent","actor":{}}`))
	bad = append(bad, lines[10:20]...)
	bad = append(bad, []byte(`{"id":"1","type":"PushEvent","payload":{`), []byte(""))
	bad = append(bad, lines[20:]...)
	writeGz(t, dir, FileName(h(1)), append(bytes.Join(bad, []byte("\n")), '\n'))

	// Hour 2: the sample's gzip cut in half.
	whole, err := os.ReadFile(testkit.GHArchiveSample(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName(h(2))), whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	// Hour 3: missing. Hour 4: a zero-padded name.
	linkSample(t, dir, "2025-01-01-04.json.gz")
	// Hour 5: not gzip at all.
	if err := os.WriteFile(filepath.Join(dir, FileName(h(5))), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	var c collector
	r := &Reader{Source: dir, Parallel: 3}
	st, err := r.Read(context.Background(), []time.Time{h(1), h(2), h(3), h(4), h(5)}, c.emit, nil)
	if err == nil {
		t.Fatal("no error for a truncated dump")
	}
	for _, name := range []string{"2025-01-01-2.json.gz", "2025-01-01-5.json.gz"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if strings.Contains(err.Error(), "2025-01-01-3.json.gz") {
		t.Errorf("a missing hour is an error: %v", err)
	}
	if st.Malformed != 3 || st.FailedHours != 2 || st.MissingHours != 1 || st.Hours != 5 {
		t.Fatalf("stats = %+v, want 3 malformed, 2 failed, 1 missing", st)
	}
	// Hours 1 and 4 whole, and what hour 2 held before the cut.
	byOrigin := map[string]int{}
	for _, rec := range c.recs {
		file, _, _ := strings.Cut(rec.Origin, ":")
		byOrigin[file]++
	}
	if byOrigin["2025-01-01-1.json.gz"] != 2048 || byOrigin["2025-01-01-04.json.gz"] != 2048 {
		t.Fatalf("events per file = %v", byOrigin)
	}
	if n := byOrigin["2025-01-01-2.json.gz"]; n == 0 || n >= 2048 {
		t.Fatalf("truncated hour emitted %d events, want some but not all", n)
	}
	// Lines after the bad ones keep their numbers: line 13 is the sample's 11th.
	for _, rec := range c.recs {
		if rec.Origin == "2025-01-01-1.json.gz:13" && !bytes.Equal(rec.Payload, lines[10]) {
			t.Fatal("line numbers shifted after malformed lines")
		}
	}
}

func TestReadLongLine(t *testing.T) {
	dir := t.TempDir()
	big := fmt.Sprintf(`{"id":"1","type":"PushEvent","payload":{"blob":%q}}`, strings.Repeat("a", 3<<20))
	writeGz(t, dir, FileName(sampleHour), []byte(big+"\n"+`{"id":"2","type":"WatchEvent"}`))
	var c collector
	st, err := (&Reader{Source: dir}).Read(context.Background(), []time.Time{sampleHour}, c.emit, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 2 || len(c.recs[0].Payload) != len(big) || c.recs[1].ID != "2" {
		t.Fatalf("stats = %+v", st)
	}
	// With a bound below the line, it is malformed and the next line still flows.
	c = collector{}
	st, err = (&Reader{Source: dir, MaxLineBytes: 1 << 20}).Read(context.Background(), []time.Time{sampleHour}, c.emit, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 1 || st.Malformed != 1 || c.recs[0].Origin != "2025-01-01-15.json.gz:2" {
		t.Fatalf("stats = %+v, records %v", st, c.recs)
	}
}

func TestReadHTTP(t *testing.T) {
	dir := t.TempDir()
	linkSample(t, dir, FileName(sampleHour))
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	var c collector
	r := &Reader{Source: srv.URL + "/", Parallel: 2, HTTPClient: srv.Client()}
	st, err := r.Read(context.Background(), []time.Time{sampleHour, sampleHour.Add(time.Hour)}, c.emit, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 2048 || st.MissingHours != 1 {
		t.Fatalf("stats = %+v, want 2048 events and 1 missing hour", st)
	}
}

func TestReadFilterDoneFinished(t *testing.T) {
	dir := t.TempDir()
	linkSample(t, dir, FileName(sampleHour))
	linkSample(t, dir, FileName(sampleHour.Add(time.Hour)))
	var finished []time.Time
	var mu sync.Mutex
	r := &Reader{
		Source:   dir,
		Parallel: 2,
		Filter:   func(line []byte) bool { return bytes.Contains(line, []byte(`"type":"WatchEvent"`)) },
		Done:     func(_ context.Context, h time.Time) bool { return h.Equal(sampleHour) },
		Finished: func(_ context.Context, h time.Time) error {
			mu.Lock()
			defer mu.Unlock()
			finished = append(finished, h)
			return nil
		},
	}
	var c collector
	st, err := r.Read(context.Background(), []time.Time{sampleHour, sampleHour.Add(time.Hour)}, c.emit, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.SkippedHours != 1 || st.Events != 100 || st.Filtered != 2048-100 {
		t.Fatalf("stats = %+v", st)
	}
	if len(finished) != 1 || !finished[0].Equal(sampleHour.Add(time.Hour)) {
		t.Fatalf("finished = %v", finished)
	}
}

func TestReadEmitErrorStops(t *testing.T) {
	dir := t.TempDir()
	hours := Hours(sampleHour, sampleHour.Add(5*time.Hour))
	for _, h := range hours {
		linkSample(t, dir, FileName(h))
	}
	boom := errors.New("bus down")
	n := 0
	var mu sync.Mutex
	emit := func(context.Context, *events.Raw) error {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 100 {
			return boom
		}
		return nil
	}
	var finished atomic.Int64
	r := &Reader{Source: dir, Finished: func(context.Context, time.Time) error { finished.Add(1); return nil }}
	st, err := r.Read(context.Background(), hours, emit, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the emit error", err)
	}
	if finished.Load() != 0 || st.Events != 99 {
		t.Fatalf("read went on after the emit error: %+v, finished %d", st, finished.Load())
	}
	// In parallel too the read stops, short of the whole.
	n = 0
	r.Parallel = 3
	st, err = r.Read(context.Background(), hours, emit, nil)
	if !errors.Is(err, boom) || st.Events >= int64(len(hours))*2048 {
		t.Fatalf("parallel read: err = %v, stats %+v", err, st)
	}
}
