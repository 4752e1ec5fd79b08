package ingest

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// OpenBuckets opens, from js, the buckets of o that are not set yet: the cursors (KV), the
// statuses, the hydration watch list and the watched repositories.
func (o *Options) OpenBuckets(ctx context.Context, js jetstream.JetStream) error {
	for _, b := range []struct {
		name string
		kv   *jetstream.KeyValue
	}{
		{events.BucketCursors, &o.KV},
		{events.BucketStatus, &o.Statuses},
		{events.BucketHydrateWatch, &o.HydrateWatch},
		{events.BucketWatchedRepos, &o.WatchedRepos},
	} {
		if *b.kv != nil {
			continue
		}
		kv, err := js.KeyValue(ctx, b.name)
		if err != nil {
			return fmt.Errorf("ingest: bucket %s: %w", b.name, err)
		}
		*b.kv = kv
	}
	return nil
}
