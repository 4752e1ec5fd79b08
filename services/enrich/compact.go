package enrich

import (
	"context"
	"log/slog"
	"time"
)

// CompactEvery is how often enrich merges the partitions it wrote to, so the dashboard's FINAL
// reads stay cheap (store.Compact). Zero turns it off.
var CompactEvery = 5 * time.Minute

// runCompaction compacts the contributions table every CompactEvery when this replica stored
// something since the last time, until ctx ends. A failure is logged and tried again later.
func (s *Service) runCompaction(ctx context.Context) error {
	if CompactEvery <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(CompactEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !s.stored.Swap(false) {
			continue
		}
		start := time.Now()
		n, err := s.store.Compact(ctx)
		if err != nil {
			s.stored.Store(true)
			s.log.Warn("compaction failed; trying again later", slog.Any("err", err))
			continue
		}
		if n > 0 {
			s.log.Info("contributions compacted", slog.Int("partitions", n), slog.Duration("took", time.Since(start)))
		}
	}
}
