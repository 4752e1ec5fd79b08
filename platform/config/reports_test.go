package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/config"
)

// Each testdata/*.bad.yaml holds a configuration with one bad report and, on its first line,
// the error the start must stop with: the report's name, the key and the reason.
func TestBadReportDefinitionsStopTheStart(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("testdata/*.bad.yaml: %d files, %v", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(body), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("the first line must be # want: <error>")
			}
			_, err = config.Load(write(t, string(body)))
			if err == nil {
				t.Fatalf("loaded; want an error containing %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q\nwant it to contain %q", err, want)
			}
		})
	}
}

const goodReports = `
reports:
  - name: monthly
    title: Monthly give-back report
    owner: ospo@example.com
    schedule: "CRON_TZ=Europe/Berlin 0 8 1 * *"
    period: previous_month
    filter: {team: platform, upstream: "1", dependencies_only: true}
    sections: [headline, trends, risks, narrative]
    targets: {give_back_coverage: 0.4, upstream_prs_merged: 300}
    grace: 2h
    deliveries:
      - smtp: {host: mail.example.com, port: 587, user: mailer, password_env: GIVEBACK_TEST_SMTP_PASSWORD, from: ospo@example.com, to: [cto@example.com], cc: [vp@example.com]}
      - slack: {url_env: GIVEBACK_TEST_SLACK_URL}
      - teams: {url_file: teams.url}
      - directory: {path: reports}
      - name: archive-copy
        directory: {path: /srv/reports}
      - webhook: {url: "https://hooks.example.com/reports", secret_env: GIVEBACK_TEST_HOOK_SECRET}
  - name: weekly
    title: Weekly
    schedule: "@weekly"
    time_zone: America/New_York
    period: trailing_7d
    deliveries:
      - directory: {path: reports}
`

func TestGoodReportDefinitionsLoad(t *testing.T) {
	t.Setenv("GIVEBACK_TEST_SMTP_PASSWORD", "9f3a7c1e5b2d")
	t.Setenv("GIVEBACK_TEST_SLACK_URL", "https://hooks.slack.com/services/T0/B0/x9")
	t.Setenv("GIVEBACK_TEST_HOOK_SECRET", "4be1f0c2a9d3")
	p := write(t, goodReports)
	if err := os.WriteFile(filepath.Join(filepath.Dir(p), "teams.url"), []byte("https://example.webhook.office.com/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Reports) != 2 {
		t.Fatalf("%d reports, want 2", len(cfg.Reports))
	}
	m := cfg.Reports[0]
	var ids []string
	for _, d := range m.Deliveries {
		ids = append(ids, d.ID())
	}
	if got := strings.Join(ids, " "); got != "smtp slack teams directory archive-copy webhook" {
		t.Errorf("delivery ids %q", got)
	}
	if m.Grace.D() != 2*time.Hour || m.Targets["upstream_prs_merged"] != 300 || !m.Filter.DependenciesOnly || m.Deliveries[0].SMTP.Cc[0] != "vp@example.com" {
		t.Errorf("read as %+v", m)
	}
	s, loc, err := config.ParseReportSchedule(m.Schedule, m.TimeZone)
	if err != nil || loc.String() != "Europe/Berlin" {
		t.Fatalf("schedule: %v %v", loc, err)
	}
	// 08:00 in Berlin on the first of the month is 07:00 UTC in winter.
	if got := s.Next(time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("next run %v", got)
	}
	s, loc, err = config.ParseReportSchedule(cfg.Reports[1].Schedule, cfg.Reports[1].TimeZone)
	if err != nil || loc.String() != "America/New_York" {
		t.Fatalf("weekly schedule: %v %v", loc, err)
	}
	// @weekly is Sunday midnight in the report's zone.
	if got := s.Next(time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)).In(loc); got.Weekday() != time.Sunday || got.Hour() != 0 {
		t.Errorf("@weekly in New York fires %v", got)
	}
}

// Whatever the YAML, ParseReports returns reports whose schedule and period are valid, or an
// error that names a report (or the YAML line) — never a panic.
func FuzzParseReports(f *testing.F) {
	f.Add([]byte(goodReports))
	for _, g := range []string{"testdata/bad_schedule.bad.yaml", "testdata/unknown_key.bad.yaml", "testdata/two_kinds.bad.yaml"} {
		if b, err := os.ReadFile(g); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("reports:\n  - name: a\n    title: A\n    schedule: '@daily'\n    period: trailing_1d\n    deliveries: [{directory: {path: x}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := config.ParseReports(data, "")
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, "report") && !strings.Contains(msg, "line ") && !strings.Contains(msg, "yaml") {
				t.Fatalf("error names neither a report nor a line: %v", err)
			}
			return
		}
		for _, r := range rs {
			s, loc, err := config.ParseReportSchedule(r.Schedule, r.TimeZone)
			if err != nil || loc == nil {
				t.Fatalf("accepted report %q with schedule %q: %v", r.Name, r.Schedule, err)
			}
			if s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
				t.Fatalf("accepted report %q whose schedule %q never fires", r.Name, r.Schedule)
			}
			if _, ok := config.TrailingDays(r.Period); !ok && !strings.HasPrefix(r.Period, "previous_") {
				t.Fatalf("accepted period %q", r.Period)
			}
			if len(r.Deliveries) == 0 {
				t.Fatalf("accepted report %q without deliveries", r.Name)
			}
		}
	})
}
