package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
	"giveback.dev/schemas"
)

// tableOnly names the columns of contributions that InsertContributions leaves to their default.
var tableOnly = map[string]bool{"stored_at": true}

// The writer's columns are the table's, by name, order and type, once every migration has run;
// the table's other columns have a default.
func TestContributionColumnsMatchTheTable(t *testing.T) {
	s := testkit.Store(t)
	res, err := s.Query(context.Background(), "DESCRIBE TABLE contributions", nil)
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	for i, c := range res.Columns {
		idx[c.Name] = i
	}
	var table []string
	for _, r := range res.Rows {
		name := store.AsString(r[idx["name"]])
		if tableOnly[name] {
			if store.AsString(r[idx["default_type"]]) == "" {
				t.Errorf("column %s is left to its default but has none", name)
			}
			continue
		}
		table = append(table, name+" "+store.AsString(r[idx["type"]]))
	}
	var writer []string
	for _, c := range store.ContributionColumns {
		writer = append(writer, c.Name+" "+c.Type)
	}
	if !slices.Equal(writer, table) {
		t.Fatalf("store.ContributionColumns and DESCRIBE contributions differ\nwriter: %s\ntable:  %s",
			strings.Join(writer, ", "), strings.Join(table, ", "))
	}
}

// Every field of events.Contribution is a property of schemas/events/contribution.json, of the
// JSON type its Go type encodes to, and either a column of ContributionColumns or named in
// ContributionFieldsNotStored; a property the schema requires is always encoded.
func TestContributionStructSchemaAndColumnsAgree(t *testing.T) {
	data, err := schemas.Events.ReadFile("events/contribution.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			Type  string `json:"type"`
			Enum  []any  `json:"enum"`
			Const any    `json:"const"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	columns := map[string]bool{}
	for _, c := range store.ContributionColumns {
		if columns[c.Name] {
			t.Errorf("column %s is defined twice", c.Name)
		}
		columns[c.Name] = true
	}
	fields := map[string]bool{}
	typ := reflect.TypeFor[events.Contribution]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Errorf("field %s has no JSON name", f.Name)
			continue
		}
		fields[name] = true
		_, notStored := store.ContributionFieldsNotStored[name]
		if columns[name] == notStored {
			t.Errorf("field %s (%s) must be either a column of store.ContributionColumns or in store.ContributionFieldsNotStored", f.Name, name)
		}
		p, ok := schema.Properties[name]
		if !ok {
			t.Errorf("field %s (%s) is not a property of contribution.json", f.Name, name)
			continue
		}
		want := jsonType(f.Type)
		var got []string
		if p.Type != "" {
			got = append(got, p.Type)
		}
		for _, v := range append(p.Enum, p.Const) {
			if v != nil {
				got = append(got, jsonTypeOf(v))
			}
		}
		if len(got) == 0 {
			t.Errorf("property %s of contribution.json has neither a type, an enum nor a const", name)
		}
		for _, g := range got {
			if g != want {
				t.Errorf("property %s of contribution.json is %s; field %s encodes to %s", name, g, f.Name, want)
			}
		}
		if slices.Contains(schema.Required, name) && strings.Contains(opts, "omitempty") {
			t.Errorf("property %s is required by contribution.json but field %s omits it when empty", name, f.Name)
		}
	}
	var extra []string
	for name := range schema.Properties {
		if !fields[name] {
			extra = append(extra, name)
		}
	}
	for name := range columns {
		if !fields[name] {
			extra = append(extra, "column "+name)
		}
	}
	for name := range store.ContributionFieldsNotStored {
		if !fields[name] {
			extra = append(extra, "not stored "+name)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("no field of events.Contribution for: %s", strings.Join(extra, ", "))
	}
}

// jsonType is the JSON Schema type that encoding/json writes for a Go type.
func jsonType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	}
	return t.String()
}

// jsonTypeOf is the JSON Schema type of a decoded enum or const value.
func jsonTypeOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "integer"
	}
	return reflect.TypeOf(v).String()
}

// BenchmarkInsertContributions measures InsertContributions of one 10,000-row batch on the test
// store (chDB unless GIVEBACK_TEST_CLICKHOUSE_DSN is set): encoding, the engine's parsing and
// the write of a part, as enrich's batches pay them.
func BenchmarkInsertContributions(b *testing.B) {
	s := testkit.Store(b)
	ctx := context.Background()
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	cs := make([]events.Contribution, 10_000)
	for i := range cs {
		cs[i] = events.Contribution{ID: "pr:kubernetes/kubernetes#" + strconv.Itoa(100000+i), Kind: events.KindPullRequest,
			OccurredAt: at.Add(time.Duration(i) * time.Minute), ActorLogin: "user" + strconv.Itoa(i%2000), EmployeeID: "e" + strconv.Itoa(i%300),
			Team: "platform", Repo: "kubernetes/kubernetes", RepoOwner: "kubernetes", IsUpstream: true, Destination: "upstream",
			Number: 100000 + i, Title: "Fix the scheduler's preemption when a node is drained", State: "closed", Merged: true, MergedAt: &at,
			ClosedAt: &at, URL: "https://github.com/kubernetes/kubernetes/pull/" + strconv.Itoa(100000+i), Source: events.SourceGHArchive,
			RawID: strconv.Itoa(40000000000 + i), Version: uint64(i + 1), Additions: 120, Deletions: 30, ChangedFiles: 4}
	}
	for b.Loop() {
		if err := s.InsertContributions(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cs)), "ns/row")
}

// InsertContributionsSelect fills the named columns and leaves the others to their defaults; a
// column that contributions lacks, or one named twice, is refused by name before anything runs.
func TestInsertContributionsSelect(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	err := s.InsertContributionsSelect(ctx, []store.ColumnValue{
		{Column: "id", Expr: "concat('commit:a/b@', toString(number))"},
		{Column: "kind", Expr: "'commit'"},
		{Column: "occurred_at", Expr: "toDateTime64('2025-01-02 03:04:05', 3, 'UTC')"},
		{Column: "version", Expr: "number + 1"},
	}, "numbers(0, 3)")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Query(ctx, "SELECT count(), sum(version), any(title), countIf(merged_at IS NULL) FROM contributions", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Rows[0]; store.AsInt(r[0]) != 3 || store.AsInt(r[1]) != 6 || r[2] != "" || store.AsInt(r[3]) != 3 {
		t.Fatalf("got %v, want 3 rows, versions 1 to 3 and defaults elsewhere", r)
	}
	for _, tc := range []struct {
		values []store.ColumnValue
		want   string
	}{
		{[]store.ColumnValue{{Column: "id", Expr: "'x'"}, {Column: "stars", Expr: "1"}}, `"stars" is not a column`},
		{[]store.ColumnValue{{Column: "id", Expr: "'x'"}, {Column: "id", Expr: "'y'"}}, `"id" is given twice`},
	} {
		err := s.InsertContributionsSelect(ctx, tc.values, "numbers(0, 1)")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("InsertContributionsSelect(%v) = %v, want an error saying %s", tc.values, err, tc.want)
		}
	}
}
