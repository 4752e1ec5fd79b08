package githubsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// etag is what the syncer keeps of a response it processed (events.ETag), to ask again with
// If-None-Match: a 304 costs no rate limit and means the response, already processed, is
// unchanged.
type etag = events.ETag

// pendingETag is an ETag to keep once what its response carried is stored.
type pendingETag struct {
	url string
	e   etag
}

// lookupETag returns the ETag kept for u, from memory or else the KV bucket; ok is false when
// there is none.
func (s *REST) lookupETag(ctx context.Context, u string) (etag, bool, error) {
	s.mu.Lock()
	e, seen := s.etags[u]
	s.mu.Unlock()
	if seen {
		return e, e.ETag != "", nil
	}
	kvEntry, err := s.KV.Get(ctx, events.KeyETag(u))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		e = etag{}
	case err != nil:
		return etag{}, false, fmt.Errorf("read etag of %s: %w", u, err)
	default:
		if err := json.Unmarshal(kvEntry.Value(), &e); err != nil {
			return etag{}, false, fmt.Errorf("etag %s of %s = %q: %w", events.KeyETag(u), u, kvEntry.Value(), err)
		}
	}
	s.mu.Lock()
	if s.etags == nil {
		s.etags = map[string]etag{}
	}
	s.etags[u] = e // a miss too, so the bucket is asked once per URL
	s.mu.Unlock()
	return e, e.ETag != "", nil
}

// keepETags stores ETags in memory and, when they changed, in the KV bucket.
func (s *REST) keepETags(ctx context.Context, es []pendingETag) error {
	for _, p := range es {
		s.mu.Lock()
		old, ok := s.etags[p.url]
		if s.etags == nil {
			s.etags = map[string]etag{}
		}
		s.etags[p.url] = p.e
		s.mu.Unlock()
		if ok && old == p.e {
			continue
		}
		b, err := json.Marshal(p.e)
		if err != nil {
			return fmt.Errorf("githubsync: etag of %s: %w", p.url, err)
		}
		if _, err := s.KV.Put(ctx, events.KeyETag(p.url), b); err != nil {
			return fmt.Errorf("githubsync: store etag of %s: %w", p.url, err)
		}
	}
	return nil
}
