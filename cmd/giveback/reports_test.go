package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"giveback.dev/services/report/reports"
)

const reportsConfig = `
company: {name: Acme}
reports:
  - name: monthly
    title: Monthly give-back report
    schedule: "CRON_TZ=America/New_York 0 8 1 * *"
    period: previous_month
    deliveries:
      - directory: {path: out}
`

// `giveback reports check` validates the definitions and prints each report's next five runs in
// its own time zone, with the period each covers; a bad definition is refused with the report's
// name, the key and the reason.
func TestReportsCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "giveback.yaml")
	if err := os.WriteFile(cfg, []byte(reportsConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"reports", "check", "--config", cfg}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[0], "monthly (Monthly give-back report)") || lines[7] != "1 report(s) OK" ||
		!strings.HasPrefix(lines[6], "links lead to http://127.0.0.1:8080,") || !strings.Contains(lines[6], "set http.public_url") {
		t.Fatalf("output:\n%s", out.String())
	}
	// Each run is 08:00 on the first of a month in New York (EST in winter, EDT in summer).
	for _, l := range lines[1:6] {
		f := strings.Fields(l)
		if len(f) < 6 || f[1] != "08:00" || !strings.HasSuffix(f[0], "-01") || (f[2] != "EST" && f[2] != "EDT") || f[4] != "covers" {
			t.Errorf("run line %q", l)
		}
	}

	// With http.public_url the links lead there.
	if err := os.WriteFile(cfg, []byte(reportsConfig+"http:\n  public_url: https://ospo.example.com/giveback/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"reports", "check", "--config", cfg}, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "links lead to https://ospo.example.com/giveback\n") {
		t.Fatalf("with http.public_url: %v\n%s", err, out.String())
	}

	bad := strings.Replace(reportsConfig, "previous_month", "last_month", 1)
	if err := os.WriteFile(cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"reports", "check", "--config", cfg}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `report "monthly": period: "last_month"`) {
		t.Fatalf("bad period: %v", err)
	}
}

// `giveback reports run NAME --period P --to DIR` renders the report from the store into the
// directory and delivers nothing.
func TestReportsRunTo(t *testing.T) {
	requireChDB(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "giveback.yaml")
	body := reportsConfig + "clickhouse: {dsn: \"chdb://" + filepath.Join(dir, "ch") + "\"}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(dir, "rendered")
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run(ctx, []string{"reports", "run", "monthly", "--period", "2026-10", "--to", to, "--config", cfg}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "monthly 2026-10 written to") {
		t.Errorf("output %q", out.String())
	}
	files, err := reports.DirectoryFiles(&reports.Report{Numbers: &reports.Numbers{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["numbers.json"]; !ok {
		t.Fatal("numbers.json is not among the directory files")
	}
	b, err := os.ReadFile(filepath.Join(to, "numbers.json"))
	if err != nil || !bytes.Contains(b, []byte(`"report": "monthly"`)) {
		t.Fatalf("numbers.json: %s, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("--to delivered to the directory delivery too: %v", err)
	}
}
