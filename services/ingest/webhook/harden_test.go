package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// countingReader counts the bytes read from an endless body.
type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	c.n += int64(len(p))
	return len(p), nil
}

// A body without a Content-Length that goes on forever is refused with 413 once it passes the
// limit, and no more than the limit (plus one read's worth) is read.
func TestOversizedStreamRefusedAtTheLimit(t *testing.T) {
	var rec recorder
	h := &Handler{Secret: secret, MaxBytes: 1 << 16, Publish: rec.publish, Log: slog.New(slog.DiscardHandler)}
	body := &countingReader{}
	req := httptest.NewRequest(http.MethodPost, Path, io.NopCloser(body))
	req.ContentLength = -1
	req.Header.Set("X-Hub-Signature-256", Sign(secret, nil))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "d")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d; want 413", w.Code)
	}
	if body.n > h.MaxBytes+64<<10 {
		t.Errorf("read %d bytes of the body; want about the limit, %d", body.n, h.MaxBytes)
	}
	if rec.count() != 0 || atomicLoad(h) != 0 {
		t.Errorf("published %d, %d bytes still reserved", rec.count(), atomicLoad(h))
	}
}

func atomicLoad(h *Handler) int64 {
	h.reserve(0)
	return h.inFlight
}

// blockingBody delivers its bytes only when released, keeping the delivery in flight.
type blockingBody struct {
	r       io.Reader
	release chan struct{}
	started chan struct{}
	once    sync.Once
}

func (b *blockingBody) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.started) })
	<-b.release
	return b.r.Read(p)
}

// While large deliveries fill the in-flight budget, another is refused with 503 and
// Retry-After; once they are done, deliveries are accepted again.
func TestConcurrentLargeDeliveriesCapped(t *testing.T) {
	var rec recorder
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Secret: secret, MaxBytes: 1 << 20, MaxInFlightBytes: 2 << 20, Publish: rec.publish, Metrics: m, Log: slog.New(slog.DiscardHandler)}
	big := []byte(`{"pad":"` + strings.Repeat("x", 900<<10) + `"}`)
	release := make(chan struct{})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		b := &blockingBody{r: bytes.NewReader(big), release: release, started: make(chan struct{})}
		req := httptest.NewRequest(http.MethodPost, Path, b)
		req.ContentLength = int64(len(big))
		for k, v := range signed("push", "big-"+string(rune('a'+i)), big) {
			req.Header.Set(k, v)
		}
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			codes[i] = w.Code
		})
		<-b.started
	}
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(big))
	for k, v := range signed("push", "third", big) {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("third large delivery: status %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	close(release)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusAccepted {
			t.Errorf("large delivery %d: status %d; want 202", i, c)
		}
	}
	req = httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(big))
	for k, v := range signed("push", "fourth", big) {
		req.Header.Set(k, v)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		t.Errorf("delivery after the others finished: status %d; want 202", w.Code)
	}
	if got := testutil.ToFloat64(m.deliveries.WithLabelValues("busy")); got != 1 {
		t.Errorf("busy deliveries counted %v; want 1", got)
	}
}

// A signed body delivered again under another delivery id is dropped with 200 and counted; the
// same delivery redelivered by GitHub (same id) is published again, and JetStream drops the
// copy by its message id. The bucket is a real JetStream KV bucket.
func TestReplayUnderAnotherDeliveryDropped(t *testing.T) {
	_, _, js := testkit.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	replays, err := OpenReplays(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	pub := bus.NewPublisher(js)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Secret: secret, Publish: pub.PublishSync, Replays: replays, Metrics: m}
	srv := newServer(t, h)
	body := []byte(`{"action":"opened","number":7}`)
	other := []byte(`{"action":"closed","number":7}`)

	steps := []struct {
		delivery string
		body     []byte
		status   int
	}{
		{"d-1", body, http.StatusAccepted},  // first delivery
		{"d-1", body, http.StatusAccepted},  // GitHub's redelivery: same id
		{"d-2", body, http.StatusOK},        // replay under another id: dropped
		{"d-3", other, http.StatusAccepted}, // another body
		{"d-4", body, http.StatusOK},        // replay again
	}
	for _, s := range steps {
		if status, msg := post(t, srv, signed("pull_request", s.delivery, s.body), s.body); status != s.status {
			t.Errorf("delivery %s: status %d (%s); want %d", s.delivery, status, msg, s.status)
		}
	}
	if got := testutil.ToFloat64(m.deliveries.WithLabelValues("replay")); got != 2 {
		t.Errorf("replays counted %v; want 2", got)
	}
	st, err := js.Stream(ctx, events.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Errorf("raw stream holds %d records; want 2 (d-1 and d-3)", info.State.Msgs)
	}
	for seq, want := range map[uint64]string{1: "d-1", 2: "d-3"} {
		msg, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var raw events.Raw
		if err := json.Unmarshal(msg.Data, &raw); err != nil {
			t.Fatal(err)
		}
		if raw.ID != want {
			t.Errorf("raw record %d is delivery %s; want %s", seq, raw.ID, want)
		}
	}
}

// FuzzReadVerified compares the streaming verifier with the HMAC of the whole body computed in
// one go, whatever the chunking of the reads, the limit and the signature header.
func FuzzReadVerified(f *testing.F) {
	f.Add([]byte(`{"zen":"Design for failure."}`), []byte("s"), "", int64(100), uint8(0))
	f.Add([]byte(`{}`), []byte(""), "sha256=", int64(1), uint8(1))
	f.Add([]byte(`{}`), []byte("k"), "sha256="+strings.Repeat("0", 64), int64(2), uint8(2))
	f.Add([]byte(""), []byte("k"), "sha1=abc", int64(0), uint8(3))
	f.Add([]byte("abc"), []byte("k"), "SHA256="+strings.Repeat("A", 64), int64(3), uint8(0))
	f.Fuzz(func(t *testing.T, body, key []byte, sig string, limit int64, chunking uint8) {
		if limit < 0 || limit > 1<<20 {
			return
		}
		valid := sig == ""
		if valid {
			sig = Sign(key, body)
		}
		var r io.Reader = bytes.NewReader(body)
		switch chunking % 4 {
		case 1:
			r = iotest.OneByteReader(r)
		case 2:
			r = iotest.HalfReader(r)
		case 3:
			r = iotest.DataErrReader(r)
		}
		v, err := ReadVerified(r, key, sig, limit, int64(len(body)))
		switch {
		case int64(len(body)) > limit:
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("body of %d bytes over the limit %d: %v", len(body), limit, err)
			}
		case strings.HasPrefix(sig, "sha256=") && strings.EqualFold(sig, Sign(key, body)):
			if err != nil {
				t.Fatalf("valid signature refused: %v", err)
			}
			if !bytes.Equal(v.Body, body) || v.Hash != sha256.Sum256(body) {
				t.Fatal("body or hash differs from what was sent")
			}
		default:
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("signature %q of another body: %v", sig, err)
			}
		}
	})
}
