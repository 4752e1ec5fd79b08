package mapper_test

import (
	"testing"

	"giveback.dev/platform/events"
	"giveback.dev/services/enrich/mapper"
)

// BenchmarkMapGHArchive maps the real sample's events one per op, round-robin, and reports
// events/s on one goroutine.
func BenchmarkMapGHArchive(b *testing.B) {
	raws, size := sampleRaws(b)
	b.SetBytes(int64(size / len(raws)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := mapper.Map(&raws[i%len(raws)]); err != nil && err != mapper.ErrNotContribution {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMapGHArchiveParallel is the same on every GOMAXPROCS goroutine.
func BenchmarkMapGHArchiveParallel(b *testing.B) {
	raws, size := sampleRaws(b)
	b.SetBytes(int64(size / len(raws)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := mapper.Map(&raws[i%len(raws)]); err != nil && err != mapper.ErrNotContribution {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func sampleRaws(b *testing.B) ([]events.Raw, int) {
	lines := readSample(b)
	raws := make([]events.Raw, len(lines))
	size := 0
	for i, l := range lines {
		raws[i] = l.raw
		size += len(l.raw.Payload)
	}
	return raws, size
}
