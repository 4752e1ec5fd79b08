package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// SavedQuery is one saved query of the query console (table saved_queries).
type SavedQuery struct {
	// Name identifies the query; saving under an existing name replaces it.
	Name        string       `json:"name"`
	Description string       `json:"description"`
	SQL         string       `json:"sql"`
	Params      []SavedParam `json:"params"`
	// Author is who saved it last: the caller's token name, e-mail or proxy user; empty when the
	// server does not authenticate.
	Author    string    `json:"author"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SavedParam is one parameter of a saved query, written {name:Type} in its SQL.
type SavedParam struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Default is the value used when a run does not give one; nil means the run must.
	Default *string `json:"default,omitempty"`
}

// SaveQuery stores q, replacing any query of the same name. UpdatedAt is set to now.
func (s *Store) SaveQuery(ctx context.Context, q SavedQuery, now time.Time) error {
	params := q.Params
	if params == nil {
		params = []SavedParam{}
	}
	p, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("store: save query %s: %w", q.Name, err)
	}
	return s.writeSaved(ctx, q.Name, q.Description, q.SQL, string(p), q.Author, now, false)
}

// DeleteSavedQuery removes the saved query name. It reports false when there was none.
func (s *Store) DeleteSavedQuery(ctx context.Context, name, author string, now time.Time) (bool, error) {
	_, ok, err := s.SavedQuery(ctx, name)
	if err != nil || !ok {
		return false, err
	}
	return true, s.writeSaved(ctx, name, "", "", "[]", author, now, true)
}

func (s *Store) writeSaved(ctx context.Context, name, desc, sql, params, author string, now time.Time, deleted bool) error {
	del := "0"
	if deleted {
		del = "1"
	}
	// The version is the time in nanoseconds, so the latest of two saves in one millisecond wins.
	q := "INSERT INTO saved_queries (name, description, sql, params, author, updated_at, version, deleted) VALUES (" +
		Quote(name) + ", " + Quote(desc) + ", " + Quote(sql) + ", " + Quote(params) + ", " + Quote(author) + ", " +
		Quote(now.UTC().Format(timeLayout)) + ", " + strconv.FormatInt(now.UnixNano(), 10) + ", " + del + ")"
	if err := s.conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("store: save query %s: %w", name, err)
	}
	return nil
}

const savedColumns = "name, description, sql, params, author, formatDateTime(updated_at, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')"

// SavedQueries returns every saved query, by name.
func (s *Store) SavedQueries(ctx context.Context) ([]SavedQuery, error) {
	res, err := s.conn.Query(ctx, "SELECT "+savedColumns+" FROM saved_queries FINAL WHERE deleted = 0 ORDER BY name", nil)
	if err != nil {
		return nil, fmt.Errorf("store: saved queries: %w", err)
	}
	out := make([]SavedQuery, 0, len(res.Rows))
	for _, r := range res.Rows {
		q, err := savedRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// SavedQuery returns the saved query name; ok is false when there is none.
func (s *Store) SavedQuery(ctx context.Context, name string) (q SavedQuery, ok bool, err error) {
	res, err := s.conn.Query(ctx, "SELECT "+savedColumns+" FROM saved_queries FINAL WHERE name = "+Quote(name)+" AND deleted = 0", nil)
	if err != nil {
		return q, false, fmt.Errorf("store: saved query %s: %w", name, err)
	}
	if len(res.Rows) == 0 {
		return q, false, nil
	}
	q, err = savedRow(res.Rows[0])
	return q, err == nil, err
}

func savedRow(r []any) (SavedQuery, error) {
	q := SavedQuery{Name: AsString(r[0]), Description: AsString(r[1]), SQL: AsString(r[2]), Author: AsString(r[4]), Params: []SavedParam{}}
	if err := json.Unmarshal([]byte(AsString(r[3])), &q.Params); err != nil {
		return q, fmt.Errorf("store: saved query %s: params: %w", q.Name, err)
	}
	t, err := time.Parse(time.RFC3339Nano, AsString(r[5]))
	if err != nil {
		return q, fmt.Errorf("store: saved query %s: updated_at: %w", q.Name, err)
	}
	q.UpdatedAt = t
	return q, nil
}
