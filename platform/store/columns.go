package store

import (
	"context"
	"fmt"
	"strings"

	"giveback.dev/platform/events"
)

// ContributionColumn is one column of the contributions table that InsertContributions writes.
// Name is the column's name and also the JSON name of the events.Contribution field it holds;
// Type is its ClickHouse type once every migration has run, as DESCRIBE shows it.
type ContributionColumn struct {
	Name  string
	Type  string
	write func(w *tsv, c *events.Contribution)
}

// ContributionColumns is the one definition of a contributions row: the columns that
// InsertContributions writes, in the table's order, and how each value is written. The INSERT's
// column list and every TabSeparated row are made from it, and tests hold it against
// DESCRIBE contributions, the struct's fields and schemas/events/contribution.json. A new
// contribution field is a line here, a migration that adds its column, and its property in the
// JSON Schema. The table's stored_at is left to its default (the time of the insert).
var ContributionColumns = []ContributionColumn{
	{"id", "String", func(w *tsv, c *events.Contribution) { w.str(c.ID) }},
	{"kind", "LowCardinality(String)", func(w *tsv, c *events.Contribution) { w.str(c.Kind) }},
	{"occurred_at", "DateTime64(3, 'UTC')", func(w *tsv, c *events.Contribution) { w.time(c.OccurredAt) }},
	{"actor_login", "String", func(w *tsv, c *events.Contribution) { w.str(c.ActorLogin) }},
	{"employee_id", "LowCardinality(String)", func(w *tsv, c *events.Contribution) { w.str(c.EmployeeID) }},
	{"team", "LowCardinality(String)", func(w *tsv, c *events.Contribution) { w.str(c.Team) }},
	{"repo", "String", func(w *tsv, c *events.Contribution) { w.str(c.Repo) }},
	{"repo_owner", "LowCardinality(String)", func(w *tsv, c *events.Contribution) { w.str(c.RepoOwner) }},
	{"is_upstream", "UInt8", func(w *tsv, c *events.Contribution) { w.bool(c.IsUpstream) }},
	{"number", "UInt32", func(w *tsv, c *events.Contribution) { w.uint(uint64(max(c.Number, 0))) }},
	{"title", "String", func(w *tsv, c *events.Contribution) { w.str(c.Title) }},
	{"state", "LowCardinality(String)", func(w *tsv, c *events.Contribution) { w.str(c.State) }},
	{"merged", "UInt8", func(w *tsv, c *events.Contribution) { w.bool(c.Merged) }},
	{"merged_at", "Nullable(DateTime64(3, 'UTC'))", func(w *tsv, c *events.Contribution) { w.optTime(c.MergedAt) }},
	{"closed_at", "Nullable(DateTime64(3, 'UTC'))", func(w *tsv, c *events.Contribution) { w.optTime(c.ClosedAt) }},
	{"url", "String", func(w *tsv, c *events.Contribution) { w.str(c.URL) }},
	{"source", "LowCardinality(String)", func(w *tsv, c *events.Contribution) { w.str(c.Source) }},
	{"raw_id", "String", func(w *tsv, c *events.Contribution) { w.str(c.RawID) }},
	{"version", "UInt64", func(w *tsv, c *events.Contribution) { w.uint(c.Version) }},
	{"destination", "LowCardinality(String)", func(w *tsv, c *events.Contribution) { w.str(c.Destination) }},
	{"foundation", "LowCardinality(String)", func(w *tsv, c *events.Contribution) { w.str(c.Foundation) }},
	{"is_dependency", "UInt8", func(w *tsv, c *events.Contribution) { w.bool(c.IsDependency) }},
	{"dependency_criticality", "UInt32", func(w *tsv, c *events.Contribution) { w.uint(uint64(max(c.DependencyCriticality, 0))) }},
	{"author_email", "String", func(w *tsv, c *events.Contribution) { w.str(c.AuthorEmail) }},
	{"additions", "UInt32", func(w *tsv, c *events.Contribution) { w.uint(uint64(max(c.Additions, 0))) }},
	{"deletions", "UInt32", func(w *tsv, c *events.Contribution) { w.uint(uint64(max(c.Deletions, 0))) }},
	{"changed_files", "UInt32", func(w *tsv, c *events.Contribution) { w.uint(uint64(max(c.ChangedFiles, 0))) }},
	{"first_response_at", "Nullable(DateTime64(3, 'UTC'))", func(w *tsv, c *events.Contribution) { w.optTime(c.FirstResponseAt) }},
}

// ContributionFieldsNotStored names the events.Contribution fields (by JSON name) that have no
// column, each with the reason.
var ContributionFieldsNotStored = map[string]string{
	"schema":       "the message's contract version, not a property of the contribution",
	"repo_fork":    "what the record said of the repository, read to classify destination, which is stored",
	"repo_private": "what the record said of the repository, read to classify destination, which is stored",
}

// insertContributions is the head of InsertContributions' statement, made from ContributionColumns.
var insertContributions = "INSERT INTO contributions (" + contributionColumnList() + ") FORMAT TabSeparated\n"

func contributionColumnList() string {
	names := make([]string, len(ContributionColumns))
	for i, col := range ContributionColumns {
		names[i] = col.Name
	}
	return strings.Join(names, ", ")
}

// encodeContributions returns InsertContributions' statement: its head and one TabSeparated row
// per contribution.
func encodeContributions(cs []events.Contribution) []byte {
	w := tsv{b: make([]byte, 0, len(insertContributions)+len(cs)*300)}
	w.b = append(w.b, insertContributions...)
	for i := range cs {
		for j := range ContributionColumns {
			ContributionColumns[j].write(&w, &cs[i])
		}
		w.end()
	}
	return w.b
}

// ColumnValue is a column of contributions and the SQL expression that gives its value.
type ColumnValue struct {
	Column string
	Expr   string
}

// InsertContributionsSelect fills contributions from a SELECT of the given expressions over
// from (a table or a table function, such as numbers(0, 1000)), in one INSERT … SELECT; the
// columns not named keep their defaults. It returns an error naming a column that
// ContributionColumns does not hold, or one named twice, before anything is sent.
func (s *Store) InsertContributionsSelect(ctx context.Context, values []ColumnValue, from string) error {
	known := make(map[string]bool, len(ContributionColumns))
	for _, col := range ContributionColumns {
		known[col.Name] = true
	}
	names := make([]string, len(values))
	exprs := make([]string, len(values))
	seen := make(map[string]bool, len(values))
	for i, v := range values {
		if !known[v.Column] {
			return fmt.Errorf("store: insert contributions: %q is not a column of contributions (see store.ContributionColumns)", v.Column)
		}
		if seen[v.Column] {
			return fmt.Errorf("store: insert contributions: column %q is given twice", v.Column)
		}
		seen[v.Column] = true
		names[i], exprs[i] = v.Column, v.Expr
	}
	q := "INSERT INTO contributions (" + strings.Join(names, ", ") + ")\nSELECT\n    " + strings.Join(exprs, ",\n    ") + "\nFROM " + from
	if err := s.conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("store: insert contributions from %s: %w", from, err)
	}
	return nil
}
