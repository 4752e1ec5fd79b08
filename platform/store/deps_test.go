package store_test

import (
	"context"
	"reflect"
	"testing"

	"giveback.dev/platform/deps"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

func TestReplaceDependencies(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()

	// Before any import the list is empty.
	if cur, err := s.CurrentDependencies(ctx); err != nil || len(cur) != 0 {
		t.Fatalf("before import: %v %v", cur, err)
	}
	if _, _, ok, err := s.ListDependencies(ctx); ok || err != nil {
		t.Fatalf("before import: ok %v err %v", ok, err)
	}

	// A real import, from the parsers' test documents.
	ms, errs := deps.Load([]string{"../deps/testdata/good"})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	ds, unmapped := deps.Aggregate(ms)
	if err := s.ReplaceDependencies(ctx, "imp-1", len(ms), ds, unmapped); err != nil {
		t.Fatal(err)
	}
	cur, err := s.CurrentDependencies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != len(ds) || cur["nats-io/nats.go"] != 3 || cur["golang/sync"] != 2 || cur["psf/requests"] != 1 {
		t.Fatalf("after first import: %v", cur)
	}
	list, imp, ok, err := s.ListDependencies(ctx)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if imp.ID != "imp-1" || imp.Files != 5 || imp.Unmapped != len(unmapped) || imp.ImportedAt.IsZero() {
		t.Errorf("import %+v", imp)
	}
	if !reflect.DeepEqual(list[0], ds[0]) {
		t.Errorf("first listed %+v, want %+v", list[0], ds[0])
	}
	res, err := s.Query(ctx, "SELECT count() FROM current_unmapped_packages", nil)
	if err != nil || store.AsInt(res.Rows[0][0]) != int64(len(unmapped)) {
		t.Fatalf("current_unmapped_packages: %v %v", res, err)
	}

	// A re-import replaces the list: a repository that is gone disappears, a criticality changes.
	second := []deps.Dependency{
		{Repo: "nats-io/nats.go", Packages: []string{"golang:github.com/nats-io/nats.go"}, Services: []string{"ledger"}, Criticality: 1},
		{Repo: "kubernetes/kubernetes", Packages: []string{"golang:k8s.io/kubernetes"}, Services: []string{"a", "b"}, Criticality: 2},
	}
	if err := s.ReplaceDependencies(ctx, "imp-2", 1, second, nil); err != nil {
		t.Fatal(err)
	}
	// Retrying the same import duplicates nothing.
	if err := s.ReplaceDependencies(ctx, "imp-2", 1, second, nil); err != nil {
		t.Fatal(err)
	}
	cur, err = s.CurrentDependencies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"nats-io/nats.go": 1, "kubernetes/kubernetes": 2}; !reflect.DeepEqual(cur, want) {
		t.Fatalf("after re-import: %v, want %v", cur, want)
	}
	list, imp, _, err = s.ListDependencies(ctx)
	if err != nil || imp.ID != "imp-2" || len(list) != 2 || list[0].Repo != "kubernetes/kubernetes" || !reflect.DeepEqual(list[0].Services, []string{"a", "b"}) {
		t.Fatalf("list after re-import: %+v %+v %v", list, imp, err)
	}
	res, err = s.Query(ctx, "SELECT count() FROM current_unmapped_packages", nil)
	if err != nil || store.AsInt(res.Rows[0][0]) != 0 {
		t.Fatalf("current_unmapped_packages after re-import: %v %v", res, err)
	}

	// Rows written by an import that never got recorded (it failed before its last insert) are
	// not seen: the recorded import stays current.
	if err := s.Conn().Exec(ctx, "INSERT INTO dependencies (repo, packages, services, criticality, imported_at, import_id) VALUES ('nats-io/nats.go', [], ['x','y','z','w'], 4, now64(3), 'imp-3-failed')"); err != nil {
		t.Fatal(err)
	}
	cur, err = s.CurrentDependencies(ctx)
	if err != nil || cur["nats-io/nats.go"] != 1 || len(cur) != 2 {
		t.Fatalf("with an unrecorded import: %v %v", cur, err)
	}

	// An empty import is a valid, empty list.
	if err := s.ReplaceDependencies(ctx, "imp-4", 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	if cur, err := s.CurrentDependencies(ctx); err != nil || len(cur) != 0 {
		t.Fatalf("after empty import: %v %v", cur, err)
	}
}

func TestContributionClassColumns(t *testing.T) {
	s := testkit.Store(t)
	res, err := s.Query(context.Background(), "SELECT name, type, default_expression FROM system.columns WHERE database = currentDatabase() AND table = 'contributions' AND name IN ('destination', 'foundation', 'is_dependency', 'dependency_criticality') ORDER BY name", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, store.AsString(r[0])+" "+store.AsString(r[1]))
	}
	want := []string{"dependency_criticality UInt32", "destination LowCardinality(String)", "foundation LowCardinality(String)", "is_dependency UInt8"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("columns %v, want %v", got, want)
	}
}
