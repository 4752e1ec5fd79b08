package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/config"
)

func TestRetention(t *testing.T) {
	for _, c := range []struct {
		yaml           string
		events, stream time.Duration
		err            string
	}{
		{"", 0, 0, ""},
		{"retention:\n  raw_events: 400d\n  raw_stream: 30d\n", 400 * 24 * time.Hour, 30 * 24 * time.Hour, ""},
		{"retention:\n  raw_events: 0\n  raw_stream: 36h\n", 0, 36 * time.Hour, ""},
		{"retention:\n  raw_events: 400\n", 0, 0, `"400" is not an age such as 400d, 36h or 0`},
		{"retention:\n  raw_events: -3d\n", 0, 0, "not a number of days"},
		{"retention:\n  raw_stream: 10m\n", 0, 0, "retention.raw_stream: 10m0s is shorter than an hour"},
		{"retention:\n  raw_events: 30m\n", 0, 0, "retention.raw_events: 30m0s is shorter than an hour"},
		{"retention:\n  raw_payloads: 3d\n", 0, 0, "unknown key retention.raw_payloads"},
	} {
		t.Run(c.yaml, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "giveback.yaml")
			if err := os.WriteFile(p, []byte("company:\n  name: Acme\n"+c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(p)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Retention.RawEvents.D() != c.events || cfg.Retention.RawStream.D() != c.stream {
				t.Fatalf("retention %s, %s; want %s, %s", cfg.Retention.RawEvents.D(), cfg.Retention.RawStream.D(), c.events, c.stream)
			}
		})
	}
}

// FuzzParseAge: any input gives an age of zero or more, or an error; a day count prints back.
func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"0", "400d", "36h", "1h30m", "d", "-1d", "+1d", "99999d", "1e3d", " 7d ", "0d", "1.5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := config.ParseAge(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseAge(%q) = %s, negative", s, d)
		}
	})
}
