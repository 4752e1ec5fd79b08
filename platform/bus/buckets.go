package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// legacyKeys are the keys an earlier version kept in events.BucketCursors, by the bucket that
// holds them now. Each bucket sources them from the cursor bucket (a filtered stream source,
// which the server runs with its own rights): the keys of an instance upgraded in place are
// copied once, when the bucket is first declared, and a key still written in the old place by
// a replica of the earlier version during a rolling upgrade follows. The server keeps the
// source's position, so a key deleted since is not copied again. The cursors of the REST sync,
// its ETags and the GH Archive hours stay in the cursor bucket.
var legacyKeys = map[string][]string{
	events.BucketRoster:       {"roster.>"},
	events.BucketStatus:       {"status.>"},
	events.BucketHydrateWatch: {events.KeyHydrateOpenPrefix + ">"},
	events.BucketWatchedRepos: {events.KeyTotalsRepos},
}

// migrationWait bounds how long EnsureStreams waits for the legacy keys to be copied.
const migrationWait = 30 * time.Second

// kvSubject returns the subject of a key (or key pattern) of a bucket.
func kvSubject(bucket, key string) string { return "$KV." + bucket + "." + key }

// ensureBuckets declares every bucket of events.Buckets, the cursor bucket first since the
// others source from it, and waits until each has copied the legacy keys.
func ensureBuckets(ctx context.Context, js jetstream.JetStream, replicas int) error {
	for _, b := range events.Buckets {
		cfg := jetstream.KeyValueConfig{Bucket: b, Storage: jetstream.FileStorage, Replicas: replicas, History: 1}
		if keys := legacyKeys[b]; len(keys) > 0 {
			src := &jetstream.StreamSource{Name: "KV_" + events.BucketCursors}
			for _, k := range keys {
				src.SubjectTransforms = append(src.SubjectTransforms, jetstream.SubjectTransformConfig{
					Source: kvSubject(events.BucketCursors, k), Destination: kvSubject(b, k),
				})
			}
			cfg.Sources = []*jetstream.StreamSource{src}
		}
		if _, err := js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
			return fmt.Errorf("bus: kv %s: %w", b, err)
		}
	}
	for _, b := range events.Buckets {
		if len(legacyKeys[b]) == 0 {
			continue
		}
		if err := awaitSources(ctx, js, "KV_"+b); err != nil {
			return err
		}
	}
	return nil
}

// awaitSources waits until the stream has read everything its sources hold.
func awaitSources(ctx context.Context, js jetstream.JetStream, stream string) error {
	ctx, cancel := context.WithTimeout(ctx, migrationWait)
	defer cancel()
	for {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return fmt.Errorf("bus: kv %s: %w", stream, err)
		}
		info := s.CachedInfo()
		if info != nil && len(info.Sources) == len(info.Config.Sources) && caughtUp(info.Sources) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bus: %s: the keys of %s were not copied within %s (is the cursor bucket reachable?): %w",
				stream, events.BucketCursors, migrationWait, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// caughtUp reports whether every source was reached and has nothing left to copy.
func caughtUp(sources []*jetstream.StreamSourceInfo) bool {
	for _, si := range sources {
		if si == nil || si.Error != nil || si.Active < 0 || si.Lag > 0 {
			return false
		}
	}
	return true
}
