package store

import (
	"context"
	"fmt"
	"slices"
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

// Every kind is placed. Sources date some contributions differently: GH Archive dates a commit
// by its push, the REST API and webhooks by its author date, and a pull request's stand-in from
// a trimmed GH Archive event takes the event's time. The other kinds are dated by when the
// object was made, which sources should report alike, but do not always (an issue's two
// webhook deliveries may carry different creation times), and a second row that no merge
// removes is never worth the risk.

// PlaceContributions readies cs for InsertPlaced: a contribution whose occurred_at falls in
// another month than its id's first version takes the first version's time, in cs itself, so
// what is published afterwards is what is stored. The first version is the stored one (the
// earliest, were there several) or, for an id not stored yet, its first in cs.
func (s *Store) PlaceContributions(ctx context.Context, cs []events.Contribution) (Placed, error) {
	first := map[string]time.Time{}
	var ids, kinds []string
	for i := range cs {
		c := &cs[i]
		if _, ok := first[c.ID]; !ok {
			first[c.ID] = c.OccurredAt
			ids = append(ids, c.ID)
		}
		if !slices.Contains(kinds, c.Kind) {
			kinds = append(kinds, c.Kind)
		}
	}
	if len(ids) == 0 {
		return Placed{cs: cs}, nil
	}
	stored, err := s.storedOccurredAt(ctx, kinds, ids)
	if err != nil {
		return Placed{}, err
	}
	for id, t := range stored {
		first[id] = t
	}
	for i := range cs {
		c := &cs[i]
		if t := first[c.ID]; !sameMonth(t, c.OccurredAt) {
			c.OccurredAt = t
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

// storedOccurredAt returns, for those of ids (of the given kinds) already stored, the time they
// are stored under — the earliest, were there several. It reads the table's sort key (kind, id).
func (s *Store) storedOccurredAt(ctx context.Context, kinds, ids []string) (map[string]time.Time, error) {
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = Quote(k)
	}
	out := make(map[string]time.Time)
	for chunk := range slices.Chunk(ids, storedLookupChunk) {
		q := make([]string, len(chunk))
		for i, id := range chunk {
			q[i] = Quote(id)
		}
		res, err := s.conn.Query(ctx, "SELECT id, toString(min(occurred_at)) FROM contributions WHERE kind IN ("+strings.Join(ks, ",")+
			") AND id IN ("+strings.Join(q, ",")+") GROUP BY id", nil)
		if err != nil {
			return nil, fmt.Errorf("store: stored times of %d ids: %w", len(chunk), err)
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
