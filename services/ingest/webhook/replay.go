package webhook

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"giveback.dev/platform/events"
)

// ReplayWindow is how long the hash of a delivered body is remembered: longer than GitHub keeps
// deliveries for redelivery (three days), as long as the raw stream keeps records by default.
const ReplayWindow = 7 * 24 * time.Hour

// OpenReplays returns the KV bucket of recent body hashes (events.BucketWebhookBodies), creating
// it when missing. Each entry expires after ReplayWindow.
func OpenReplays(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, events.BucketWebhookBodies)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("webhook: bucket %s: %w", events.BucketWebhookBodies, err)
	}
	kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: events.BucketWebhookBodies, TTL: ReplayWindow, History: 1,
		Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("webhook: bucket %s: %w", events.BucketWebhookBodies, err)
	}
	return kv, nil
}

// firstDelivery records that the body with hash h came with delivery, and returns the delivery
// id the same body first came with: delivery itself for a new body or a redelivery by GitHub
// (which keeps the id), another id for a replay.
func firstDelivery(ctx context.Context, kv jetstream.KeyValue, h [32]byte, delivery string) (string, error) {
	key := hex.EncodeToString(h[:])
	for range 3 {
		_, err := kv.Create(ctx, key, []byte(delivery))
		if err == nil {
			return delivery, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return "", fmt.Errorf("webhook: record body hash: %w", err)
		}
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // expired or deleted in between: try to create it again
		}
		if err != nil {
			return "", fmt.Errorf("webhook: read body hash: %w", err)
		}
		return string(e.Value()), nil
	}
	return "", errors.New("webhook: record body hash: it keeps changing")
}
