package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// soakLoops names the request loops of a soak, in the order the tables show them.
// The dashboard clients' requests are two loops: the pages (HTML, kept as rendered and served
// from older data for up to the page staleness) and the API (JSON, from the result cache only
// while the data is unchanged).
var soakLoops = []string{"pages", "api", "query", "webhook"}

// soakSample is what the soak records every interval: the process's footprint, the raw
// stream's backlog, the latencies of each request loop since the previous sample and what the
// store holds so far.
type soakSample struct {
	At         time.Duration // since the start of the load
	RSS        int64         // bytes, VmRSS of /proc/self/status
	Heap       uint64        // bytes of the Go heap live at the last collection
	GoMem      uint64        // bytes the Go runtime holds from the system, less those it released
	Goroutines int
	Files      int    // open file descriptors (/proc/self/fd)
	Pending    uint64 // raw records enrich has not been delivered yet
	AckPending int    // raw records delivered to enrich and not acknowledged
	Acked      uint64 // the raw stream's sequence up to which enrich acknowledged every record
	Published  int64  // records published so far (backfill events and accepted webhooks)
	Stored     int64  // rows of raw_events, without FINAL
	Loops      map[string]window
}

// window is one loop's requests since the previous sample.
type window struct {
	N, Errors int
	P50, P99  time.Duration
}

// latencies collects one request loop's latencies: those since the last take, and all of them.
type latencies struct {
	mu      sync.Mutex
	recent  []time.Duration
	all     []time.Duration
	errors  int
	nErrors int // errors since the last take
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.recent = append(l.recent, d)
	l.all = append(l.all, d)
	l.mu.Unlock()
}

func (l *latencies) fail() {
	l.mu.Lock()
	l.errors++
	l.nErrors++
	l.mu.Unlock()
}

// take returns the window since the last take and starts a new one.
func (l *latencies) take() window {
	l.mu.Lock()
	rec, errs := l.recent, l.nErrors
	l.recent, l.nErrors = nil, 0
	l.mu.Unlock()
	return window{N: len(rec), Errors: errs, P50: pct(rec, 50), P99: pct(rec, 99)}
}

// total returns every request of the run as one window.
func (l *latencies) total() window {
	l.mu.Lock()
	all := slices.Clone(l.all)
	errs := l.errors
	l.mu.Unlock()
	return window{N: len(all), Errors: errs, P50: pct(all, 50), P99: pct(all, 99)}
}

// readRSS returns the resident set size of the process from /proc/self/status.
func readRSS() (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	return parseVmRSS(data)
}

// parseVmRSS reads the VmRSS line of a /proc/PID/status text, in kB, and returns it in bytes.
func parseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("VmRSS line %q: want a number of kB", sc.Bytes())
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("VmRSS line %q: want a number of kB", sc.Bytes())
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no VmRSS line in the process status")
}

// countFiles returns the number of open file descriptors of the process, less the one reading
// the directory.
func countFiles() (int, error) {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return 0, err
	}
	return len(names) - 1, nil
}

// Flatness thresholds: the mean of the last third of the run may exceed that of the middle
// third by at most this ratio plus the slack, for RSS and goroutines alike. The first third is
// left out: caches, connection pools and the store's parts fill there.
const (
	flatRatio          = 1.10
	flatRSSSlack       = 32 << 20
	flatGoroutineSlack = 10
)

// trend compares the middle and the last third of a series.
type trend struct {
	Middle, Last float64 // means
	PerMinute    float64 // least-squares slope over the last two thirds, per minute
	Flat         bool
}

// trendOf returns the trend of the values v taken at the times at, flat when the last third's
// mean is at most ratio × the middle third's plus slack. Fewer than three values are not a trend:
// flat is then false.
func trendOf(at []time.Duration, v []float64, ratio, slack float64) trend {
	n := len(v)
	if n < 3 || len(at) != n {
		return trend{}
	}
	third := n / 3
	mid, last := v[third:n-third], v[n-third:]
	t := trend{Middle: mean(mid), Last: mean(last)}
	t.Flat = t.Last <= t.Middle*ratio+slack
	t.PerMinute = slope(at[third:], v[third:])
	return t
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// slope returns the least-squares slope of v over at, per minute.
func slope(at []time.Duration, v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	xs := make([]float64, len(at))
	for i, a := range at {
		xs[i] = a.Minutes()
	}
	mx, my := mean(xs), mean(v)
	var num, den float64
	for i := range v {
		num += (xs[i] - mx) * (v[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// soakCounts are the counts the end of a soak compares: what was sent, what the raw stream
// holds, what enrich makes of the stream's records (enrich.Service.Process, without storing)
// and what the store holds.
type soakCounts struct {
	BackfillEvents    int64 // GH Archive events the backfill published
	WebhooksAccepted  int64 // deliveries the receiver accepted (202)
	StreamGHArchive   int64 // records on giveback.raw.gharchive
	StreamWebhook     int64 // records on giveback.raw.webhook
	Pending           uint64
	AckPending        int
	Redelivered       int // records JetStream delivered to enrich more than once
	DeadLetters       int64
	WantRaw           int64    // raw records enrich keeps in raw_events
	RawRows           int64    // rows of raw_events, without FINAL
	RawKeys           int64    // distinct (source, id) of raw_events
	RawPartKeys       int64    // the sum over partitions of each partition's distinct (source, id)
	RawFinal          int64    // rows of raw_events FINAL
	WantContributions int64    // distinct contribution ids enrich makes of the records
	ContribIDs        int64    // distinct ids of contributions, without FINAL
	ContribPartIDs    int64    // the sum over partitions of each partition's distinct ids
	ContribFinal      int64    // rows of contributions FINAL
	Doubled           []string // up to five raw records stored twice: source, id, rows, when stored, partitions
}

// problems returns what the counts show lost or doubled; none means nothing was.
func (c soakCounts) problems() []string {
	var out []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	check(c.StreamGHArchive == c.BackfillEvents, "the raw stream holds %d GH Archive records, the backfill published %d", c.StreamGHArchive, c.BackfillEvents)
	check(c.StreamWebhook == c.WebhooksAccepted, "the raw stream holds %d webhook records, the receiver accepted %d", c.StreamWebhook, c.WebhooksAccepted)
	check(c.Pending == 0 && c.AckPending == 0, "enrich left %d records undelivered and %d unacknowledged", c.Pending, c.AckPending)
	check(c.DeadLetters == 0, "%d records went to the dead-letter stream", c.DeadLetters)
	check(c.RawKeys == c.WantRaw, "raw_events holds %d distinct records without FINAL, enrich keeps %d of the stream's records", c.RawKeys, c.WantRaw)
	// Every raw record is inserted once: a second row, even in the same partition where FINAL
	// hides it, is a record stored twice (a background merge may hide one from this count).
	check(c.RawRows == c.RawKeys, "%d raw records were stored twice (rows of raw_events without FINAL beyond the distinct records)", c.RawRows-c.RawKeys)
	check(c.RawPartKeys == c.RawKeys, "%d raw records are in more than one partition of raw_events", c.RawPartKeys-c.RawKeys)
	check(c.RawFinal == c.WantRaw, "raw_events FINAL holds %d rows, want %d", c.RawFinal, c.WantRaw)
	check(c.ContribIDs == c.WantContributions, "contributions holds %d distinct ids, enrich makes %d of the stream's records", c.ContribIDs, c.WantContributions)
	check(c.ContribPartIDs == c.ContribIDs, "%d contribution ids are in more than one partition", c.ContribPartIDs-c.ContribIDs)
	check(c.ContribFinal == c.WantContributions, "contributions FINAL holds %d rows, want %d", c.ContribFinal, c.WantContributions)
	return out
}

// printSoakTable prints the samples as a table, one row each.
func printSoakTable(w io.Writer, rows []soakSample, labels []string) {
	fmt.Fprintf(w, "  %-8s %8s %8s %6s %6s %6s %6s %8s %6s %9s %9s %9s", "", "t", "RSS MiB", "Go", "live", "gor.", "files", "pending", "ack", "published", "acked", "stored")
	for _, l := range soakLoops {
		fmt.Fprintf(w, " %21s", l+" p50/p99 ms")
	}
	fmt.Fprintln(w)
	for i, s := range rows {
		label := ""
		if i < len(labels) {
			label = labels[i]
		}
		fmt.Fprint(w, soakRow(label, s))
	}
}

// soakRow formats one sample as a table row.
func soakRow(label string, s soakSample) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "  %-8s %8s %8.0f %6.0f %6.0f %6d %6d %8d %6d %9d %9d %9d", label, s.At.Round(time.Second), mib(s.RSS), mib(int64(s.GoMem)), mib(int64(s.Heap)),
		s.Goroutines, s.Files, s.Pending, s.AckPending, s.Published, s.Acked, s.Stored)
	for _, l := range soakLoops {
		w := s.Loops[l]
		cell := "-"
		if w.N > 0 {
			cell = fmt.Sprintf("%.0f / %.0f", ms(w.P50), ms(w.P99))
		}
		if w.Errors > 0 {
			cell += fmt.Sprintf(" (%d err)", w.Errors)
		}
		fmt.Fprintf(&b, " %21s", cell)
	}
	b.WriteByte('\n')
	return b.String()
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
