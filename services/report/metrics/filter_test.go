package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestBindQuotesTheTeam(t *testing.T) {
	f := Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC),
		Team: `x' OR 1=1 -- \`, Upstream: UpstreamOnly}
	got := f.bind("WHERE occurred_at >= {from} AND occurred_at < {to}{filter} LIMIT {limit}", 5)
	want := `WHERE occurred_at >= toDateTime64('2025-01-01 00:00:00', 3, 'UTC') AND occurred_at < toDateTime64('2025-02-01 00:00:00', 3, 'UTC') AND employee_id != '' AND team = 'x\' OR 1=1 -- \\' AND is_upstream = 1 LIMIT 5`
	if got != want {
		t.Fatalf("bind:\n got %s\nwant %s", got, want)
	}
}

func TestMonths(t *testing.T) {
	f := Filter{From: time.Date(2024, 11, 15, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	var got []string
	for _, m := range f.Months() {
		got = append(got, m.Format("2006-01"))
	}
	if strings.Join(got, " ") != "2024-11 2024-12 2025-01 2025-02" {
		t.Fatalf("months %v", got)
	}
}

func TestStatementsHaveNoTrailingComment(t *testing.T) {
	// The driver appends a SETTINGS clause; a statement ending in a comment would swallow it.
	for _, st := range Statements() {
		last := st.SQL[strings.LastIndex(st.SQL, "\n")+1:]
		if strings.Contains(last, "--") || strings.Contains(st.SQL, ";") {
			t.Errorf("%s ends with a comment or holds a semicolon", st.Name)
		}
	}
}
