package ingest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/ingest/gharchive"
	"giveback.dev/services/ingest/webhook"
)

func newService(t *testing.T, secret []byte) (*Service, jetstream.JetStream) {
	t.Helper()
	_, _, js := testkit.NATS(t)
	o := Options{Publisher: bus.NewPublisher(js), Log: slog.New(slog.DiscardHandler),
		WebhookSecret: secret, Parallel: 2, Registry: prometheus.NewRegistry()}
	if err := o.OpenBuckets(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	svc, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return svc, js
}

func streamMsgs(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	st, err := js.Stream(context.Background(), events.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestBackfillMarksHours(t *testing.T) {
	svc, js := newService(t, nil)
	dir := t.TempDir()
	hour := time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC)
	if err := os.Symlink(testkit.GHArchiveSample(t), filepath.Join(dir, gharchive.FileName(hour))); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// 15h is the sample, 16h is missing: it is reported, not marked.
	var last gharchive.Progress
	st, err := svc.Backfill(ctx, dir, hour, hour.Add(time.Hour), func(p gharchive.Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 2048 || st.MissingHours != 1 || last.HoursDone != 2 {
		t.Fatalf("stats = %+v, progress %+v", st, last)
	}
	if n := streamMsgs(t, js); n != 2048 {
		t.Fatalf("stream holds %d records, want 2048", n)
	}
	if _, err := svc.o.KV.Get(ctx, events.KeyHourDone(time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC))); err != nil {
		t.Fatalf("hour 15 not marked: %v", err)
	}
	if _, err := svc.o.KV.Get(ctx, events.KeyHourDone(hour.Add(time.Hour))); err == nil {
		t.Fatal("a missing hour was marked done")
	}
	// A second backfill skips the hour.
	st, err = svc.Backfill(ctx, dir, hour, hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.SkippedHours != 1 || st.Events != 0 || streamMsgs(t, js) != 2048 {
		t.Fatalf("second backfill stats = %+v", st)
	}
}

func TestWebhookPublishes(t *testing.T) {
	secret := []byte("s3cret")
	svc, js := newService(t, secret)
	body := []byte(`{"action":"opened","issue":{"number":1}}`)
	for range 2 { // GitHub's redelivery of the same GUID is a duplicate
		req := httptest.NewRequest(http.MethodPost, webhook.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "issues")
		req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
		req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
		w := httptest.NewRecorder()
		svc.WebhookHandler().ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			t.Fatalf("status = %d %s", w.Code, w.Body)
		}
	}
	if err := svc.o.Publisher.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, js); n != 1 {
		t.Fatalf("stream holds %d records, want 1", n)
	}
}
