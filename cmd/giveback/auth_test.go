package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/config"
	"giveback.dev/platform/ops"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/ingest/webhook"
	"giveback.dev/services/report"
)

// Every route that `giveback up` mounts is in the authorisation table: a route added to the
// report service, ops or the webhook receiver without a rule is refused to everyone, and fails
// here.
func TestUpRoutesAreInTheTable(t *testing.T) {
	rep, err := report.New(report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	routes := append(rep.Routes(), ops.Routes...)
	routes = append(routes, webhook.Path)
	var mounted []string
	for _, r := range routes {
		// The report service's catch-all answers unknown API paths with a JSON 404; the
		// guard refuses them before it.
		if r != "/api/" {
			mounted = append(mounted, r)
		}
	}
	if m := auth.Missing(mounted); len(m) > 0 {
		t.Fatalf("routes served by giveback up but missing from auth.Table: %v", m)
	}
}

// TestUpAuthorisation walks every route of the table on a running `giveback up` (embedded NATS
// and chDB, the real report, ingest and ops handlers) for an anonymous caller and each role,
// authenticated by a trusted proxy's headers: each route answers its handler's success to the
// roles the table allows, 401 to the anonymous and 403 to the others.
func TestUpAuthorisation(t *testing.T) {
	requireChDB(t)
	const secret = "walk-webhook-secret"
	t.Setenv("GIVEBACK_WEBHOOK_SECRET", secret)
	cfg := config.Default()
	cfg.HTTP.Addr, cfg.NATS.ListenAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Auth.Mode = "proxy"
	cfg.Auth.Proxy.TrustedCIDRs = []string{"127.0.0.1"}
	cfg.Auth.Proxy.Roles = map[string]string{"v": "viewer", "an": "analyst", "ad": "admin"}
	cfg.Privacy.People = true
	// A scheduled report, for the walk of /reports/{name}/{period} and of a run now.
	cfg.Reports = []config.Report{{Name: "walk", Title: "Walk", Schedule: "@monthly", Period: "previous_month",
		Deliveries: []config.ReportDelivery{{Directory: &config.DirectoryDelivery{Path: t.TempDir()}}}}}
	_, s := upStack(t, cfg, t.TempDir())
	base := "http://" + s.httpAddr.String()
	policy := auth.Policy{People: true}
	groups := map[auth.Role]string{auth.Viewer: "v", auth.Analyst: "an", auth.Admin: "ad"}
	n := 0
	for _, rule := range auth.Table {
		if strings.Contains(rule.Pattern, " /auth/") {
			continue // no login in mode proxy
		}
		for _, role := range []auth.Role{auth.Anonymous, auth.Viewer, auth.Analyst, auth.Admin} {
			n++
			req := upRequest(t, base, rule, secret, n)
			if role > auth.Anonymous {
				req.Header.Set("X-Forwarded-User", "walker")
				req.Header.Set("X-Forwarded-Groups", groups[role])
			}
			want := http.StatusOK
			switch min := policy.Min(rule); {
			case role < min && role == auth.Anonymous:
				want = http.StatusUnauthorized
			case role < min:
				want = http.StatusForbidden
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s as %s: %d %.200s, want %d", rule.Pattern, role, resp.StatusCode, body, want)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s as %s: no security headers", rule.Pattern, role)
			}
		}
	}
}

// upRequest builds a request that succeeds on rule's route for a caller allowed to use it.
func upRequest(t *testing.T, base string, rule auth.Rule, secret string, n int) *http.Request {
	t.Helper()
	method, path, found := strings.Cut(rule.Pattern, " ")
	if !found {
		method, path = http.MethodPost, rule.Pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	var body []byte
	switch path {
	case "/api/v1/metrics/influence":
		path += "?repo=golang/go"
	case "/api/v1/query":
		if method == http.MethodGet {
			path += "?q=SELECT+1"
		} else {
			body = []byte("SELECT 1")
		}
	case webhook.Path:
		body = fmt.Appendf(nil, `{"zen":"walk %d","hook_id":%d}`, n, n)
	case "/api/v1/saved-queries":
		if method == http.MethodPost {
			body = []byte(`{"name": "walk", "sql": "SELECT 1"}`)
		}
	case "/api/v1/saved-queries/{name}":
		path = "/api/v1/saved-queries/walk"
	case "/reports/{name}/{period}", "/api/v1/reports/{name}/{period}":
		path = strings.ReplaceAll(strings.ReplaceAll(path, "{name}", "walk"), "{period}", "2026-10")
	case "/api/v1/reports/{name}/run":
		path, body = "/api/v1/reports/walk/run", []byte(`{"period": "2026-10"}`)
	case "/reports/{name}/{period}/send":
		// The page's form; the answer is a redirect to the period's page, which the client follows.
		path, body = "/reports/walk/2026-10/send", []byte("delivery=directory")
	case "/query/saved":
		// The console's save form; the answer is a redirect to the saved query's page.
		body = []byte("name=walk-form&description=from+the+page&sql=SELECT+1")
	case "/query/saved/{name}/delete":
		path = "/query/saved/walk-form/delete"
	}
	// The live feed's stream never ends: the walk reads it for a moment.
	wait := time.Minute
	if path == "/api/v1/live" {
		wait = time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch path {
	case webhook.Path:
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "ping")
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("walk-%d-%d", n, time.Now().UnixNano()))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	case "/api/v1/query":
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/sql")
		}
	case "/api/v1/saved-queries", "/api/v1/saved-queries/walk", "/api/v1/reports/walk/run":
		if method != http.MethodGet {
			req.Header.Set("Content-Type", "application/json")
		}
	case "/reports/walk/2026-10/send", "/query/saved", "/query/saved/walk-form/delete":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// TestUpTokens: with auth.mode tokens, `giveback tokens create` against a running `giveback up`
// prints a token that the instance accepts within seconds, with the role it was given, and
// `giveback tokens revoke` ends it.
func TestUpTokens(t *testing.T) {
	requireChDB(t)
	cfg := config.Default()
	cfg.HTTP.Addr, cfg.NATS.ListenAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Auth.Mode = "tokens"
	dataDir := t.TempDir()
	ctx, s := upStack(t, cfg, dataDir)
	base := "http://" + s.httpAddr.String()
	cli := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append(args, "--nats", s.natsURL, "--data", dataDir)
		if err := run(ctx, append([]string{"tokens"}, args...), &stdout, &stderr); err != nil {
			t.Fatalf("giveback tokens %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.String()
	}
	get := func(path, tok string) int {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/api/v1/teams", ""); code != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d, want 401", code)
	}
	viewer := strings.TrimSpace(cli("create", "--role", "viewer", "--name", "wall screen"))
	if _, ok := auth.ParseToken(viewer); !ok {
		t.Fatalf("tokens create printed %q", viewer)
	}
	waitFor(t, 15*time.Second, "the new token to be accepted", func() bool { return get("/api/v1/teams", viewer) == http.StatusOK })
	if code := get("/api/v1/query?q=SELECT+1", viewer); code != http.StatusForbidden {
		t.Errorf("a viewer on the query API: %d, want 403", code)
	}
	if code := get("/readyz", viewer); code != http.StatusOK {
		t.Errorf("readyz: %d", code)
	}
	if list := cli("list"); !strings.Contains(list, "wall screen") || !strings.Contains(list, "viewer") || strings.Contains(list, viewer[20:]) {
		t.Errorf("tokens list:\n%s", list)
	}
	cli("revoke", "wall screen")
	waitFor(t, 5*time.Second, "the revoked token to be refused", func() bool { return get("/api/v1/teams", viewer) == http.StatusUnauthorized })
}

// TestDashboardUnderCSP loads the dashboard of a running `giveback up` in a headless Chromium and
// checks that it renders and that the browser blocked nothing under the Content-Security-Policy
// every answer carries (the pages use inline CSS and no script).
func TestDashboardUnderCSP(t *testing.T) {
	requireChDB(t)
	bin := testkit.Chromium(t)
	cfg := config.Default()
	cfg.HTTP.Addr, cfg.NATS.ListenAddr = "127.0.0.1:0", "127.0.0.1:0"
	ctx, s := upStack(t, cfg, t.TempDir())
	bctx, bcancel := context.WithTimeout(ctx, 90*time.Second)
	defer bcancel()
	cmd := exec.CommandContext(bctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--no-default-browser-check", "--user-data-dir="+filepath.Join(t.TempDir(), "profile"),
		"--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000", "--dump-dom",
		"http://"+s.httpAddr.String()+"/")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	if dom := stdout.String(); !strings.Contains(dom, `data-page="overview"`) || !strings.Contains(dom, "<style>") {
		t.Fatalf("the dashboard did not render:\n%.2000s", dom)
	}
	for line := range strings.Lines(stderr.String()) {
		if strings.Contains(line, "Content Security Policy") {
			t.Errorf("the browser blocked part of the dashboard: %s", line)
		}
	}
}

// upStack starts `giveback up` with cfg on dataDir, logging nowhere, and stops it (and checks that
// it stopped cleanly) when the test ends. ctx ends when the test does.
func upStack(t *testing.T, cfg config.Config, dataDir string) (context.Context, *stack) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := startStack(ctx, stackOptions{cfg: cfg, dataDir: dataDir, log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := s.wait(); err != nil {
			t.Error(err)
		}
	})
	return ctx, s
}
