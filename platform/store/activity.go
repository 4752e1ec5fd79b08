package store

import (
	"context"
	"fmt"

	"giveback.dev/platform/events"
)

const insertActivity = "INSERT INTO project_activity (day, repo, actor, type, events, hour_id) FORMAT TabSeparated\n"

// InsertProjectActivity writes the rows of GH Archive hour totals to project_activity in one
// INSERT. The same hour written again replaces its rows (hour_id is in the key).
func (s *Store) InsertProjectActivity(ctx context.Context, hs []events.HourTotals) error {
	n := 0
	for i := range hs {
		n += len(hs[i].Rows)
	}
	if n == 0 {
		return nil
	}
	w := tsv{b: make([]byte, 0, len(insertActivity)+n*80)}
	w.b = append(w.b, insertActivity...)
	for i := range hs {
		h := &hs[i]
		for j := range h.Rows {
			r := &h.Rows[j]
			w.str(r.Day)
			w.str(r.Repo)
			w.str(r.Actor)
			w.str(r.Type)
			w.uint(r.Events)
			w.str(h.Hour)
			w.end()
		}
	}
	if err := s.conn.Exec(ctx, string(w.b)); err != nil {
		return fmt.Errorf("store: insert %d project activity rows: %w", n, err)
	}
	return nil
}
