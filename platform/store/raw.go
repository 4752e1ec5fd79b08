package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"giveback.dev/platform/events"
)

// Reads and deletions of raw records in raw_events, by key or by what their payload mentions
// (re-derivation after a roster change, opt-outs); InsertRaw writes them.

// RawKey is the key of a raw record in raw_events.
type RawKey struct {
	Source string
	ID     string
}

// maxNeedles is how many patterns one multiSearchAny takes; ClickHouse allows 255.
const maxNeedles = 200

// needleLists returns needles as ClickHouse array literals of at most maxNeedles strings each.
func needleLists(needles []string) []string {
	var lists []string
	for i := 0; i < len(needles); i += maxNeedles {
		part := needles[i:min(i+maxNeedles, len(needles))]
		quoted := make([]string, len(part))
		for j, n := range part {
			quoted[j] = Quote(n)
		}
		lists = append(lists, "["+strings.Join(quoted, ", ")+"]")
	}
	return lists
}

// RawMentioning returns up to limit raw records, in key order after the key after, whose payload
// contains any of the needles (compared lower-cased; give them lower-cased). It pages through
// raw_events for a re-derivation: pass the key of the last record returned to get the next page.
func (s *Store) RawMentioning(ctx context.Context, needles []string, after RawKey, limit int) ([]events.Raw, error) {
	if len(needles) == 0 {
		return nil, nil
	}
	var conds []string
	for _, list := range needleLists(needles) {
		conds = append(conds, "multiSearchAny(lower(payload), "+list+")")
	}
	q := "SELECT source, kind, id, fetched_at, origin, meta, payload FROM raw_events FINAL WHERE (" + strings.Join(conds, " OR ") + ")" +
		" AND (source, id) > (" + Quote(after.Source) + ", " + Quote(after.ID) + ")" +
		" ORDER BY source, id LIMIT " + strconv.Itoa(limit)
	res, err := s.conn.Query(ctx, q, nil)
	if err != nil {
		return nil, fmt.Errorf("store: read raw events to re-derive: %w", err)
	}
	out := make([]events.Raw, 0, len(res.Rows))
	for _, row := range res.Rows {
		r := events.Raw{Schema: events.SchemaRaw, Source: AsString(row[0]), Kind: AsString(row[1]), ID: AsString(row[2]),
			Origin: AsString(row[4]), Payload: json.RawMessage(AsString(row[6]))}
		if r.FetchedAt, err = time.ParseInLocation(timeLayout, AsString(row[3]), time.UTC); err != nil {
			return nil, fmt.Errorf("store: raw event %s:%s: fetched_at %q: %w", r.Source, r.ID, AsString(row[3]), err)
		}
		if m := AsString(row[5]); m != "" {
			if err := json.Unmarshal([]byte(m), &r.Meta); err != nil {
				return nil, fmt.Errorf("store: raw event %s:%s: meta: %w", r.Source, r.ID, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteRaw removes raw records (a mutation; it returns once applied on every replica).
func (s *Store) DeleteRaw(ctx context.Context, keys []RawKey) error {
	if len(keys) == 0 {
		return nil
	}
	tuples := make([]string, len(keys))
	for i, k := range keys {
		tuples[i] = "(" + Quote(k.Source) + ", " + Quote(k.ID) + ")"
	}
	if err := s.mutate(ctx, "ALTER TABLE raw_events DELETE WHERE (source, id) IN ("+strings.Join(tuples, ", ")+")"); err != nil {
		return fmt.Errorf("store: delete %d raw events: %w", len(keys), err)
	}
	return nil
}

// encodeMeta renders a raw record's meta for raw_events.meta: JSON, or empty when there is none.
func encodeMeta(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, err := json.Marshal(m)
	if err != nil { // a map of strings always encodes
		return ""
	}
	return string(b)
}
