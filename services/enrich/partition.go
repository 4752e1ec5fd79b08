package enrich

import (
	"context"
	"fmt"
	"time"

	"giveback.dev/platform/events"
)

// samePartition keeps every version of a commit or pull request in the month of its first
// stored version. Sources date a commit differently — GH Archive by its push, the REST API and
// webhooks by its author date — and a pull request's stand-in from a trimmed event takes the
// event's time; contributions are partitioned by month of occurred_at, and ReplacingMergeTree
// replaces versions only within a partition, so a version dated in another month would be
// counted twice. A version whose month differs from the stored one takes the stored time; so
// does one whose id came earlier in the same batch.
func (s *Service) samePartition(ctx context.Context, cs []events.Contribution) error {
	for _, kind := range []string{events.KindCommit, events.KindPullRequest} {
		first := map[string]time.Time{}
		var ids []string
		for i := range cs {
			if c := &cs[i]; c.Kind == kind {
				if _, ok := first[c.ID]; !ok {
					first[c.ID] = c.OccurredAt
					ids = append(ids, c.ID)
				}
			}
		}
		if len(ids) == 0 {
			continue
		}
		stored, err := s.store.StoredOccurredAt(ctx, kind, ids)
		if err != nil {
			return fmt.Errorf("enrich: %w", err)
		}
		for id, t := range stored {
			first[id] = t
		}
		for i := range cs {
			c := &cs[i]
			if c.Kind != kind {
				continue
			}
			if t := first[c.ID]; !sameMonth(t, c.OccurredAt) {
				c.OccurredAt = t
			}
		}
	}
	return nil
}

func sameMonth(a, b time.Time) bool {
	a, b = a.UTC(), b.UTC()
	return a.Year() == b.Year() && a.Month() == b.Month()
}
