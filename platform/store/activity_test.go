package store_test

import (
	"context"
	"testing"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

func TestProjectActivityRereadReplaces(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	hour := func(id string, n uint64) events.HourTotals {
		return events.HourTotals{Hour: id, Rows: []events.ActivityRow{
			{Day: "2025-01-01", Repo: "golang/go", Actor: "alice", Type: "PushEvent", Events: n},
			{Day: "2025-01-01", Repo: "golang/go", Actor: "bob\tx", Type: "IssuesEvent", Events: 1},
		}}
	}
	// Hours 15 and 16, then hour 15 read again: it replaces, it does not add.
	for _, batch := range [][]events.HourTotals{{hour("2025-01-01-15", 3), hour("2025-01-01-16", 2)}, {hour("2025-01-01-15", 3)}, nil} {
		if err := s.InsertProjectActivity(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Query(ctx, "SELECT sum(events), uniqExact(actor), toString(min(day)) FROM project_activity FINAL WHERE repo = 'golang/go'", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Rows[0]; store.AsInt(r[0]) != 7 || store.AsInt(r[1]) != 2 || store.AsString(r[2]) != "2025-01-01" {
		t.Fatalf("rows = %v", res.Rows)
	}
}
