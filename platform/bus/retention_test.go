package bus_test

import (
	"context"
	"testing"
	"time"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// The raw stream keeps records for retention.raw_stream (RawMaxAge); declaring the streams
// again with another age changes it, and none gives the default week.
func TestRawStreamMaxAge(t *testing.T) {
	_, _, js := testkit.NATS(t)
	ctx := context.Background()
	for _, c := range []struct {
		age, want time.Duration
	}{
		{30 * 24 * time.Hour, 30 * 24 * time.Hour},
		{36 * time.Hour, 36 * time.Hour},
		{0, 7 * 24 * time.Hour},
	} {
		if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{RawMaxAge: c.age}); err != nil {
			t.Fatal(err)
		}
		s, err := js.Stream(ctx, events.StreamRaw)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.MaxAge != c.want {
			t.Errorf("RawMaxAge %s: the stream's MaxAge is %s, want %s", c.age, info.Config.MaxAge, c.want)
		}
	}
}
