package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// TestServerValuesAsChDB: the values a ClickHouse server hands the driver, converted by plain
// with their column types, are those chDB's output decodes to, as the API writes them: a metric
// reads a day, a time or a list the same on both engines. chDB gives the types and the values;
// the driver's are built as it scans them (time.Time, pointers for Nullable, slices and maps).
func TestServerValuesAsChDB(t *testing.T) {
	s := testkit.Store(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	frac := at.Add(678 * time.Millisecond)
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	res, err := s.Query(context.Background(), `SELECT toDate('2026-01-02') AS d, toDate32('2026-01-02') AS d32,
    toDateTime('2026-01-02 03:04:05', 'UTC') AS dt, toDateTime64('2026-01-02 03:04:05', 3, 'UTC') AS whole,
    toDateTime64('2026-01-02 03:04:05.678', 3, 'UTC') AS ms, toDateTime64('2026-01-02 03:04:05.678', 6, 'UTC') AS us,
    toNullable(toDate('2026-01-02')) AS nd, CAST(NULL AS Nullable(Date)) AS none, [toDate('2026-01-02')] AS days,
    map('k', toDateTime64('2026-01-02 03:04:05', 3, 'UTC')) AS times, toLowCardinality('x') AS lc, toUInt64(5) AS n, 0.5 AS half`, nil)
	if err != nil {
		t.Fatal(err)
	}
	driver := []any{day, day, at, at, frac, frac, &day, (*time.Time)(nil), []time.Time{day}, map[string]time.Time{"k": at}, "x", uint64(5), 0.5}
	if len(res.Rows) != 1 || len(res.Columns) != len(driver) {
		t.Fatalf("got %d rows of %d columns", len(res.Rows), len(res.Columns))
	}
	for i, c := range res.Columns {
		got, err := json.Marshal(store.ServerValue(reflect.ValueOf(driver[i]), c.Type))
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(res.Rows[0][i])
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s %s: the server's value reads %s, chDB's %s", c.Name, c.Type, got, want)
		}
	}
}
