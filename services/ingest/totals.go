package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
	"giveback.dev/services/ingest/gharchive"
)

// totalsPartRows bounds the rows of one hour_totals record, keeping it well under the NATS
// message size limit (about 100 bytes a row).
const totalsPartRows = 4000

// watchRepos returns the repositories whose whole activity a backfill counts: Options.WatchRepos,
// or else the set enrich keeps in events.BucketWatchedRepos (none until enrich wrote it).
func (s *Service) watchRepos(ctx context.Context) (map[string]bool, error) {
	if s.o.WatchRepos != nil {
		return s.o.WatchRepos(), nil
	}
	if s.o.WatchedRepos == nil {
		return nil, fmt.Errorf("ingest: the watched repositories bucket %s is not open (Options.OpenBuckets)", events.BucketWatchedRepos)
	}
	e, err := s.o.WatchedRepos.Get(ctx, events.KeyTotalsRepos)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: read the watched repositories (%s in bucket %s): %w", events.KeyTotalsRepos, events.BucketWatchedRepos, err)
	}
	var repos []string
	if err := json.Unmarshal(e.Value(), &repos); err != nil {
		return nil, fmt.Errorf("ingest: watched repositories (%s in bucket %s) are not a JSON array of owner/name: %w", events.KeyTotalsRepos, events.BucketWatchedRepos, err)
	}
	set := make(map[string]bool, len(repos))
	for _, r := range repos {
		set[r] = true
	}
	s.log.Info("project totals", slog.Int("watched_repos", len(set)))
	return set, nil
}

// publishTotals publishes the counts of an hour as gharchive_totals records, one per
// totalsPartRows rows; an hour without rows publishes nothing. Finished flushes them before the
// hour is marked done.
func (s *Service) publishTotals(ctx context.Context, h time.Time, rows []events.ActivityRow) error {
	hour := gharchive.HourKey(h)
	for part := 0; part*totalsPartRows < len(rows); part++ {
		chunk := rows[part*totalsPartRows : min((part+1)*totalsPartRows, len(rows))]
		payload, err := json.Marshal(events.HourTotals{Hour: hour, Rows: chunk})
		if err != nil {
			return fmt.Errorf("encode totals of %s: %w", hour, err)
		}
		id := "totals:" + hour
		if part > 0 {
			id += "#" + strconv.Itoa(part+1)
		}
		raw := &events.Raw{Schema: events.SchemaRaw, Source: events.SourceGHArchiveTotals, Kind: events.KindHourTotals,
			ID: id, FetchedAt: time.Now().UTC(), Origin: gharchive.FileName(h), Payload: payload}
		if err := s.o.Publisher.Publish(ctx, raw); err != nil {
			return fmt.Errorf("publish totals of %s: %w", hour, err)
		}
	}
	return nil
}
