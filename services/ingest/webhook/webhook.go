// Package webhook receives GitHub webhook deliveries for the repositories and organizations where
// the company can install a hook. A delivery is accepted only with a valid HMAC-SHA256 signature,
// computed while the body streams in and never past the size limit, and published unchanged as
// an events.Raw keyed by its delivery GUID. The bytes being received at once are capped, and a
// signed body that comes again under another delivery id (a replay) is dropped.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/events"
)

// Path is where GitHub posts deliveries.
const Path = "/webhooks/github"

// DefaultMaxBytes is GitHub's own cap on a delivery: 25 MB.
const DefaultMaxBytes = 25 << 20

// maxDeliveryID bounds the X-GitHub-Delivery header (a GUID is 36 characters).
const maxDeliveryID = 128

// Handler verifies and publishes GitHub webhook deliveries. It answers 202 when a delivery was
// published, 200 to a ping and to a replay (a signed body seen before under another delivery
// id, dropped), 401 when the signature is missing or wrong, 413 when the body is larger than
// MaxBytes, 400 when a header or the JSON is missing or bad, 405 to anything but POST, and 503
// with Retry-After when the secret is not set, publishing failed or too many bytes are being
// received at once (GitHub may then redeliver).
type Handler struct {
	// Secret is the webhook secret configured on GitHub. Empty, every delivery is refused.
	Secret []byte
	// MaxBytes bounds a body (default DefaultMaxBytes).
	MaxBytes int64
	// MaxInFlightBytes bounds the bytes of the bodies being received at once (default
	// DefaultMaxInFlightBytes). A delivery reserves its Content-Length (MaxBytes when it has
	// none) for as long as it is handled; one that does not fit is refused with 503.
	MaxInFlightBytes int64
	// Publish sends a record on the bus.
	Publish func(ctx context.Context, r *events.Raw) error
	// Replays, when set, is the bucket of recent body hashes (OpenReplays): a signed body
	// already delivered under another delivery id is dropped.
	Replays jetstream.KeyValue
	Log     *slog.Logger
	// Metrics, when set, counts deliveries.
	Metrics *Metrics

	now      func() time.Time // FetchedAt's clock; tests set it
	inFlight int64            // bytes reserved by deliveries being handled (atomic)
}

// DefaultMaxInFlightBytes lets four deliveries of GitHub's largest size be received at once.
const DefaultMaxInFlightBytes = 4 * DefaultMaxBytes

// reserve takes n bytes of the in-flight budget, or reports that they do not fit.
func (h *Handler) reserve(n int64) bool {
	limit := h.MaxInFlightBytes
	if limit <= 0 {
		limit = DefaultMaxInFlightBytes
	}
	for {
		cur := atomic.LoadInt64(&h.inFlight)
		if cur+n > limit && cur > 0 {
			return false
		}
		if atomic.CompareAndSwapInt64(&h.inFlight, cur, cur+n) {
			return true
		}
	}
}

// Metrics counts deliveries by outcome.
type Metrics struct {
	deliveries *prometheus.CounterVec
}

// NewMetrics registers the webhook counters on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "giveback", Subsystem: "ingest", Name: "webhook_deliveries_total",
		Help: "GitHub webhook deliveries by outcome (published, ping, replay, unauthorized, too_large, busy, bad_request, unavailable).",
	}, []string{"outcome"})}
	if err := reg.Register(m.deliveries); err != nil {
		return nil, fmt.Errorf("webhook: register metrics: %w", err)
	}
	return m, nil
}

func (m *Metrics) count(outcome string) {
	if m != nil {
		m.deliveries.WithLabelValues(outcome).Inc()
	}
}

// ServeHTTP handles one delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With(slog.String("component", "webhook"))
	fail := func(status int, outcome, msg string) {
		h.Metrics.count(outcome)
		http.Error(w, msg, status)
	}

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, "bad_request", "webhook: only POST is accepted")
		return
	}
	if len(h.Secret) == 0 {
		log.Error("webhook delivery refused: no secret configured")
		fail(http.StatusServiceUnavailable, "unavailable",
			"webhook: no secret is configured, so no delivery can be verified; set the secret GitHub signs with "+
				"(github.webhook_secret_env, GIVEBACK_WEBHOOK_SECRET by default, or github.webhook_secret_file)")
		return
	}

	limit := h.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if r.ContentLength > limit {
		fail(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("webhook: body larger than %d bytes", limit))
		return
	}
	reserved := limit
	if r.ContentLength >= 0 {
		reserved = r.ContentLength
	}
	if !h.reserve(reserved) {
		log.Warn("webhook delivery refused: too many bytes being received at once", slog.Int64("content_length", r.ContentLength))
		w.Header().Set("Retry-After", "30")
		fail(http.StatusServiceUnavailable, "busy", "webhook: too many deliveries being received at once; redeliver later")
		return
	}
	defer atomic.AddInt64(&h.inFlight, -reserved)

	v, err := ReadVerified(http.MaxBytesReader(w, r.Body, limit+1), h.Secret, r.Header.Get("X-Hub-Signature-256"), limit, r.ContentLength)
	switch {
	case errors.Is(err, ErrTooLarge):
		fail(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("webhook: body larger than %d bytes", limit))
		return
	case errors.Is(err, ErrSignature):
		log.Warn("webhook delivery with a missing or wrong signature",
			slog.String("delivery", truncate(r.Header.Get("X-GitHub-Delivery"))), slog.String("remote", r.RemoteAddr))
		fail(http.StatusUnauthorized, "unauthorized", "webhook: X-Hub-Signature-256 is missing or does not match the body")
		return
	case err != nil:
		fail(http.StatusBadRequest, "bad_request", "webhook: reading body failed")
		return
	}
	body := v.Body

	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	switch {
	case event == "":
		fail(http.StatusBadRequest, "bad_request", "webhook: X-GitHub-Event header is missing")
		return
	case delivery == "":
		fail(http.StatusBadRequest, "bad_request", "webhook: X-GitHub-Delivery header is missing")
		return
	case len(delivery) > maxDeliveryID || len(event) > maxDeliveryID:
		fail(http.StatusBadRequest, "bad_request", "webhook: X-GitHub-Delivery or X-GitHub-Event is too long")
		return
	}

	payload, err := payloadOf(r.Header.Get("Content-Type"), body)
	if err != nil {
		fail(http.StatusBadRequest, "bad_request", "webhook: "+err.Error())
		return
	}
	if event == "ping" {
		h.Metrics.count("ping")
		log.Info("webhook ping", slog.String("delivery", delivery), slog.String("hook_id", r.Header.Get("X-GitHub-Hook-ID")))
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "pong")
		return
	}

	if h.Replays != nil {
		first, err := firstDelivery(r.Context(), h.Replays, v.Hash, delivery)
		if err != nil {
			log.Error("webhook delivery not checked for a replay", slog.String("delivery", delivery), slog.Any("err", err))
			w.Header().Set("Retry-After", "30")
			fail(http.StatusServiceUnavailable, "unavailable", "webhook: the replay check failed; redeliver later")
			return
		}
		if first != delivery {
			// A signed body GitHub sent before under another id: someone replays it. It is
			// answered 200 so that whoever sends it has no reason to retry.
			h.Metrics.count("replay")
			log.Warn("webhook replay dropped: this body was delivered before under another delivery id",
				slog.String("delivery", delivery), slog.String("first_delivery", truncate(first)),
				slog.String("event", event), slog.String("remote", r.RemoteAddr))
			w.WriteHeader(http.StatusOK)
			fmt.Fprintln(w, "replay of an earlier delivery; dropped")
			return
		}
	}

	now := h.now
	if now == nil {
		now = time.Now
	}
	raw := &events.Raw{
		Schema:    events.SchemaRaw,
		Source:    events.SourceWebhook,
		Kind:      event,
		ID:        delivery,
		FetchedAt: now().UTC(),
		Origin:    "delivery " + delivery,
		Payload:   payload,
	}
	for header, key := range map[string]string{
		"X-GitHub-Hook-ID":                       "hook_id",
		"X-GitHub-Hook-Installation-Target-Type": "installation_target_type",
		"X-GitHub-Hook-Installation-Target-ID":   "installation_target_id",
	} {
		if v := r.Header.Get(header); v != "" {
			if raw.Meta == nil {
				raw.Meta = map[string]string{}
			}
			raw.Meta[key] = v
		}
	}
	if err := h.Publish(r.Context(), raw); err != nil {
		log.Error("webhook delivery not published", slog.String("delivery", delivery), slog.String("event", event), slog.Any("err", err))
		w.Header().Set("Retry-After", "30")
		fail(http.StatusServiceUnavailable, "unavailable", "webhook: publishing failed; redeliver later")
		return
	}
	h.Metrics.count("published")
	log.Debug("webhook delivery published", slog.String("delivery", delivery), slog.String("event", event))
	w.WriteHeader(http.StatusAccepted)
}

// payloadOf returns the JSON payload of a body: the body itself, or for a form-encoded delivery
// its payload field. The payload must be valid JSON.
func payloadOf(contentType string, body []byte) (json.RawMessage, error) {
	payload := body
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return nil, fmt.Errorf("content type %q: %w", contentType, err)
		}
		if mt == "application/x-www-form-urlencoded" {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, fmt.Errorf("form body: %w", err)
			}
			if !form.Has("payload") {
				return nil, errors.New("form body has no payload field")
			}
			payload = []byte(form.Get("payload"))
		}
	}
	if !json.Valid(payload) {
		return nil, errors.New("payload is not valid JSON")
	}
	return payload, nil
}

// truncate bounds an unauthenticated header before it is logged.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
