package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

var secret = []byte("It's a Secret to Everybody")

// recorder keeps what the handler published.
type recorder struct {
	mu   sync.Mutex
	recs []*events.Raw
	err  error
}

func (p *recorder) publish(_ context.Context, r *events.Raw) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.recs = append(p.recs, r)
	return nil
}

func (p *recorder) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.recs)
}

func newServer(t *testing.T, h *Handler) *httptest.Server {
	t.Helper()
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, srv *httptest.Server, headers map[string]string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+Path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(msg)
}

func signed(event, delivery string, body []byte) map[string]string {
	return map[string]string{
		"X-GitHub-Event":      event,
		"X-GitHub-Delivery":   delivery,
		"X-Hub-Signature-256": Sign(secret, body),
	}
}

func TestExamples(t *testing.T) {
	data, err := os.ReadFile(testkit.WebhookExamples(t))
	if err != nil {
		t.Fatal(err)
	}
	var index []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	srv := newServer(t, &Handler{Secret: secret, Publish: rec.publish, Metrics: metrics})

	published, pings := 0, 0
	want := map[string]*events.Raw{}
	for _, ev := range index {
		for i, ex := range ev.Examples {
			delivery := fmt.Sprintf("%s-%d-0000-0000-000000000000", ev.Name, i)
			headers := signed(ev.Name, delivery, ex)
			headers["X-GitHub-Hook-ID"] = "42"
			headers["X-GitHub-Hook-Installation-Target-Type"] = "repository"
			status, msg := post(t, srv, headers, ex)
			if ev.Name == "ping" {
				if status != http.StatusOK {
					t.Fatalf("ping %d: status %d %s", i, status, msg)
				}
				pings++
				continue
			}
			if status != http.StatusAccepted {
				t.Fatalf("%s example %d: status %d %s", ev.Name, i, status, msg)
			}
			want[delivery] = &events.Raw{Kind: ev.Name, Payload: ex}
			published++
		}
	}
	if published < 300 || pings == 0 {
		t.Fatalf("posted %d events and %d pings; the examples are incomplete", published, pings)
	}
	if rec.count() != published {
		t.Fatalf("published %d records for %d deliveries", rec.count(), published)
	}
	for _, r := range rec.recs {
		w := want[r.ID]
		if w == nil || r.Kind != w.Kind || !bytes.Equal(r.Payload, w.Payload) {
			t.Fatalf("record %s (%s) does not match its delivery", r.ID, r.Kind)
		}
		if r.Schema != events.SchemaRaw || r.Source != events.SourceWebhook || r.Origin != "delivery "+r.ID ||
			r.Meta["hook_id"] != "42" || r.Meta["installation_target_type"] != "repository" || r.FetchedAt.IsZero() {
			t.Fatalf("record %s envelope = %+v", r.ID, r)
		}
	}
	if got := testutil.ToFloat64(metrics.deliveries.WithLabelValues("published")); int(got) != published {
		t.Fatalf("published counter = %v, want %d", got, published)
	}
}

func TestRefusals(t *testing.T) {
	body := []byte(`{"action":"opened","number":1}`)
	tooBig := []byte(`{"blob":"` + strings.Repeat("x", 2048) + `"}`)
	form := url.Values{"payload": {string(body)}}.Encode()
	tests := []struct {
		name    string
		handler Handler
		headers map[string]string
		body    []byte
		status  int
		publish bool
	}{
		{"signed", Handler{}, signed("issues", "d1", body), body, http.StatusAccepted, true},
		{"unknown event", Handler{}, signed("some_future_event", "d2", body), body, http.StatusAccepted, true},
		{"no signature", Handler{}, merge(signed("issues", "d3", body), "X-Hub-Signature-256", ""), body, http.StatusUnauthorized, false},
		{"wrong signature", Handler{}, merge(signed("issues", "d4", body), "X-Hub-Signature-256", Sign([]byte("other"), body)), body, http.StatusUnauthorized, false},
		{"sha1 only", Handler{}, merge(signed("issues", "d5", body), "X-Hub-Signature-256", "sha1=0123"), body, http.StatusUnauthorized, false},
		{"not hex", Handler{}, merge(signed("issues", "d6", body), "X-Hub-Signature-256", "sha256=zz"), body, http.StatusUnauthorized, false},
		{"signature of another body", Handler{}, signed("issues", "d7", []byte(`{}`)), body, http.StatusUnauthorized, false},
		{"too large", Handler{MaxBytes: 1024}, signed("issues", "d8", tooBig), tooBig, http.StatusRequestEntityTooLarge, false},
		{"no event", Handler{}, merge(signed("issues", "d9", body), "X-GitHub-Event", ""), body, http.StatusBadRequest, false},
		{"no delivery", Handler{}, merge(signed("issues", "", body), "X-GitHub-Delivery", ""), body, http.StatusBadRequest, false},
		{"not json", Handler{}, signed("issues", "d10", []byte(`{"a":`)), []byte(`{"a":`), http.StatusBadRequest, false},
		{"ping", Handler{}, signed("ping", "d11", body), body, http.StatusOK, false},
		{"no secret", Handler{Secret: []byte{}}, signed("issues", "d12", body), body, http.StatusServiceUnavailable, false},
		{"form encoded", Handler{}, merge(signed("issues", "d13", []byte(form)), "Content-Type", "application/x-www-form-urlencoded"), []byte(form), http.StatusAccepted, true},
		{"form without payload", Handler{}, merge(signed("issues", "d14", []byte("a=1")), "Content-Type", "application/x-www-form-urlencoded"), []byte("a=1"), http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			h := tt.handler
			if h.Secret == nil {
				h.Secret = secret
			}
			h.Publish = rec.publish
			srv := newServer(t, &h)
			status, msg := post(t, srv, tt.headers, tt.body)
			if status != tt.status {
				t.Fatalf("status = %d (%s), want %d", status, msg, tt.status)
			}
			if got := rec.count() == 1; got != tt.publish {
				t.Fatalf("published %d records, want publish %v", rec.count(), tt.publish)
			}
			if tt.publish && !json.Valid(rec.recs[0].Payload) {
				t.Fatal("published payload is not JSON")
			}
			if tt.name == "form encoded" && !bytes.Equal(rec.recs[0].Payload, body) {
				t.Fatalf("form payload = %s, want %s", rec.recs[0].Payload, body)
			}
			if tt.name == "no secret" && !strings.Contains(msg, "set the secret") {
				t.Fatalf("message %q does not say to set the secret", msg)
			}
		})
	}
}

func TestMethodAndPublishFailure(t *testing.T) {
	rec := recorder{err: errors.New("bus down")}
	srv := newServer(t, &Handler{Secret: secret, Publish: rec.publish})
	resp, err := srv.Client().Get(srv.URL + Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET status = %d", resp.StatusCode)
	}
	body := []byte(`{}`)
	if status, _ := post(t, srv, signed("push", "d1", body), body); status != http.StatusServiceUnavailable {
		t.Fatalf("status with the bus down = %d, want 503", status)
	}
}

func merge(h map[string]string, k, v string) map[string]string {
	h[k] = v
	return h
}

// FuzzHandler posts arbitrary bodies and signature headers: nothing is ever published unless
// the signature is the body's, and nothing panics.
func FuzzHandler(f *testing.F) {
	f.Add([]byte(`{"zen":"Keep it logically awesome."}`), "", "application/json")
	f.Add([]byte(`{"a":1}`), "sha256=00", "application/json")
	f.Add([]byte(`payload=%7B%7D`), "", "application/x-www-form-urlencoded")
	f.Add([]byte(`not json`), "", "")
	f.Add([]byte(`{}`), "sha256=", "text/plain; charset=")
	f.Fuzz(func(t *testing.T, body []byte, sig, contentType string) {
		var rec recorder
		h := &Handler{Secret: secret, MaxBytes: 4096, Publish: rec.publish, Log: slog.New(slog.DiscardHandler)}
		valid := sig == ""
		if valid {
			sig = Sign(secret, body)
		}
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", sig)
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", "d")
		req.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if rec.count() > 0 && (w.Code != http.StatusAccepted || sig != Sign(secret, body)) {
			t.Fatalf("published with status %d and signature %q", w.Code, sig)
		}
		if w.Code == http.StatusAccepted && (rec.count() != 1 || !json.Valid(rec.recs[0].Payload)) {
			t.Fatalf("202 without a JSON record published")
		}
		if !valid && sig != Sign(secret, body) && w.Code != http.StatusUnauthorized && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("bad signature answered %d", w.Code)
		}
	})
}
