package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/config"
	"giveback.dev/platform/ops"
)

// /readyz names a failing check's error to an admin only: anyone else learns that it fails.
func TestReadyzDetailsForAdminsOnly(t *testing.T) {
	mux := http.NewServeMux()
	ops.Handle(mux, ops.NewRegistry(),
		ops.Check{Name: "nats", Fn: func(context.Context) error { return nil }},
		ops.Check{Name: "clickhouse", Fn: func(context.Context) error { return errors.New("dial tcp 10.1.2.3:9000: connection refused") }},
	)
	a := config.Default().Auth
	a.Mode = "proxy"
	a.Proxy.TrustedCIDRs = []string{"127.0.0.1"}
	a.Proxy.Roles = map[string]string{"ops": "admin", "staff": "viewer"}
	ts := httptest.NewUnstartedServer(nil)
	g, err := auth.New(context.Background(), auth.Options{Auth: a, Addr: ts.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = g.Wrap(mux)
	ts.Start()
	defer ts.Close()
	for group, want := range map[string]string{"": "failing", "staff": "failing", "ops": "dial tcp 10.1.2.3:9000: connection refused"} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/readyz", nil)
		if group != "" {
			req.Header.Set("X-Forwarded-User", "u")
			req.Header.Set("X-Forwarded-Groups", group)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var status map[string]string
		err = json.NewDecoder(resp.Body).Decode(&status)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || status["clickhouse"] != want || status["nats"] != "ok" {
			t.Errorf("group %q: %d %v %v, want clickhouse %q", group, resp.StatusCode, status, err, want)
		}
	}
}

func TestRoutesAreInTheTable(t *testing.T) {
	if m := auth.Missing(ops.Routes); len(m) > 0 {
		t.Fatalf("routes missing from auth.Table: %v", m)
	}
	if !slices.Contains(ops.Routes, "GET /readyz") {
		t.Fatal("no /readyz")
	}
}

// The server's limits follow the longest query.
func TestLimitsFor(t *testing.T) {
	l := ops.LimitsFor(30 * time.Second)
	if l.WriteTimeout <= 30*time.Second || l.ReadTimeout <= 0 || l.IdleTimeout <= 0 || l.MaxHeaderBytes <= 0 {
		t.Fatalf("limits %+v", l)
	}
}
