package report

import (
	"context"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// TestFreshness: the time of the newest data every page shows is the newest contribution made
// and the newest stored, as reading every row gives them, after each write; nothing stored
// gives zero times, and so does a store whose every row was deleted.
func TestFreshness(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	if fr, err := freshness(ctx, st); err != nil || !fr.Occurred.IsZero() || !fr.Stored.IsZero() {
		t.Fatalf("an empty store: %+v (%v), want zero times", fr, err)
	}
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	var lastStored time.Time
	for batch := range 3 {
		var cs []events.Contribution
		for i := range 4 {
			// Each batch has older work than the one before, and one row of it newer than all.
			occurred := at.AddDate(0, -batch, -i)
			if i == 3 {
				occurred = at.AddDate(0, 0, batch)
			}
			cs = append(cs, events.Contribution{ID: "commit:" + occurred.Format(time.DateTime), Kind: events.KindCommit, OccurredAt: occurred,
				ActorLogin: "ann", EmployeeID: "e1", Team: "core", Repo: "golang/go", RepoOwner: "golang", IsUpstream: true,
				Destination: "upstream", Source: events.SourceGHArchive, Version: 1})
		}
		time.Sleep(5 * time.Millisecond) // stored_at is kept to the millisecond
		if err := st.InsertContributions(ctx, cs); err != nil {
			t.Fatal(err)
		}
		fr, err := freshness(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Query(ctx, "SELECT toUnixTimestamp64Milli(max(occurred_at)), toUnixTimestamp64Milli(max(stored_at)) FROM contributions", nil)
		if err != nil {
			t.Fatal(err)
		}
		made, stored := time.UnixMilli(store.AsInt(res.Rows[0][0])).UTC(), time.UnixMilli(store.AsInt(res.Rows[0][1])).UTC()
		if !fr.Occurred.Equal(made) || !fr.Stored.Equal(stored) || !fr.Stored.After(lastStored) {
			t.Fatalf("batch %d: freshness %+v, want made %s and stored %s (after %s)", batch, fr, made, stored, lastStored)
		}
		lastStored = fr.Stored
	}
	if err := st.DeleteContributionsOf(ctx, []string{"ann"}); err != nil {
		t.Fatal(err)
	}
	if fr, err := freshness(ctx, st); err != nil || !fr.Occurred.IsZero() || !fr.Stored.IsZero() {
		t.Fatalf("every row deleted: %+v (%v), want zero times", fr, err)
	}
}
