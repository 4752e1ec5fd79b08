package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
)

// watchEvery bounds how often the watched repositories are written to their bucket.
const watchEvery = time.Minute

// decodeTotals decodes a gharchive_totals record. The rows of people who opted out keep their
// counts, so a project's totals stay right, under an empty actor; rows that then share a key
// are summed, since project_activity would otherwise keep only one of them.
func decodeTotals(ro *roster.Roster, r *events.Raw) (events.HourTotals, error) {
	var h events.HourTotals
	if err := json.Unmarshal(r.Payload, &h); err != nil {
		return h, fmt.Errorf("enrich: totals record %s: decode payload: %w", r.ID, err)
	}
	if h.Hour == "" {
		return h, fmt.Errorf("enrich: totals record %s: payload has no hour", r.ID)
	}
	type key struct{ day, repo, actor, kind string }
	at := make(map[key]int, len(h.Rows))
	rows := h.Rows[:0]
	for _, row := range h.Rows {
		if ro.OptedOut(row.Actor) {
			row.Actor = ""
		}
		k := key{row.Day, row.Repo, row.Actor, row.Type}
		if i, ok := at[k]; ok {
			rows[i].Events += row.Events
			continue
		}
		at[k] = len(rows)
		rows = append(rows, row)
	}
	h.Rows = rows
	return h, nil
}

// watched is the set of repositories whose whole activity ingest counts (project totals): the
// upstream repositories employees contribute to and the dependencies contributions land in.
type watched struct {
	mu      sync.Mutex
	repos   map[string]bool
	pending bool // repos holds some not yet written
	written time.Time
}

// watch adds the repositories of stored contributions to the watched set and, at most once a
// minute when it grew, merges it into the JSON array ingest reads from events.BucketWatchedRepos
// (events.KeyTotalsRepos). A failure is logged and retried with the next batch: the batch
// itself is stored.
func (s *Service) watch(ctx context.Context, cs []events.Contribution) {
	w := &s.watched
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.repos == nil {
		w.repos = make(map[string]bool)
	}
	for i := range cs {
		c := &cs[i]
		if c.Repo == "" || w.repos[c.Repo] || !(c.IsDependency || c.IsUpstream && c.EmployeeID != "") {
			continue
		}
		w.repos[c.Repo] = true
		w.pending = true
	}
	if !w.pending || time.Since(w.written) < watchEvery || s.js == nil {
		return
	}
	if err := s.putWatched(ctx, w.repos); err != nil {
		s.log.Warn("cannot record the watched repositories; retrying with a later batch", slog.Any("err", err))
		return
	}
	w.pending, w.written = false, time.Now()
}

// putWatched merges repos into the array under events.KeyTotalsRepos.
func (s *Service) putWatched(ctx context.Context, repos map[string]bool) error {
	kv, err := s.js.KeyValue(ctx, events.BucketWatchedRepos)
	if err != nil {
		return fmt.Errorf("enrich: watched repositories bucket %s: %w", events.BucketWatchedRepos, err)
	}
	merged := make(map[string]bool, len(repos))
	for r := range repos {
		merged[r] = true
	}
	e, err := kv.Get(ctx, events.KeyTotalsRepos)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return fmt.Errorf("enrich: read %s: %w", events.KeyTotalsRepos, err)
	default:
		var old []string
		if err := json.Unmarshal(e.Value(), &old); err != nil {
			return fmt.Errorf("enrich: %s is not a JSON array of owner/name; delete the key to rebuild it: %w", events.KeyTotalsRepos, err)
		}
		for _, r := range old {
			merged[r] = true
		}
	}
	list := make([]string, 0, len(merged))
	for r := range merged {
		list = append(list, r)
	}
	slices.Sort(list)
	data, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("enrich: encode %s: %w", events.KeyTotalsRepos, err)
	}
	if _, err := kv.Put(ctx, events.KeyTotalsRepos, data); err != nil {
		return fmt.Errorf("enrich: write %s: %w", events.KeyTotalsRepos, err)
	}
	return nil
}
