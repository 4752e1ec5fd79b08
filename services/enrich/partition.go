package enrich

import (
	"context"

	"giveback.dev/platform/events"
)

// insertContributions stores contributions, each version in the partition of its id's first
// version: sources date one commit or pull request differently, and a version in another month
// would be counted twice (store.Placed). Store offers enrich no other way to write them.
func (s *Service) insertContributions(ctx context.Context, cs []events.Contribution) error {
	p, err := s.store.PlaceContributions(ctx, cs)
	if err != nil {
		return err
	}
	return s.store.InsertPlaced(ctx, p)
}
