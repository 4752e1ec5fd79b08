package auth_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/config"
	"giveback.dev/platform/testkit"
)

// headless loads url in a headless Chromium, lets its scripts run, and returns the DOM.
func headless(t *testing.T, bin, url string, extra ...string) string {
	t.Helper()
	return string(testkit.Headless(t, bin, url, append([]string{"--virtual-time-budget=3000", "--dump-dom"}, extra...)...))
}

// attack is a page that tries to run a query on target: a simple fetch (text/plain, no
// preflight), a fetch of SQL (which needs a preflight), and a form posted into a frame.
const attack = `<!doctype html><html><body><p id="out">started</p>
<iframe name="sink"></iframe>
<form id="f" method="post" action="TARGET/api/v1/query" target="sink" enctype="text/plain">
<input name="q" value="SELECT 1"></form>
<script>
const out = document.getElementById("out");
const note = s => { out.textContent += " | " + s; };
fetch("TARGET/api/v1/query", {method: "POST", mode: "no-cors", body: "SELECT 1"})
  .then(() => note("simple fetch sent"), e => note("simple fetch failed"));
fetch("TARGET/api/v1/query", {method: "POST", headers: {"Content-Type": "application/sql"}, body: "SELECT 1"})
  .then(r => r.text()).then(t => note("sql fetch read " + t), e => note("sql fetch failed"));
fetch("TARGET/api/v1/query?q=SELECT+1", {mode: "no-cors", credentials: "include"})
  .then(() => note("get sent"), e => note("get failed"));
document.getElementById("f").submit();
</script></body></html>`

// own is the same page's query as the dashboard's own origin would send it.
const own = `<!doctype html><html><body><p id="out">started</p><script>
fetch("/api/v1/query", {method: "POST", headers: {"Content-Type": "application/sql"}, body: "SELECT 1"})
  .then(r => r.text()).then(t => { document.getElementById("out").textContent = "own: " + t; });
</script></body></html>`

// A real browser on a page of another origin cannot make a loopback instance in mode none (the
// laptop demo, where the caller is an admin) run a query, by fetch or by form; a page of the
// instance's own origin can; and a DNS name rebound to the loopback address reaches nothing.
func TestCrossSiteInBrowser(t *testing.T) {
	bin := testkit.Chromium(t)
	var queries atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/query", func(w http.ResponseWriter, _ *http.Request) {
		queries.Add(1)
		io.WriteString(w, "ran")
	})
	mux.HandleFunc("GET /api/v1/query", func(w http.ResponseWriter, _ *http.Request) {
		queries.Add(1)
		io.WriteString(w, "ran")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		// The guard's policy forbids scripts; this test page needs one to play the
		// instance's own client.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'")
		io.WriteString(w, own)
	})
	ts := httptest.NewUnstartedServer(nil)
	g, err := auth.New(context.Background(), auth.Options{Auth: config.Default().Auth, Addr: ts.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = g.Wrap(mux)
	ts.Start()
	defer ts.Close()
	target := ts.URL // http://127.0.0.1:port
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())

	// The attack runs from another site (localhost) and, in a frame, from the same site
	// (127.0.0.1) on another port; one browser start runs both.
	var framed atomic.Bool
	evil := httptest.NewUnstartedServer(nil)
	_, evilPort, _ := net.SplitHostPort(evil.Listener.Addr().String())
	evil.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		page := strings.ReplaceAll(attack, "TARGET", target)
		if r.URL.Path == "/frame" {
			framed.Store(true)
		} else {
			page = strings.Replace(page, "<body>", `<body><iframe src="http://127.0.0.1:`+evilPort+`/frame"></iframe>`, 1)
		}
		io.WriteString(w, page)
	})
	evil.Start()
	defer evil.Close()
	dom := headless(t, bin, "http://localhost:"+evilPort+"/")
	if !strings.Contains(dom, "started") || !strings.Contains(dom, "sql fetch failed") || !framed.Load() {
		t.Errorf("the attack page did not run as expected:\n%s", dom)
	}
	if strings.Contains(dom, "read ran") {
		t.Errorf("the attack page read a query's answer:\n%s", dom)
	}
	if n := queries.Load(); n != 0 {
		t.Fatalf("pages of other origins ran %d queries", n)
	}

	dom = headless(t, bin, target+"/")
	if !strings.Contains(dom, "own: ran") {
		t.Fatalf("the instance's own page could not run a query:\n%s", dom)
	}
	if n := queries.Load(); n != 1 {
		t.Fatalf("the own page ran %d queries, want 1", n)
	}

	// A name that resolves to 127.0.0.1 (DNS rebinding) makes the page same-origin with the
	// instance, but the Host header gives it away.
	dom = headless(t, bin, "http://rebound.test:"+port+"/", "--host-resolver-rules=MAP rebound.test 127.0.0.1")
	if !strings.Contains(dom, "answers only to localhost") || strings.Contains(dom, "own: ") {
		t.Fatalf("a rebound name reached the instance:\n%s", dom)
	}
	if n := queries.Load(); n != 1 {
		t.Fatalf("a rebound name ran %d queries", n-1)
	}
}
