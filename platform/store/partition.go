package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"giveback.dev/platform/events"
)

// Placed is a batch of contributions whose every row lies in the partition of its id's first
// version. contributions is partitioned by the month of occurred_at, and ReplacingMergeTree
// replaces the versions of an id only within one partition, so a version dated in another
// month than the first would be a second row: counted twice by readers that deduplicate
// partition by partition (do_not_merge_across_partitions_select_final, the metrics' setting)
// and never merged away. Only PlaceContributions makes a Placed, and enrich writes its rows
// only through InsertPlaced, so none of them can skip the rule.
type Placed struct {
	cs []events.Contribution
}

// Len returns how many contributions the batch holds.
func (p Placed) Len() int { return len(p.cs) }

// placedKinds are the kinds whose sources date one contribution differently: GH Archive dates a
// commit by its push, the REST API and webhooks by its author date, and a pull request's
// stand-in from a trimmed GH Archive event takes the event's time. The other kinds are dated by
// when the object was made, which every source reports alike.
var placedKinds = []string{events.KindCommit, events.KindPullRequest}

// PlaceContributions readies cs for InsertPlaced: a commit or pull request whose occurred_at
// falls in another month than its id's first version takes the first version's time, in cs
// itself, so what is published afterwards is what is stored. The first version is the stored
// one (the earliest, were there several) or, for an id not stored yet, its first in cs.
func (s *Store) PlaceContributions(ctx context.Context, cs []events.Contribution) (Placed, error) {
	for _, kind := range placedKinds {
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
		stored, err := s.storedOccurredAt(ctx, kind, ids)
		if err != nil {
			return Placed{}, err
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
	return Placed{cs: cs}, nil
}

// InsertPlaced writes a placed batch in one INSERT, as InsertContributions does.
func (s *Store) InsertPlaced(ctx context.Context, p Placed) error {
	return s.InsertContributions(ctx, p.cs)
}

func sameMonth(a, b time.Time) bool {
	a, b = a.UTC(), b.UTC()
	return a.Year() == b.Year() && a.Month() == b.Month()
}

// storedLookupChunk is how many ids one storedOccurredAt query names, well under chDB's
// max_query_size.
const storedLookupChunk = 1000

// storedOccurredAt returns, for those of ids (of one kind) already stored, the time they are
// stored under — the earliest, were there several. It reads the table's sort key (kind, id).
func (s *Store) storedOccurredAt(ctx context.Context, kind string, ids []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time)
	for start := 0; start < len(ids); start += storedLookupChunk {
		chunk := ids[start:min(start+storedLookupChunk, len(ids))]
		q := make([]string, len(chunk))
		for i, id := range chunk {
			q[i] = Quote(id)
		}
		res, err := s.conn.Query(ctx, "SELECT id, toString(min(occurred_at)) FROM contributions WHERE kind = "+Quote(kind)+
			" AND id IN ("+strings.Join(q, ",")+") GROUP BY id", nil)
		if err != nil {
			return nil, fmt.Errorf("store: stored times of %d %s ids: %w", len(chunk), kind, err)
		}
		for _, r := range res.Rows {
			t, err := time.Parse(timeLayout, AsString(r[1]))
			if err != nil {
				return nil, fmt.Errorf("store: stored time of %s: %w", AsString(r[0]), err)
			}
			out[AsString(r[0])] = t.UTC()
		}
	}
	return out, nil
}
