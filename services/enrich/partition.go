package enrich

import (
	"context"

	"giveback.dev/platform/events"
)

// afterPlace runs between placing a batch and storing it (a test holds a batch there).
var afterPlace = func() {}

// insertContributions stores contributions, each version in the partition of its id's first
// version: sources date one commit or pull request differently, and a version in another month
// would be counted twice (store.Placed). Store offers enrich no other way to write them.
//
// Placing reads which ids are stored, so a batch's placement holds until its rows are: the
// consumer and a re-derivation store at the same time, and two versions of one id not stored
// yet, each placed before the other's insert, would each take its own month. Replicas of
// enrich do not share this lock; they take different messages of the raw stream, and the
// versions of one id reach them apart only where the sources deliver them within one batch's
// time of each other.
func (s *Service) insertContributions(ctx context.Context, cs []events.Contribution) error {
	if len(cs) == 0 {
		return nil
	}
	s.placing.Lock()
	defer s.placing.Unlock()
	p, err := s.store.PlaceContributions(ctx, cs)
	if err != nil {
		return err
	}
	afterPlace()
	return s.store.InsertPlaced(ctx, p)
}
