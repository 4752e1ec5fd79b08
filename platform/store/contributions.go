package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"giveback.dev/platform/events"
)

const timeLayout = "2006-01-02 15:04:05.000"

const insertContributions = "INSERT INTO contributions (id, kind, occurred_at, actor_login, employee_id, team, repo, repo_owner, is_upstream, number, title, state, merged, merged_at, closed_at, url, source, raw_id, version, destination, foundation, is_dependency, dependency_criticality, author_email, additions, deletions, changed_files, first_response_at) FORMAT TabSeparated\n"

// InsertContributions writes a batch of contributions in one INSERT. Repeats of an id are
// harmless: the newest version wins.
func (s *Store) InsertContributions(ctx context.Context, cs []events.Contribution) error {
	if len(cs) == 0 {
		return nil
	}
	w := tsv{b: make([]byte, 0, len(insertContributions)+len(cs)*300)}
	w.b = append(w.b, insertContributions...)
	for i := range cs {
		c := &cs[i]
		w.str(c.ID)
		w.str(c.Kind)
		w.time(c.OccurredAt)
		w.str(c.ActorLogin)
		w.str(c.EmployeeID)
		w.str(c.Team)
		w.str(c.Repo)
		w.str(c.RepoOwner)
		w.bool(c.IsUpstream)
		w.uint(uint64(max(c.Number, 0)))
		w.str(c.Title)
		w.str(c.State)
		w.bool(c.Merged)
		w.optTime(c.MergedAt)
		w.optTime(c.ClosedAt)
		w.str(c.URL)
		w.str(c.Source)
		w.str(c.RawID)
		w.uint(c.Version)
		w.str(c.Destination)
		w.str(c.Foundation)
		w.bool(c.IsDependency)
		w.uint(uint64(max(c.DependencyCriticality, 0)))
		w.str(c.AuthorEmail)
		w.uint(uint64(max(c.Additions, 0)))
		w.uint(uint64(max(c.Deletions, 0)))
		w.uint(uint64(max(c.ChangedFiles, 0)))
		w.optTime(c.FirstResponseAt)
		w.end()
	}
	if err := s.conn.Exec(ctx, string(w.b)); err != nil {
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

// storedLookupChunk is how many ids one StoredOccurredAt query names, well under chDB's
// max_query_size.
const storedLookupChunk = 1000

// StoredOccurredAt returns, for those of ids (of one kind) already stored, the time they are
// stored under — the earliest, were there several. It reads the table's sort key (kind, id).
func (s *Store) StoredOccurredAt(ctx context.Context, kind string, ids []string) (map[string]time.Time, error) {
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
