//go:build chdb

package store

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// decodeJSONCompact gives each ClickHouse value the Go type the metrics read it as: integers as
// int64 (uint64 past int64), other numbers as float64, strings, nulls as nil, arrays as []any and
// maps as map[string]any, numbers inside them too; and no output, or no rows, as empty rows.
func TestDecodeJSONCompact(t *testing.T) {
	buf := []byte(`{"meta": [{"name": "n", "type": "UInt64"}, {"name": "s", "type": "String"}, {"name": "f", "type": "Float64"},
 {"name": "z", "type": "Nullable(Int32)"}, {"name": "a", "type": "Array(UInt8)"}, {"name": "m", "type": "Map(String, Int64)"}],
 "data": [[18446744073709551615, "e1", 0.5, null, [1, 2], {"k": -3}], [-7, "", 1e300, 4, [], {}]],
 "rows": 2, "statistics": {"elapsed": 0.001}}`)
	got, err := decodeJSONCompact(buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Columns) != 6 || got.Columns[0].Name != "n" || got.Columns[5].Type != "Map(String, Int64)" {
		t.Errorf("columns: %+v", got.Columns)
	}
	want := [][]any{
		{uint64(18446744073709551615), "e1", 0.5, nil, []any{int64(1), int64(2)}, map[string]any{"k": int64(-3)}},
		{int64(-7), "", 1e300, int64(4), []any{}, map[string]any{}},
	}
	if !reflect.DeepEqual(got.Rows, want) {
		t.Errorf("rows:\n got %#v\nwant %#v", got.Rows, want)
	}
	for _, empty := range []string{"", "  \n", `{"meta": [{"name": "n", "type": "UInt8"}], "data": [], "rows": 0}`} {
		res, err := decodeJSONCompact([]byte(empty))
		if err != nil || res.Rows == nil || len(res.Rows) != 0 || res.Columns == nil {
			t.Errorf("%q: %+v, %v; want no rows, not nil", empty, res, err)
		}
	}
	for _, bad := range []string{`{"data": [[1], null]}`, `{"data": [[1]`, `{"data": 3}`} {
		if _, err := decodeJSONCompact([]byte(bad)); err == nil {
			t.Errorf("%q decoded without an error", bad)
		}
	}
}

// BenchmarkDecodeJSONCompact decodes a result of the size the overview's newcomers statement
// returns at 10M contributions: 12,000 rows of a login, two dates and two numbers.
func BenchmarkDecodeJSONCompact(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"meta": [{"name": "employee_id", "type": "String"}, {"name": "month", "type": "Date"}, {"name": "contributions", "type": "UInt64"}, {"name": "is_new", "type": "UInt8"}, {"name": "first_month", "type": "Date"}], "data": [`)
	for i := range 12000 {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, `["e%d", "2026-%02d-01", %d, %d, "2024-12-01"]`, i/12, 1+i%12, 150+i%97, i%2)
	}
	sb.WriteString(`], "rows": 12000}`)
	buf := []byte(sb.String())
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if res, err := decodeJSONCompact(buf); err != nil || len(res.Rows) != 12000 {
			b.Fatal(len(res.Rows), err)
		}
	}
}
