package store

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// rawTTL returns the TTL expression of raw_events for an age, as ClickHouse prints it back in
// the table's definition: whole days when the age is, seconds otherwise.
func rawTTL(age time.Duration) string {
	if age%(24*time.Hour) == 0 {
		return "toDateTime(fetched_at) + toIntervalDay(" + strconv.FormatInt(int64(age/(24*time.Hour)), 10) + ")"
	}
	return "toDateTime(fetched_at) + toIntervalSecond(" + strconv.FormatInt(int64(age/time.Second), 10) + ")"
}

// SetRawRetention makes raw_events keep raw records for age after they were fetched (a table
// TTL, which ClickHouse applies as it merges), or for ever when age is 0. It changes the table
// only when its TTL differs, so running it at every start costs one read. Contributions and the
// other aggregates keep their history: re-deriving a contribution whose raw record expired is
// no longer possible, but the contribution stays.
func (s *Store) SetRawRetention(ctx context.Context, age time.Duration, log *slog.Logger) error {
	if age < 0 || (age > 0 && age < time.Second) {
		return fmt.Errorf("store: raw retention %s: give 0 (keep) or at least a second", age)
	}
	res, err := s.conn.Query(ctx, "SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = 'raw_events'", nil)
	if err != nil {
		return fmt.Errorf("store: raw retention: read raw_events: %w", err)
	}
	if len(res.Rows) == 0 {
		return fmt.Errorf("store: raw retention: raw_events does not exist; apply the migrations first")
	}
	def := AsString(res.Rows[0][0])
	var stmt string
	switch {
	case age == 0 && strings.Contains(def, " TTL "):
		stmt = "ALTER TABLE raw_events REMOVE TTL"
	case age > 0 && !strings.Contains(def, " TTL "+rawTTL(age)):
		stmt = "ALTER TABLE raw_events MODIFY TTL " + rawTTL(age)
	default:
		return nil
	}
	if err := s.conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("store: raw retention %s: %w", age, err)
	}
	if log != nil {
		log.Info("raw_events retention set", slog.Duration("age", age), slog.Bool("keep", age == 0))
	}
	return nil
}
