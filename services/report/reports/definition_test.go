package reports

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/config"
)

// The configuration's reports become definitions with their secrets read, their time zone in the
// schedule, relative paths resolved and defaults applied.
func TestDefinitionsFromConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GIVEBACK_TEST_SLACK", "https://hooks.slack.com/services/T1/B2/c3d4")
	if err := os.WriteFile(filepath.Join(dir, "hook.key"), []byte("6f1d2c9e8b7a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `
reports:
  - name: weekly
    title: Weekly
    schedule: "0 9 * * 1"
    time_zone: America/New_York
    period: previous_week
    people: true
    labor: {currency: EUR, per_contributor_month: 8000}
    deliveries:
      - slack: {url_env: GIVEBACK_TEST_SLACK}
      - webhook: {url: "https://hooks.example.com/x", secret_file: hook.key}
      - directory: {path: out}
      - smtp: {host: mail.example.com, port: 465, tls: implicit, from: a@example.com, to: [b@example.com]}
`
	p := filepath.Join(dir, "giveback.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := Definitions(cfg)
	if err != nil || len(defs) != 1 {
		t.Fatalf("%v, %v", defs, err)
	}
	d := defs[0]
	if d.Schedule != "CRON_TZ=America/New_York 0 9 * * 1" || d.Location().String() != "America/New_York" || d.Grace != config.DefaultReportGrace || !d.People {
		t.Errorf("definition %+v", d)
	}
	if d.LaborCost == nil || d.LaborCost.PerContributorMonth != 8000 || d.LaborCost.Currency != "EUR" {
		t.Errorf("labor %+v", d.LaborCost)
	}
	got := map[string]Delivery{}
	for _, del := range d.Deliveries {
		got[del.Name] = del
	}
	if got["slack"].URL != "https://hooks.slack.com/services/T1/B2/c3d4" || got["webhook"].Secret != "6f1d2c9e8b7a" ||
		got["directory"].Path != filepath.Join(dir, "out") || got["smtp"].TLS != "implicit" || got["smtp"].Port != 465 {
		t.Errorf("deliveries %+v", got)
	}
	// 09:00 on Monday in New York.
	runs, err := d.NextRuns(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 2)
	if err != nil || runs[0].Format(time.RFC3339) != "2026-11-02T09:00:00-05:00" || runs[1].Format(time.RFC3339) != "2026-11-09T09:00:00-05:00" {
		t.Errorf("next runs %v, %v", runs, err)
	}

	// privacy.aggregate_only names no one in reports either.
	cfg.Privacy.AggregateOnly = true
	if defs, err = Definitions(cfg); err != nil || defs[0].People {
		t.Errorf("aggregate_only: people %v, %v", defs[0].People, err)
	}
	// A secret gone since the configuration was loaded is named.
	os.Unsetenv("GIVEBACK_TEST_SLACK")
	if _, err := Definitions(cfg); err == nil || !strings.Contains(err.Error(), `report "weekly": deliveries[0].slack.url_env`) {
		t.Errorf("missing secret: %v", err)
	}
}

// Every section constant is in the catalogue the configuration checks definitions against.
func TestSectionConstantsAreTheCatalogue(t *testing.T) {
	consts := []string{SectionNarrative, SectionHeadline, SectionTrends, SectionHighlights, SectionCycle,
		SectionRisks, SectionTeams, SectionLabor, SectionRecommendations}
	if len(consts) != len(Sections) {
		t.Fatalf("%d section constants, %d in the catalogue %v", len(consts), len(Sections), Sections)
	}
	for _, c := range consts {
		if !slices.Contains(Sections, c) {
			t.Errorf("section %q is not in the catalogue %v", c, Sections)
		}
	}
}
