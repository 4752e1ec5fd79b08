// Package ops holds what every Giveback service exposes to whoever runs it: structured logs,
// /healthz, /readyz, Prometheus /metrics, and an HTTP server that shuts down gracefully.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"giveback.dev/platform/auth"
)

// Logger returns a JSON or text slog logger at the given level ("debug", "info", "warn", "error").
func Logger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("ops: log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("ops: log format %q: want text or json", format)
}

// NewRegistry returns a Prometheus registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Routes are the patterns Handle mounts, each in the authorisation table (auth.Table).
var Routes = []string{"GET /healthz", "GET /readyz", "GET /metrics"}

// Check is one readiness check; a nil error means ready.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Handle mounts /healthz (the process answers), /readyz (every check passes within 2s) and
// /metrics on mux. /readyz names each check's error only to an admin (auth.IsAdmin); anyone
// else sees "ok" or "failing" per check, for an error can carry addresses and file names.
func Handle(mux *http.ServeMux, reg *prometheus.Registry, checks ...Check) {
	mux.HandleFunc(Routes[0], func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc(Routes[1], func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status := map[string]string{}
		code := http.StatusOK
		details := auth.IsAdmin(r)
		for _, c := range checks {
			if err := c.Fn(ctx); err != nil {
				status[c.Name] = "failing"
				if details {
					status[c.Name] = err.Error()
				}
				code = http.StatusServiceUnavailable
			} else {
				status[c.Name] = "ok"
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		if err := json.NewEncoder(w).Encode(status); err != nil {
			return
		}
	})
	mux.Handle(Routes[2], promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
}

// Limits bound what one connection may take of a server.
type Limits struct {
	// ReadTimeout bounds reading a whole request, body included (a webhook delivery of
	// http.webhook_max_bytes over a slow link).
	ReadTimeout time.Duration
	// WriteTimeout bounds a response from the end of the request's headers: it must outlast
	// the longest ad hoc query (query.max_time) and the time to stream its result.
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxHeaderBytes int
}

// LimitsFor returns the limits of a server whose longest request runs for at most longest
// (query.max_time for a server of ad hoc queries): that plus a minute to write the answer.
func LimitsFor(longest time.Duration) Limits {
	return Limits{ReadTimeout: time.Minute, WriteTimeout: longest + time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

// Serve listens on addr and serves h until ctx ends, then shuts down within 10s, with the limits
// of LimitsFor(30s). ready, when not nil, receives the bound address once listening.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, ready func(net.Addr)) error {
	return ServeWith(ctx, addr, h, LimitsFor(30*time.Second), log, ready)
}

// ServeWith is Serve with the given limits.
func ServeWith(ctx context.Context, addr string, h http.Handler, lim Limits, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ops: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: lim.ReadTimeout,
		WriteTimeout: lim.WriteTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: lim.MaxHeaderBytes}
	if ready != nil {
		ready(ln.Addr())
	}
	log.Info("http listening", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("ops: serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ops: shutdown: %w", err)
	}
	return nil
}

// HealthCheck fetches url and returns nil on a 2xx answer: the container health check of images
// that carry no curl.
func HealthCheck(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("healthcheck: %s answered %s", url, strings.TrimSpace(resp.Status))
	}
	return nil
}
