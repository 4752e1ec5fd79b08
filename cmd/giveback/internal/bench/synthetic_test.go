package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// The synthetic rows insert into the contributions table as migrated: every id once, a
// twentieth of them at version 2, every column the statement names a column of the table.
func TestSyntheticRows(t *testing.T) {
	st := testkit.Store(t)
	b := &bench{store: st}
	ctx := context.Background()
	if err := b.syntheticRows(ctx, 0, 2000); err != nil {
		t.Fatal(err)
	}
	res, err := st.Query(ctx, "SELECT uniqExact(id), countIf(version = 2), countIf(employee_id != ''), uniqExact(team) FROM contributions FINAL", nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, newer, employees, teams := store.AsInt(res.Rows[0][0]), store.AsInt(res.Rows[0][1]), store.AsInt(res.Rows[0][2]), store.AsInt(res.Rows[0][3])
	if ids != 2000 || newer != 100 || employees == 0 || employees == ids || teams != 26 { // 25 and none
		t.Errorf("%d ids, %d at version 2, %d of employees, %d teams; want 2000, 100, some and 26", ids, newer, employees, teams)
	}
	// is_upstream follows the destination, as enrich sets it, and personal work is there.
	res, err = st.Query(ctx, "SELECT countIf(is_upstream != (destination = 'upstream')), countIf(destination = 'personal'), countIf(destination = 'upstream') FROM contributions FINAL", nil)
	if err != nil {
		t.Fatal(err)
	}
	if off, personal, upstream := store.AsInt(res.Rows[0][0]), store.AsInt(res.Rows[0][1]), store.AsInt(res.Rows[0][2]); off != 0 || personal == 0 || upstream <= personal {
		t.Errorf("%d rows with is_upstream off its destination, %d personal, %d upstream; want 0, some, more", off, personal, upstream)
	}
	// Every destination is there, and a repository's owner is the first part of its name.
	res, err = st.Query(ctx, "SELECT uniqExact(destination), countIf(repo_owner != splitByChar('/', repo)[1]), countIf(destination = 'fork' AND repo_owner != actor_login), countIf(employee_id = '' AND destination != 'company_oss') FROM contributions FINAL", nil)
	if err != nil {
		t.Fatal(err)
	}
	if dests, badOwner, badFork, outside := store.AsInt(res.Rows[0][0]), store.AsInt(res.Rows[0][1]), store.AsInt(res.Rows[0][2]), store.AsInt(res.Rows[0][3]); dests != 5 || badOwner != 0 || badFork != 0 || outside != 0 {
		t.Errorf("%d destinations, %d owners off the repository, %d forks not the actor's, %d outside rows off the company's open source; want 5, 0, 0, 0", dests, badOwner, badFork, outside)
	}
	// The dependency flags are those of the dependency list: every flagged row's repository is
	// on it with the row's criticality, every row of a listed repository is flagged, and some are.
	res, err = st.Query(ctx, `SELECT countIf(c.is_dependency = 1), countIf(c.is_dependency != (d.repo != '') OR c.dependency_criticality != d.criticality),
    (SELECT count() FROM current_dependencies)
FROM (SELECT * FROM contributions FINAL) AS c LEFT JOIN current_dependencies AS d ON d.repo = lower(c.repo)`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if flagged, off, listed := store.AsInt(res.Rows[0][0]), store.AsInt(res.Rows[0][1]), store.AsInt(res.Rows[0][2]); flagged == 0 || off != 0 || listed != 500 {
		t.Errorf("%d rows flagged, %d off the list, %d dependencies; want some, 0, 500", flagged, off, listed)
	}
}

// A column the table does not have stops the bench before it runs a statement.
func TestSyntheticColumnsAreTheTables(t *testing.T) {
	saved := syntheticColumns
	t.Cleanup(func() { syntheticColumns = saved })
	syntheticColumns = append(append([]syntheticColumn(nil), saved...), syntheticColumn{"no_such_column", "1"})
	if _, err := syntheticInsert(time.Now(), 0, 1); err == nil || !strings.Contains(err.Error(), "no_such_column") {
		t.Fatalf("err %v, want one naming the unknown column", err)
	}
}
