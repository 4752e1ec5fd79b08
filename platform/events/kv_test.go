package events_test

import (
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
)

// The keys are what the earlier versions wrote, so that an instance upgraded in place finds
// its data under the same names.
func TestKeys(t *testing.T) {
	h := time.Date(2025, 1, 1, 5, 0, 0, 0, time.FixedZone("CET", 3600))
	for got, want := range map[string]string{
		events.KeyRESTCursor("reviewed", "OctoCat"): "rest.reviewed.octocat",
		events.KeyStatusREST("OctoCat"):             "status.rest.octocat",
		events.KeyHourDone(h):                       "gharchive.hour.2025-01-01-4",
		events.KeyETag("https://api.github.com/x"):  "rest.etag.6108e83c4367f3edb22b2500fa8661bea9630e39",
		events.KeyHydrateOpen("A/B", 7):             "hydrate.open.14e4e7a9c35f4e41205ea77d72212bb049211e64",
	} {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
}

func TestParseHourName(t *testing.T) {
	for in, want := range map[string]string{
		"2025-01-01-5":  "2025-01-01T05:00:00Z",
		"2025-01-01-05": "2025-01-01T05:00:00Z",
		"2024-12-31-23": "2024-12-31T23:00:00Z",
	} {
		got, err := events.ParseHourName(in)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("ParseHourName(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2025-01-01", "2025-01-01-24", "2025-01-01--1", "2025-13-01-1", "x-1", "2025-01-01-x"} {
		if _, err := events.ParseHourName(in); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD-H") {
			t.Errorf("ParseHourName(%q): %v; want an error naming the format", in, err)
		}
	}
}

// Whatever the name, ParseHourName answers an hour on the hour in UTC or an error, and an hour
// it reads comes back named as HourName names it.
func FuzzParseHourName(f *testing.F) {
	for _, s := range []string{"2025-01-01-5", "2025-01-01-05", "2024-12-31-23", "2025-01-01-24", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := events.ParseHourName(s)
		if err != nil {
			return
		}
		if h.Location() != time.UTC || !h.Equal(h.Truncate(time.Hour)) {
			t.Fatalf("%q read as %v: not an hour in UTC", s, h)
		}
		back, err := events.ParseHourName(events.HourName(h))
		if err != nil || !back.Equal(h) {
			t.Fatalf("%q read as %v; its name %q reads as %v, %v", s, h, events.HourName(h), back, err)
		}
	})
}
