package report

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/testkit"
	"giveback.dev/services/report/reports"
)

// The report routes over a real archive (chDB) and real claims (embedded NATS): an admin runs a
// report, finds it on /reports and its period's page, downloads a format, and a second run
// without force sends nothing.
func TestReportRoutes(t *testing.T) {
	st := testkit.Store(t)
	_, _, js := testkit.NATS(t)
	kv, err := reports.OpenClaims(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	def := reports.Definition{Name: "monthly", Title: "Monthly give-back", Schedule: "CRON_TZ=Europe/Berlin 0 8 1 * *",
		Period: reports.PeriodPreviousMonth, Grace: time.Hour, Deliveries: []reports.Delivery{{Kind: "directory", Name: "directory", Path: dir}}}
	build := func(_ context.Context, d reports.Definition, p reports.Period, _ time.Time, _ reports.Options) (*reports.Report, error) {
		return &reports.Report{Name: d.Name, Period: p, Subject: d.Title + " " + p.Label, Numbers: &reports.Numbers{Report: d.Name},
			Summary: "17 pull requests merged upstream", WebHTML: []byte("<html><head></head><body><h1>17 merged</h1></body></html>"),
			Markdown: []byte("# 17 merged\n"), CSV: []byte("metric,value\nmerged,17\n"), PDF: []byte("%PDF-1.7 test"), Hash: "ab12", MetricsVersion: "v9"}, nil
	}
	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	svc, err := reports.NewService(reports.ServiceOptions{Definitions: []reports.Definition{def}, Store: st, Claims: kv, Build: build,
		Now: func() time.Time { return now }, Replica: "web"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Store: st, Reports: svc})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// Before any run: the period's page states its deliveries pending.
	if code, body := call("GET", "/reports/monthly/2026-10", ""); code != 200 || !strings.Contains(body, "Not generated yet") || !strings.Contains(body, "pending") {
		t.Fatalf("pending period page: %d %s", code, body)
	}
	code, body := call("POST", "/api/v1/reports/monthly/run", `{"period": "2026-10"}`)
	var res reports.RunResult
	if code != 200 || json.Unmarshal([]byte(body), &res) != nil || len(res.Deliveries) != 1 || res.Deliveries[0].Outcome != reports.OutcomeSent {
		t.Fatalf("run: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "monthly", "2026-10", "report.html")); err != nil {
		t.Fatal(err)
	}
	code, body = call("POST", "/api/v1/reports/monthly/run", `{"period": "2026-10"}`)
	if code != 200 || !strings.Contains(body, `"outcome":"skipped"`) {
		t.Fatalf("second run without force: %d %s", code, body)
	}
	code, body = call("GET", "/api/v1/reports/monthly/2026-10", "")
	var rp struct {
		Deliveries []reports.DeliveryState `json:"deliveries"`
		Run        *reports.Run            `json:"run"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &rp) != nil || rp.Run == nil || rp.Run.Hash != "ab12" || rp.Run.Trigger != reports.TriggerManual ||
		len(rp.Run.Attempts) != 1 || rp.Run.Attempts[0].Outcome != reports.OutcomeSent || rp.Deliveries[0].State != "done" {
		t.Fatalf("report API: %d %s", code, body)
	}
	if code, body := call("GET", "/reports/monthly/2026-10", ""); code != 200 || !strings.Contains(body, "<h1>17 merged</h1>") ||
		!strings.Contains(body, "directory (directory)") || !strings.Contains(body, "Europe/Berlin") {
		t.Fatalf("report page: %d %s", code, body)
	}
	if code, body := call("GET", "/reports/monthly/2026-10?format=pdf", ""); code != 200 || body != "%PDF-1.7 test" {
		t.Fatalf("pdf: %d %q", code, body)
	}
	code, body = call("GET", "/api/v1/reports", "")
	var l struct {
		Reports []reports.Status `json:"reports"`
		Runs    []reports.Run    `json:"runs"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &l) != nil || len(l.Reports) != 1 || l.Reports[0].Period != "2026-10" || len(l.Runs) != 1 {
		t.Fatalf("reports API: %d %s", code, body)
	}
	if code, body := call("GET", "/reports", ""); code != 200 || !strings.Contains(body, `href="./reports/monthly/2026-10"`) || !strings.Contains(body, `data-nav="reports"`) || !strings.Contains(body, "17 pull requests merged upstream") {
		t.Fatalf("reports page: %d %s", code, body)
	}
	for path, want := range map[string]int{
		"/api/v1/reports/nope/2026-10":         404,
		"/api/v1/reports/monthly/2026-13":      400,
		"/reports/monthly/2026-10?format=docx": 400,
	} {
		if code, body := call("GET", path, ""); code != want {
			t.Errorf("GET %s: %d %s, want %d", path, code, body, want)
		}
	}
	if code, body := call("POST", "/api/v1/reports/monthly/run", `{"period": "2026-10", "delivery": "fax"}`); code != 400 {
		t.Errorf("unknown delivery: %d %s", code, body)
	}
	if code, body := call("POST", "/api/v1/reports/monthly/run", `{"perod": "2026-10"}`); code != 400 || !strings.Contains(body, "perod") {
		t.Errorf("unknown member: %d %s", code, body)
	}

	// The page's "Send again": a form per delivery; posting it sends that delivery again (a
	// second attempt recorded) and shows the period's page.
	if code, body := call("GET", "/reports/monthly/2026-10", ""); code != 200 || !strings.Contains(body, `<form method="post" action="../../reports/monthly/2026-10/send">`) ||
		!strings.Contains(body, `name="delivery" value="directory"`) {
		t.Fatalf("no send form on the period's page: %d %s", code, body)
	}
	form := func(path, body string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	if err := os.RemoveAll(filepath.Join(dir, "monthly")); err != nil {
		t.Fatal(err)
	}
	// The answer leads back to the period's page, relative, so that it holds behind a path prefix.
	if code, loc, body := form("/reports/monthly/2026-10/send", "delivery=directory"); code != http.StatusSeeOther || loc != "../2026-10#attempts" {
		t.Fatalf("send again: %d %s %s", code, loc, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "monthly", "2026-10", "report.html")); err != nil {
		t.Fatalf("sent again, but the directory holds no report: %v", err)
	}
	code, body = call("GET", "/api/v1/reports/monthly/2026-10", "")
	if json.Unmarshal([]byte(body), &rp) != nil || len(rp.Run.Attempts) != 2 || rp.Run.Attempts[1].Outcome != reports.OutcomeSent {
		t.Fatalf("after send again: %d %s; want two attempts, both sent", code, body)
	}
	for body, want := range map[string]int{"": 400, "delivery=fax": 400, "delivery=directory&x=%zz": 400} {
		if code, _, out := form("/reports/monthly/2026-10/send", body); code != want {
			t.Errorf("send again with %q: %d %s, want %d", body, code, out, want)
		}
	}
	if code, _, out := form("/reports/nope/2026-10/send", "delivery=directory"); code != 404 {
		t.Errorf("send again of an unknown report: %d %s", code, out)
	}
}

// TestSourcesNameOverdueReports checks that a report whose last due period was not delivered
// by its due time and grace period is named on /api/v1/sources and the sources page.
func TestSourcesNameOverdueReports(t *testing.T) {
	st := testkit.Store(t)
	_, _, js := testkit.NATS(t)
	kv, err := reports.OpenClaims(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	sources, err := OpenSources(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	// The directory delivery writes under a path that is a file: it can never succeed.
	blocked := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	def := reports.Definition{Name: "monthly", Title: "Monthly give-back", Schedule: "CRON_TZ=Europe/Berlin 0 8 1 * *",
		Period: reports.PeriodPreviousMonth, Grace: time.Hour, Deliveries: []reports.Delivery{{Kind: "directory", Name: "directory", Path: blocked}}}
	build := func(_ context.Context, d reports.Definition, p reports.Period, _ time.Time, _ reports.Options) (*reports.Report, error) {
		return &reports.Report{Name: d.Name, Period: p, Subject: d.Title, Numbers: &reports.Numbers{Report: d.Name},
			WebHTML: []byte("<html><body>x</body></html>"), Markdown: []byte("x\n"), CSV: []byte("metric,value\n"), PDF: []byte("%PDF-1.7"), Hash: "cd34"}, nil
	}
	due := time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC) // 08:00 in Berlin
	svc, err := reports.NewService(reports.ServiceOptions{Definitions: []reports.Definition{def}, Store: st, Claims: kv, Build: build,
		Now: func() time.Time { return due.Add(3 * time.Hour) }, Replica: "web", Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Store: st, Reports: svc, Sources: sources})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	body := func(path string) string {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	overdue := func() (string, string) {
		var got Sources
		if err := json.Unmarshal([]byte(body("/api/v1/sources")), &got); err != nil {
			t.Fatal(err)
		}
		return strings.Join(got.OverdueReports, ","), body("/sources")
	}
	if names, _ := overdue(); names != "" {
		t.Fatalf("overdue before any tick: %q", names)
	}
	for _, at := range []time.Time{due, due.Add(3 * time.Hour)} {
		if err := svc.Tick(context.Background(), at); err != nil {
			t.Fatal(err)
		}
	}
	names, page := overdue()
	if names != "monthly" || !strings.Contains(page, `data-kpi="overdue_reports"`) || !strings.Contains(page, ">monthly</a>") {
		t.Fatalf("overdue reports %q; page:\n%s", names, page)
	}
}
