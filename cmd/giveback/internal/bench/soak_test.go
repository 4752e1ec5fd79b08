package bench

import (
	"strings"
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	for _, tc := range []struct {
		name, status string
		want         int64
		err          string
	}{
		{"kernel format", "Name:\tgiveback\nVmPeak:\t 2000 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 1 kB\n", 123456 << 10, ""},
		{"no line", "Name:\tgiveback\nVmPeak:\t 2000 kB\n", 0, "no VmRSS line"},
		{"other unit", "VmRSS:\t 12 MB\n", 0, "want a number of kB"},
		{"not a number", "VmRSS:\t x kB\n", 0, "want a number of kB"},
		{"negative", "VmRSS:\t -5 kB\n", 0, "want a number of kB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(tc.status))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseVmRSS = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestReadProcess(t *testing.T) {
	rss, err := readRSS()
	if err != nil || rss <= 0 {
		t.Fatalf("readRSS = %d, %v", rss, err)
	}
	n, err := countFiles()
	if err != nil || n < 3 { // at least stdin, stdout and stderr
		t.Fatalf("countFiles = %d, %v", n, err)
	}
}

// series returns n values taken every 10 s, the value at i being f(i).
func series(n int, f func(i int) float64) ([]time.Duration, []float64) {
	at, v := make([]time.Duration, n), make([]float64, n)
	for i := range n {
		at[i], v[i] = time.Duration(i)*10*time.Second, f(i)
	}
	return at, v
}

func TestTrend(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     func(i int) float64
		flat  bool
		slope float64 // per minute, over the last two thirds
	}{
		// A warm-up in the first third does not count.
		{"warm-up then flat", func(i int) float64 { return min(float64(i)*100, 600) }, true, 0},
		{"noise", func(i int) float64 { return 600 + float64(i%3)*10 }, true, 0},
		{"steady growth", func(i int) float64 { return 600 + float64(i)*10 }, false, 60},
		{"within the slack", func(i int) float64 { return 100 + float64(i) }, true, 6},
		{"shrinking", func(i int) float64 { return 1000 - float64(i)*10 }, true, -60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, v := series(60, tc.f)
			tr := trendOf(at, v, flatRatio, 32)
			if tr.Flat != tc.flat {
				t.Errorf("flat = %v, want %v (%+v)", tr.Flat, tc.flat, tr)
			}
			if d := tr.PerMinute - tc.slope; d > 3 || d < -3 {
				t.Errorf("slope = %.1f/min, want about %.1f", tr.PerMinute, tc.slope)
			}
		})
	}
	if tr := trendOf([]time.Duration{0, time.Second}, []float64{1, 1}, flatRatio, 0); tr.Flat {
		t.Error("two samples were called flat")
	}
}

func TestSoakCountsProblems(t *testing.T) {
	clean := soakCounts{BackfillEvents: 1000, WebhooksAccepted: 50, StreamGHArchive: 1000, StreamWebhook: 50,
		WantRaw: 900, RawRows: 900, RawKeys: 900, RawPartKeys: 900, RawFinal: 900,
		WantContributions: 1200, ContribIDs: 1200, ContribPartIDs: 1200, ContribFinal: 1200}
	if p := clean.problems(); len(p) != 0 {
		t.Fatalf("a clean run has problems: %q", p)
	}
	for _, tc := range []struct {
		name  string
		spoil func(c *soakCounts)
		want  string
	}{
		{"publish lost", func(c *soakCounts) { c.StreamGHArchive-- }, "the backfill published 1000"},
		{"webhook lost", func(c *soakCounts) { c.StreamWebhook-- }, "the receiver accepted 50"},
		{"backlog left", func(c *soakCounts) { c.AckPending = 3 }, "3 unacknowledged"},
		{"dead letter", func(c *soakCounts) { c.DeadLetters = 1 }, "dead-letter"},
		{"raw lost", func(c *soakCounts) { c.RawKeys, c.RawPartKeys, c.RawFinal = 899, 899, 899 }, "enrich keeps 900"},
		{"raw stored twice", func(c *soakCounts) { c.RawRows = 902 }, "2 raw records were stored twice"},
		{"raw in two partitions", func(c *soakCounts) { c.RawPartKeys = 901 }, "1 raw records are in more than one partition"},
		{"contribution lost", func(c *soakCounts) { c.ContribIDs, c.ContribPartIDs, c.ContribFinal = 1199, 1199, 1199 }, "enrich makes 1200"},
		{"contribution in two partitions", func(c *soakCounts) { c.ContribPartIDs = 1202 }, "2 contribution ids are in more than one partition"},
		{"contribution doubled by FINAL", func(c *soakCounts) { c.ContribFinal = 1201 }, "FINAL holds 1201"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := clean
			tc.spoil(&c)
			p := strings.Join(c.problems(), "; ")
			if !strings.Contains(p, tc.want) {
				t.Fatalf("problems %q, want one containing %q", p, tc.want)
			}
		})
	}
}

func TestLatencies(t *testing.T) {
	var l latencies
	for i := 1; i <= 100; i++ {
		l.add(time.Duration(i) * time.Millisecond)
	}
	l.fail()
	w := l.take()
	if w.N != 100 || w.Errors != 1 || w.P50 != 50*time.Millisecond || w.P99 != 99*time.Millisecond {
		t.Fatalf("window = %+v", w)
	}
	l.add(time.Second)
	if w := l.take(); w.N != 1 || w.Errors != 0 || w.P99 != time.Second {
		t.Fatalf("second window = %+v", w)
	}
	if w := l.total(); w.N != 101 || w.Errors != 1 || w.P99 != 100*time.Millisecond {
		t.Fatalf("total = %+v", w)
	}
}

func FuzzParseVmRSS(f *testing.F) {
	f.Add([]byte("VmRSS:\t  123456 kB\n"))
	f.Add([]byte("Name:\tx\nVmRSS: 1 kB"))
	f.Add([]byte("VmRSS:"))
	f.Fuzz(func(t *testing.T, status []byte) {
		n, err := parseVmRSS(status)
		if err == nil && n < 0 {
			t.Fatalf("negative RSS %d without an error", n)
		}
		if err != nil && n != 0 {
			t.Fatalf("RSS %d with an error %v", n, err)
		}
	})
}
