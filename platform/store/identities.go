package store

import (
	"context"
	"fmt"
	"strings"

	"giveback.dev/platform/events"
)

// InsertUnmatched records contributions by identities the roster does not know, in one INSERT.
// unmatched_identities aggregates them: min and max time, and the uniqExact state of the
// contribution ids, so a contribution seen again is counted once. current_unmatched_identities
// shows of them only the identities to resolve: those of a company e-mail domain, and the logins
// active in a private repository of a company org (migration 0009); the others are outside
// contributors to the company's open source.
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
