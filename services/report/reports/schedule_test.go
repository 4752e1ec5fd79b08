package reports

import (
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/config"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The period boundaries are midnights in the report's zone, written out here by hand.
func TestPeriodFor(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	ny := mustZone(t, "America/New_York")
	for _, c := range []struct {
		kind     string
		due      time.Time
		loc      *time.Location
		from, to string // RFC 3339 in the zone
		label    string
	}{
		{"previous_month", time.Date(2026, 11, 1, 8, 0, 0, 0, berlin), berlin, "2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00", "2026-10"},
		{"previous_month", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC, "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z", "2025-12"},
		// 23:30 on 31 October in New York is already November in UTC: the zone decides.
		{"previous_month", time.Date(2026, 11, 1, 3, 30, 0, 0, time.UTC), ny, "2026-09-01T00:00:00-04:00", "2026-10-01T00:00:00-04:00", "2026-09"},
		{"previous_week", time.Date(2026, 11, 4, 9, 0, 0, 0, ny), ny, "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00", "2026-W44"},
		{"previous_week", time.Date(2026, 11, 2, 0, 0, 0, 0, ny), ny, "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00", "2026-W44"},
		{"previous_week", time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC), time.UTC, "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z", "2026-W53"},
		{"previous_quarter", time.Date(2026, 10, 1, 8, 0, 0, 0, berlin), berlin, "2026-07-01T00:00:00+02:00", "2026-10-01T00:00:00+02:00", "2026-Q3"},
		{"previous_quarter", time.Date(2026, 2, 15, 8, 0, 0, 0, time.UTC), time.UTC, "2025-10-01T00:00:00Z", "2026-01-01T00:00:00Z", "2025-Q4"},
		{"previous_year", time.Date(2026, 1, 1, 8, 0, 0, 0, berlin), berlin, "2025-01-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00", "2025"},
		{"trailing_7d", time.Date(2026, 11, 3, 6, 0, 0, 0, ny), ny, "2026-10-27T00:00:00-04:00", "2026-11-03T00:00:00-05:00", "2026-10-27..2026-11-02"},
		{"trailing_1d", time.Date(2026, 11, 2, 0, 0, 0, 0, ny), ny, "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", "2026-11-01..2026-11-01"},
	} {
		p, err := PeriodFor(c.kind, c.due, c.loc)
		if err != nil {
			t.Fatalf("%s at %v: %v", c.kind, c.due, err)
		}
		if got := p.From.Format(time.RFC3339); got != c.from {
			t.Errorf("%s at %v: from %s, want %s", c.kind, c.due, got, c.from)
		}
		if got := p.To.Format(time.RFC3339); got != c.to {
			t.Errorf("%s at %v: to %s, want %s", c.kind, c.due, got, c.to)
		}
		if p.Label != c.label {
			t.Errorf("%s at %v: label %s, want %s", c.kind, c.due, p.Label, c.label)
		}
		// The label reads back as the same period.
		back, err := ParsePeriod(c.kind, p.Label, c.loc)
		if err != nil || !back.From.Equal(p.From) || !back.To.Equal(p.To) {
			t.Errorf("ParsePeriod(%q) = %v..%v, %v; want %v..%v", p.Label, back.From, back.To, err, p.From, p.To)
		}
	}
	// The day of the November change in New York is 25 hours long.
	p, _ := PeriodFor("trailing_1d", time.Date(2026, 11, 2, 0, 0, 0, 0, ny), ny)
	if d := p.To.Sub(p.From); d != 25*time.Hour {
		t.Errorf("1 November 2026 in New York lasts %s, want 25h", d)
	}
	if _, err := PeriodFor("last_month", time.Now(), time.UTC); err == nil {
		t.Error("PeriodFor accepted last_month")
	}
	for _, bad := range []string{"", "2026-13", "2026-W54", "2026-Q5", "26", "2026-10-05..2026-10-01", "x..y", "2026-W00"} {
		if _, err := ParsePeriod("previous_month", bad, time.UTC); err == nil {
			t.Errorf("ParsePeriod accepted %q", bad)
		}
	}
}

func TestLastDue(t *testing.T) {
	for _, c := range []struct{ spec, now, want string }{
		{"CRON_TZ=Europe/Berlin 0 8 1 * *", "2026-11-15T12:00:00Z", "2026-11-01T07:00:00Z"},
		{"CRON_TZ=Europe/Berlin 0 8 1 * *", "2026-11-01T07:00:00Z", "2026-11-01T07:00:00Z"},
		{"CRON_TZ=Europe/Berlin 0 8 1 * *", "2026-11-01T06:59:59Z", "2026-10-01T06:00:00Z"},
		{"@yearly", "2026-06-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"*/5 * * * *", "2026-06-01T00:07:00Z", "2026-06-01T00:05:00Z"},
		{"0 0 29 2 *", "2026-06-01T00:00:00Z", "2024-02-29T00:00:00Z"},
	} {
		s, _, err := config.ParseReportSchedule(c.spec, "")
		if err != nil {
			t.Fatal(err)
		}
		now, _ := time.Parse(time.RFC3339, c.now)
		if got := LastDue(s, now).UTC().Format(time.RFC3339); got != c.want {
			t.Errorf("LastDue(%s, %s) = %s, want %s", c.spec, c.now, got, c.want)
		}
	}
}

// A daily report at 01:30 in New York, on the night the clocks go back (01:00–02:00 happens
// twice on 1 November 2026), is due once per day; the ticks of a replica every 10 minutes
// through the night find one due time for 1 November, at 01:30 EDT (05:30 UTC).
func TestScheduleAcrossTheNovemberChange(t *testing.T) {
	s, loc, err := config.ParseReportSchedule("CRON_TZ=America/New_York 30 1 * * *", "")
	if err != nil {
		t.Fatal(err)
	}
	dues := map[time.Time]bool{}
	for now := time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC); now.Before(time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)); now = now.Add(10 * time.Minute) {
		dues[LastDue(s, now)] = true
	}
	want := []time.Time{
		time.Date(2026, 10, 31, 5, 30, 0, 0, time.UTC), // 01:30 EDT
		time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),  // 01:30 EDT, the first of the two
		time.Date(2026, 11, 2, 6, 30, 0, 0, time.UTC),  // 01:30 EST
	}
	if len(dues) != len(want) {
		t.Fatalf("due times %v, want %v", dues, want)
	}
	for _, w := range want {
		if !dues[w] {
			t.Errorf("due times %v lack %v", dues, w)
		}
	}
	p, err := PeriodFor("trailing_1d", want[2], loc)
	if err != nil || p.Label != "2026-11-01..2026-11-01" || p.To.Sub(p.From) != 25*time.Hour {
		t.Errorf("period of the run after the change: %+v, %v", p, err)
	}
}

// Whatever the label (from the command line or a URL), ParsePeriod answers a period whose start
// is before its end, at midnights of the zone, or an error naming the accepted forms.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026-10", "2026-W42", "2026-Q3", "2026", "2026-10-01..2026-10-30", "2026-W53", "x..y", "", "2026-Q0"} {
		f.Add(s)
	}
	ny := mustZone(f, "America/New_York")
	f.Fuzz(func(t *testing.T, label string) {
		p, err := ParsePeriod(PeriodPreviousMonth, label, ny)
		if err != nil {
			if !strings.Contains(err.Error(), "must be a month") {
				t.Fatalf("%q: error %v names no form", label, err)
			}
			return
		}
		if !p.From.Before(p.To) {
			t.Fatalf("%q: from %v is not before to %v", label, p.From, p.To)
		}
		for _, e := range []time.Time{p.From, p.To} {
			if l := e.In(ny); l.Hour() != 0 || l.Minute() != 0 || l.Second() != 0 {
				t.Fatalf("%q: boundary %v is not a midnight in New York", label, l)
			}
		}
	})
}
