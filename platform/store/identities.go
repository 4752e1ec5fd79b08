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

// InsertUnmatched records contributions by identities the roster does not know, in one INSERT.
// unmatched_identities aggregates them: min and max time, and the uniqExact state of the
// contribution ids, so a contribution seen again is counted once.
func (s *Store) InsertUnmatched(ctx context.Context, us []events.Unmatched) error {
	// The rows travel inside the statement (values()), which ClickHouse parses whole and caps at
	// max_query_size (256 KiB): send them in chunks that stay well under it.
	const chunk = 300
	for start := 0; start < len(us); start += chunk {
		if err := s.insertUnmatched(ctx, us[start:min(start+chunk, len(us))]); err != nil {
			return fmt.Errorf("store: insert %d unmatched identities: %w", len(us), err)
		}
	}
	return nil
}

func (s *Store) insertUnmatched(ctx context.Context, us []events.Unmatched) error {
	var b strings.Builder
	b.WriteString("INSERT INTO unmatched_identities (identity, kind, reason, repo, first_seen, last_seen, contributions)\n")
	b.WriteString("SELECT identity, kind, reason, repo, min(at), max(at), uniqExactState(id) FROM values(")
	b.WriteString(Quote("identity String, kind String, reason String, repo String, at DateTime64(3, 'UTC'), id String"))
	for i := range us {
		u := &us[i]
		b.WriteString(", (")
		b.WriteString(Quote(u.Identity))
		b.WriteString(", ")
		b.WriteString(Quote(u.Kind))
		b.WriteString(", ")
		b.WriteString(Quote(u.Reason))
		b.WriteString(", ")
		b.WriteString(Quote(u.Repo))
		b.WriteString(", ")
		b.WriteString(Quote(u.At.UTC().Format(timeLayout)))
		b.WriteString(", ")
		b.WriteString(Quote(u.ContributionID))
		b.WriteString(")")
	}
	b.WriteString(") GROUP BY identity, kind, reason, repo")
	return s.conn.Exec(ctx, b.String())
}

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

// DeleteContributionsOf removes every contribution whose actor login or author e-mail is one of
// identities (lower-cased), whatever its date: an opt-out.
func (s *Store) DeleteContributionsOf(ctx context.Context, identities []string) error {
	if len(identities) == 0 {
		return nil
	}
	list := quoteList(identities)
	if err := s.mutate(ctx, "ALTER TABLE contributions DELETE WHERE lower(actor_login) IN ("+list+") OR author_email IN ("+list+")"); err != nil {
		return fmt.Errorf("store: delete contributions of %d identities: %w", len(identities), err)
	}
	return nil
}

// DeleteUnmatched forgets the unmatched records of identities (lower-cased); a re-derivation
// records again those still unmatched.
func (s *Store) DeleteUnmatched(ctx context.Context, identities []string) error {
	if len(identities) == 0 {
		return nil
	}
	if err := s.mutate(ctx, "ALTER TABLE unmatched_identities DELETE WHERE identity IN ("+quoteList(identities)+")"); err != nil {
		return fmt.Errorf("store: delete unmatched identities: %w", err)
	}
	return nil
}

// mutate runs an ALTER … DELETE and waits until every replica applied it.
func (s *Store) mutate(ctx context.Context, stmt string) error {
	return s.conn.Exec(ctx, stmt+" SETTINGS mutations_sync = 2")
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, v := range ss {
		q[i] = Quote(strings.ToLower(v))
	}
	return strings.Join(q, ", ")
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
