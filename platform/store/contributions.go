package store

import (
	"context"
	"fmt"

	"giveback.dev/platform/events"
)

const timeLayout = "2006-01-02 15:04:05.000"

// InsertContributions writes a batch of contributions in one INSERT, a row of
// ContributionColumns each. Repeats of an id are harmless: the newest version wins, provided
// every version lies in one partition (see Placed; enrich writes through InsertPlaced).
func (s *Store) InsertContributions(ctx context.Context, cs []events.Contribution) error {
	if len(cs) == 0 {
		return nil
	}
	b := encodeContributions(cs)
	if err := s.conn.Exec(ctx, string(b)); err != nil {
		return fmt.Errorf("store: insert %d contributions: %w", len(cs), err)
	}
	return nil
}

const insertRaw = "INSERT INTO raw_events (source, kind, id, fetched_at, origin, payload, meta) FORMAT TabSeparated\n"

// InsertRaw writes a batch of raw records to raw_events in one INSERT.
func (s *Store) InsertRaw(ctx context.Context, rs []events.Raw) error {
	if len(rs) == 0 {
		return nil
	}
	size := len(insertRaw)
	for i := range rs {
		size += len(rs[i].Payload) + len(rs[i].Origin) + 80
	}
	w := tsv{b: make([]byte, 0, size)}
	w.b = append(w.b, insertRaw...)
	for i := range rs {
		r := &rs[i]
		w.str(r.Source)
		w.str(r.Kind)
		w.str(r.ID)
		w.time(r.FetchedAt)
		w.str(r.Origin)
		w.bytes(r.Payload)
		w.str(encodeMeta(r.Meta)) // 0004: kept so REST records can be re-derived
		w.end()
	}
	if err := s.conn.Exec(ctx, string(w.b)); err != nil {
		return fmt.Errorf("store: insert %d raw events: %w", len(rs), err)
	}
	return nil
}
