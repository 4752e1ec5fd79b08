package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"giveback.dev/platform/events"
)

const timeLayout = "2006-01-02 15:04:05.000"

// contributionRow is a contributions row as JSONEachRow; its tags are the table's columns.
type contributionRow struct {
	ID         string  `json:"id"`
	Kind       string  `json:"kind"`
	OccurredAt string  `json:"occurred_at"`
	ActorLogin string  `json:"actor_login"`
	EmployeeID string  `json:"employee_id"`
	Team       string  `json:"team"`
	Repo       string  `json:"repo"`
	RepoOwner  string  `json:"repo_owner"`
	IsUpstream uint8   `json:"is_upstream"`
	Number     int     `json:"number"`
	Title      string  `json:"title"`
	State      string  `json:"state"`
	Merged     uint8   `json:"merged"`
	MergedAt   *string `json:"merged_at"`
	ClosedAt   *string `json:"closed_at"`
	URL        string  `json:"url"`
	Source     string  `json:"source"`
	RawID      string  `json:"raw_id"`
	Version    uint64  `json:"version"`
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func optTime(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := t.UTC().Format(timeLayout)
	return &s
}

// InsertContributions writes a batch of contributions in one INSERT. Repeats of an id are
// harmless: the newest version wins.
func (s *Store) InsertContributions(ctx context.Context, cs []events.Contribution) error {
	if len(cs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	buf.Grow(len(cs) * 400)
	buf.WriteString("INSERT INTO contributions (id, kind, occurred_at, actor_login, employee_id, team, repo, repo_owner, is_upstream, number, title, state, merged, merged_at, closed_at, url, source, raw_id, version) FORMAT JSONEachRow\n")
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range cs {
		c := &cs[i]
		row := contributionRow{
			ID: c.ID, Kind: c.Kind, OccurredAt: c.OccurredAt.UTC().Format(timeLayout),
			ActorLogin: c.ActorLogin, EmployeeID: c.EmployeeID, Team: c.Team,
			Repo: c.Repo, RepoOwner: c.RepoOwner, IsUpstream: b2u(c.IsUpstream),
			Number: c.Number, Title: c.Title, State: c.State, Merged: b2u(c.Merged),
			MergedAt: optTime(c.MergedAt), ClosedAt: optTime(c.ClosedAt), URL: c.URL,
			Source: c.Source, RawID: c.RawID, Version: c.Version,
		}
		if err := enc.Encode(&row); err != nil {
			return fmt.Errorf("store: encode contribution %s: %w", c.ID, err)
		}
	}
	if err := s.conn.Exec(ctx, buf.String()); err != nil {
		return fmt.Errorf("store: insert %d contributions: %w", len(cs), err)
	}
	return nil
}

type rawRow struct {
	Source    string `json:"source"`
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	FetchedAt string `json:"fetched_at"`
	Origin    string `json:"origin"`
	Payload   string `json:"payload"`
}

// InsertRaw writes a batch of raw records to raw_events in one INSERT.
func (s *Store) InsertRaw(ctx context.Context, rs []events.Raw) error {
	if len(rs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	buf.WriteString("INSERT INTO raw_events (source, kind, id, fetched_at, origin, payload) FORMAT JSONEachRow\n")
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range rs {
		r := &rs[i]
		row := rawRow{Source: r.Source, Kind: r.Kind, ID: r.ID, FetchedAt: r.FetchedAt.UTC().Format(timeLayout), Origin: r.Origin, Payload: string(r.Payload)}
		if err := enc.Encode(&row); err != nil {
			return fmt.Errorf("store: encode raw %s: %w", r.ID, err)
		}
	}
	if err := s.conn.Exec(ctx, buf.String()); err != nil {
		return fmt.Errorf("store: insert %d raw events: %w", len(rs), err)
	}
	return nil
}
