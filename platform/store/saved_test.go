package store_test

import (
	"context"
	"testing"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// TestSavedQueries saves, replaces, lists and deletes saved queries; a replaced or deleted query
// leaves no second row in what readers see, merged or not.
func TestSavedQueries(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	if err := st.Conn().Exec(ctx, "SYSTEM STOP MERGES saved_queries"); err != nil {
		t.Logf("cannot stop merges: %v", err)
	}
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	def := "core"
	q := store.SavedQuery{Name: "by-team", Description: "first", SQL: "SELECT {team:String}",
		Params: []store.SavedParam{{Name: "team", Type: "String", Default: &def}}, Author: "alice"}
	if err := st.SaveQuery(ctx, q, now); err != nil {
		t.Fatal(err)
	}
	q.Description, q.Author = "second, it's better", "bob"
	if err := st.SaveQuery(ctx, q, now); err != nil { // the same millisecond: the later save wins
		t.Fatal(err)
	}
	if err := st.SaveQuery(ctx, store.SavedQuery{Name: "all", SQL: "SELECT 1"}, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	list, err := st.SavedQueries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "all" || list[1].Description != "second, it's better" || list[1].Author != "bob" ||
		len(list[1].Params) != 1 || *list[1].Params[0].Default != "core" || !list[1].UpdatedAt.Equal(now) || list[0].Params == nil {
		t.Fatalf("listed %+v", list)
	}
	ok, err := st.DeleteSavedQuery(ctx, "by-team", "carol", now.Add(time.Minute))
	if err != nil || !ok {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if ok, err := st.DeleteSavedQuery(ctx, "by-team", "carol", now.Add(time.Hour)); err != nil || ok {
		t.Fatalf("delete again: %v %v", ok, err)
	}
	if _, found, err := st.SavedQuery(ctx, "by-team"); err != nil || found {
		t.Fatalf("a deleted query is found: %v %v", found, err)
	}
	// Saved again after its deletion, it is back.
	if err := st.SaveQuery(ctx, q, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, found, err := st.SavedQuery(ctx, "by-team"); err != nil || !found || got.Author != "bob" {
		t.Fatalf("saved again: %+v %v %v", got, found, err)
	}
}
