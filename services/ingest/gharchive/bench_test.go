package gharchive

import (
	"bufio"
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// BenchmarkGunzip is the floor: decompressing the sample and splitting it into lines, with the
// standard library's gzip and with klauspost/compress's. MB/s are of uncompressed JSON.
func BenchmarkGunzip(b *testing.B) {
	compressed, err := os.ReadFile(testkit.GHArchiveSample(b))
	if err != nil {
		b.Fatal(err)
	}
	size := int64(len(sampleJSON(b)))
	open := map[string]func(io.Reader) (io.Reader, error){
		"stdlib":    func(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) },
		"klauspost": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	}
	for _, name := range []string{"stdlib", "klauspost"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			lines := 0
			for b.Loop() {
				zr, err := open[name](bytes.NewReader(compressed))
				if err != nil {
					b.Fatal(err)
				}
				br := bufio.NewReaderSize(zr, 1<<20)
				for {
					_, err := br.ReadSlice('\n')
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
						b.Fatal(err)
					}
					lines++
				}
			}
			b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkRead measures Reader over the sample file: every event emitted ("all"), and with
// a roster prefilter of 50 logins and 2 orgs drawn from the sample ("roster"). events/s counts
// lines read, kept or not.
func BenchmarkRead(b *testing.B) {
	dir := b.TempDir()
	linkSample(b, dir, FileName(sampleHour))
	lines := sampleLines(b)
	size := int64(len(sampleJSON(b)))
	var logins, orgs []string
	for i, line := range lines {
		var ev decodedEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			b.Fatal(err)
		}
		if i%40 == 0 && len(logins) < 50 {
			logins = append(logins, ev.Actor.Login)
		}
	}
	orgs = []string{"microsoft", "kubernetes"}
	// "roster+totals" also counts project totals for 200 of the sample's repositories (the ones
	// the company would contribute to or depend on), as a backfill does.
	watch := map[string]bool{}
	for i, line := range lines {
		var ev decodedEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			b.Fatal(err)
		}
		if i%5 == 0 && len(watch) < 200 {
			watch[ev.Repo.Name] = true
		}
	}
	filters := map[string]func([]byte) bool{"all": nil, "roster": LoginFilter(logins, orgs), "roster+totals": LoginFilter(logins, orgs)}
	for _, name := range []string{"all", "roster", "roster+totals"} {
		b.Run(name, func(b *testing.B) {
			r := &Reader{Source: dir, Filter: filters[name], Log: slog.New(slog.DiscardHandler)}
			if name == "roster+totals" {
				r.Watch = watch
				r.Totals = func(context.Context, time.Time, []events.ActivityRow) error { return nil }
			}
			emit := func(context.Context, *events.Raw) error { return nil }
			b.SetBytes(size)
			var kept int64
			for b.Loop() {
				st, err := r.Read(context.Background(), []time.Time{sampleHour}, emit, nil)
				if err != nil {
					b.Fatal(err)
				}
				kept = st.Events
			}
			b.ReportMetric(float64(int64(len(lines))*int64(b.N))/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(kept), "kept/op")
		})
	}
}
