package reports

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report/metrics"
)

// The new projects from the rollups equal those of sqlNewProjects over contributions FINAL, for
// periods cut at both ends and whole months, each team and upstream choice: with every month
// rolled up, with a month written since (read from contributions FINAL), and once it is rebuilt.
// The fixture has repositories first reached before, at the start of, inside and after the
// periods, a repository spelt two ways, an outside contributor's rows and internal work.
func TestNewProjectsRolledEqualsPlain(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	day := func(m time.Month, d, h int) time.Time { return time.Date(2025, m, d, h, 0, 0, 0, time.UTC) }
	type row struct {
		repo, login, emp, team string
		at                     time.Time
		upstream               bool
	}
	rows := []row{
		{"old/lib", "ann", "e1", "core", day(1, 3, 9), true}, {"old/lib", "ann", "e1", "core", day(2, 10, 9), true},
		{"feb/start", "bob", "e2", "core", day(2, 1, 0), true}, {"feb/start", "carol", "e3", "web", day(2, 20, 8), true},
		{"mid/feb", "carol", "e3", "web", day(2, 14, 23), true}, {"Mid/Feb", "ann", "e1", "core", day(3, 2, 1), true},
		{"late/jan", "bob", "e2", "core", day(1, 31, 23), true}, {"late/jan", "bob", "e2", "core", day(2, 2, 2), true},
		{"march/only", "ann", "e1", "core", day(3, 15, 12), true}, {"web/first", "carol", "e3", "web", day(2, 5, 5), true},
		{"web/first", "ann", "e1", "core", day(1, 20, 5), true}, {"acme/internal", "ann", "e1", "core", day(2, 6, 6), false},
		{"outside/only", "zed", "", "", day(2, 7, 7), true},
	}
	var cs []events.Contribution
	for i, r := range rows {
		owner, _, _ := strings.Cut(r.repo, "/")
		dest := "upstream"
		if !r.upstream {
			dest = "internal"
		}
		cs = append(cs, events.Contribution{ID: fmt.Sprintf("commit:%d", i), Kind: events.KindCommit, OccurredAt: r.at, ActorLogin: r.login,
			EmployeeID: r.emp, Team: r.team, Repo: r.repo, RepoOwner: owner, IsUpstream: r.upstream, Destination: dest,
			Source: events.SourceGHArchive, Version: 1})
	}
	if err := st.InsertContributions(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RefreshRollups(ctx); err != nil {
		t.Fatal(err)
	}
	filters := []metrics.Filter{
		{From: day(2, 1, 0), To: day(2, 28, 0), Upstream: metrics.UpstreamOnly},
		{From: day(2, 1, 0), To: day(3, 31, 0), Upstream: metrics.UpstreamAll},
		{From: day(2, 14, 0), To: day(3, 10, 0), Upstream: metrics.UpstreamAll},
		{From: day(2, 14, 0), To: day(3, 10, 0), Team: "core", Upstream: metrics.UpstreamOnly},
		{From: day(2, 2, 0), To: day(2, 20, 0), Team: "web", Upstream: metrics.UpstreamAll},
		{From: day(1, 1, 0), To: day(1, 31, 0), Upstream: metrics.UpstreamInternal},
	}
	check := func(stage string, wantRolled bool) {
		t.Helper()
		for _, f := range filters {
			var got [2][][]any
			for i, c := range []context.Context{ctx, metrics.WithoutRollups(ctx)} {
				sql, err := metrics.BindRolled(c, st, sqlNewProjects, sqlNewProjectsRolled, f)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 && strings.Contains(sql, "repos_rollup") != wantRolled {
					t.Fatalf("%s: the statement reads repos_rollup: %v, want %v", stage, !wantRolled, wantRolled)
				}
				res, err := st.Query(ctx, sql, metrics.Settings)
				if err != nil {
					t.Fatalf("%s: %v", stage, err)
				}
				got[i] = res.Rows
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Errorf("%s, %s–%s team %q upstream %s:\nrollups %v\nFINAL   %v", stage, f.From.Format(time.DateOnly), f.To.Format(time.DateOnly), f.Team, f.Upstream, got[0], got[1])
			}
		}
	}
	check("rolled up", true)
	// The headline case: in February, for every team, upstream only, the new projects are
	// those first reached in February.
	sql, err := metrics.BindRolled(ctx, st, sqlNewProjects, sqlNewProjectsRolled, filters[0])
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Query(ctx, sql, metrics.Settings)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Rows); got != "[[feb/start 2] [mid/feb 1]]" {
		t.Errorf("new projects in February: %s", got)
	}

	// A contribution to march/only in January: March is stale, January too; then rebuilt.
	more := cs[8]
	more.ID, more.OccurredAt = "commit:more", day(1, 12, 12)
	if err := st.InsertContributions(ctx, []events.Contribution{more}); err != nil {
		t.Fatal(err)
	}
	check("a month written since", true)
	if _, err := st.RefreshRollups(ctx); err != nil {
		t.Fatal(err)
	}
	check("rebuilt", true)
	// A filter the rollups do not hold reads contributions FINAL.
	if sql, err := metrics.BindRolled(ctx, st, sqlNewProjects, sqlNewProjectsRolled, metrics.Filter{From: day(2, 1, 0), To: day(2, 28, 0), Upstream: metrics.UpstreamAll, Repo: "old/lib"}); err != nil || strings.Contains(sql, "repos_rollup") {
		t.Errorf("one repository: %v, reads the rollups: %v", err, strings.Contains(sql, "repos_rollup"))
	}
}

// The merged pull requests of a period read from the months prs_rollup names (and every month not
// rolled up) equal those read from the whole history: pull requests merged in the month they were
// opened in, months later and across a year's end, by two teams, upstream and internal, an
// outside contributor's and one still open; with every month rolled up, and with the month of
// opening re-attributed since (read from contributions FINAL).
func TestMergedPRsFromTheirMonthsEqualWholeHistory(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }
	type pr struct {
		n                int
		emp, team, login string
		upstream         bool
		opened, merged   time.Time
	}
	prs := []pr{
		{1, "e1", "core", "ann", true, at(2025, 1, 10), at(2025, 2, 5)},
		{2, "e1", "core", "ann", true, at(2025, 2, 3), at(2025, 2, 20)},
		{3, "e1", "core", "ann", true, at(2025, 2, 25), at(2025, 3, 3)},
		{4, "e1", "core", "ann", true, at(2024, 12, 20), at(2025, 2, 10)},
		{5, "e2", "web", "bob", false, at(2025, 1, 20), at(2025, 2, 14)},
		{6, "e2", "web", "bob", true, at(2025, 3, 1), at(2025, 3, 2)},
		{7, "", "", "zed", true, at(2025, 2, 1), at(2025, 2, 2)},
		{8, "e1", "core", "ann", true, at(2025, 2, 6), time.Time{}},
	}
	var cs []events.Contribution
	for _, p := range prs {
		dest := "upstream"
		if !p.upstream {
			dest = "internal"
		}
		c := events.Contribution{ID: fmt.Sprintf("pull_request:%d", p.n), Kind: events.KindPullRequest, OccurredAt: p.opened, ActorLogin: p.login,
			EmployeeID: p.emp, Team: p.team, Repo: "up/lib", RepoOwner: "up", IsUpstream: p.upstream, Destination: dest, Number: p.n,
			Title: fmt.Sprintf("change %d", p.n), Additions: 10 * p.n, State: "open", Source: events.SourceGHArchive, Version: 1}
		if !p.merged.IsZero() {
			m := p.merged
			c.Merged, c.MergedAt, c.State = true, &m, "closed"
		}
		cs = append(cs, c)
	}
	// ann's first contribution to the project, before any of her pull requests.
	cs = append(cs, events.Contribution{ID: "commit:1", Kind: events.KindCommit, OccurredAt: at(2024, 11, 1), ActorLogin: "ann", EmployeeID: "e1",
		Team: "core", Repo: "up/lib", RepoOwner: "up", IsUpstream: true, Destination: "upstream", Source: events.SourceGHArchive, Version: 1})
	if err := st.InsertContributions(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RefreshRollups(ctx); err != nil {
		t.Fatal(err)
	}
	b := &builder{q: st, def: Definition{Name: "t"}}
	filters := []metrics.Filter{
		{From: at(2025, 2, 1).Truncate(24 * time.Hour), To: at(2025, 2, 28).Truncate(24 * time.Hour), Upstream: metrics.UpstreamOnly},
		{From: at(2025, 2, 1).Truncate(24 * time.Hour), To: at(2025, 3, 31).Truncate(24 * time.Hour), Upstream: metrics.UpstreamAll},
		{From: at(2025, 2, 1).Truncate(24 * time.Hour), To: at(2025, 2, 28).Truncate(24 * time.Hour), Team: "web", Upstream: metrics.UpstreamAll},
		{From: at(2025, 3, 1).Truncate(24 * time.Hour), To: at(2025, 3, 31).Truncate(24 * time.Hour), Team: "core", Upstream: metrics.UpstreamOnly},
	}
	check := func(stage string) {
		t.Helper()
		rows := 0
		for _, f := range filters {
			opened, err := metrics.MergedOpened(ctx, st, f)
			if err != nil {
				t.Fatal(err)
			}
			if opened == "1" {
				t.Fatalf("%s: every month is read although the rollups are built", stage)
			}
			got, err := b.mergedPRs(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := b.mergedPRs(metrics.WithoutRollups(ctx), f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Rows, want.Rows) {
				t.Errorf("%s, %s–%s team %q upstream %s:\nfrom their months %v\nwhole history      %v", stage, f.From.Format(time.DateOnly),
					f.To.Format(time.DateOnly), f.Team, f.Upstream, got.Rows, want.Rows)
			}
			rows += len(want.Rows)
		}
		if rows == 0 {
			t.Fatalf("%s: no merged pull request found: the comparison shows nothing", stage)
		}
	}
	check("rolled up")
	// Pull request 1 moves to web: January is read from contributions FINAL until rebuilt.
	moved := cs[0]
	moved.Team, moved.Version = "web", 2
	if err := st.InsertContributions(ctx, []events.Contribution{moved}); err != nil {
		t.Fatal(err)
	}
	check("January written since")
	if _, err := st.RefreshRollups(ctx); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
}
