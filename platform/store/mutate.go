package store

import (
	"context"
	"fmt"
	"strings"
)

// Deletions by mutation (ALTER … DELETE), which wait until every replica applied them, and the
// deletion of a person's contributions on opt-out.

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
