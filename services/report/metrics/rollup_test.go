package metrics

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"giveback.dev/platform/deps"
	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// rollupFixture is three months of a small company: four employees in two teams (bob moves
// team later, dan contributes upstream only from February), an outside contributor, work to upstream, company, personal and fork
// repositories, pull requests decided in a later month than they were opened, and every pull
// request stored twice (open, then decided).
func rollupFixture() []events.Contribution {
	type person struct{ login, id, team string }
	people := []person{{"ann", "e1", "core"}, {"bob", "e2", "core"}, {"carol", "e3", "web"}, {"zed", "", ""}}
	repos := []struct{ repo, dest string }{
		{"kubernetes/kubernetes", "upstream"}, {"golang/go", "upstream"}, {"nats-io/nats.go", "upstream"},
		{"acme/billing", "internal"}, {"acme/sdk", "company_oss"}, {"ann/dotfiles", "personal"}, {"bob/go", "fork"},
	}
	kinds := []string{events.KindPullRequest, events.KindCommit, events.KindReview, events.KindIssue, events.KindComment}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var cs []events.Contribution
	for i := range 240 {
		p := people[i%len(people)]
		r := repos[(i/2)%len(repos)]
		kind := kinds[(i/3)%len(kinds)]
		owner, _, _ := strings.Cut(r.repo, "/")
		at := start.Add(time.Duration(i*9)*time.Hour + 17*time.Minute)
		c := events.Contribution{ID: fmt.Sprintf("%s:%d", kind, i), Kind: kind, OccurredAt: at, ActorLogin: p.login,
			EmployeeID: p.id, Team: p.team, Repo: r.repo, RepoOwner: owner, IsUpstream: r.dest == "upstream",
			Destination: r.dest, Number: i, Source: events.SourceGHArchive, Version: 1}
		if r.repo == "kubernetes/kubernetes" { // a dependency, as enrich flags it
			c.IsDependency, c.DependencyCriticality = true, 5
		}
		if kind == events.KindPullRequest {
			c.State = "open"
			if i%2 == 0 {
				c.Additions, c.Deletions, c.ChangedFiles = i, 3, 1+i%4
			}
			if i%5 == 3 || i%5 == 4 {
				first := at.Add(time.Duration(3+(i%5-3)*237) * time.Hour)
				c.FirstResponseAt = &first
			}
			if i%5 == 1 && i%2 == 1 {
				// The REST sync's first response after answers the archive holds, in a later
				// month: the earliest counts, so the later months are looked at.
				first := at.Add(45 * 24 * time.Hour)
				c.FirstResponseAt = &first
			}
			cs = append(cs, answers(c, i)...)
			cs = append(cs, c)
			if i%4 == 3 {
				continue // still open
			}
			decided := at.Add(time.Duration(20+i%40) * 24 * time.Hour)
			c.State, c.ClosedAt, c.Version = "closed", &decided, 2
			if i%3 != 0 {
				c.Merged, c.MergedAt = true, &decided
			}
		}
		cs = append(cs, c)
	}
	// The number of ann's pull request of January 7 (row 16) opened again in February, in the
	// repository spelt otherwise: responsiveness counts both, each with the answers at or after
	// its own opening, whatever the period holds.
	dup := time.Date(2025, 2, 10, 9, 0, 0, 0, time.UTC)
	cs = append(cs, events.Contribution{ID: "pull_request:again16", Kind: events.KindPullRequest, OccurredAt: dup, ActorLogin: "ann",
		EmployeeID: "e1", Team: "core", Repo: "Golang/Go", RepoOwner: "Golang", IsUpstream: true, Destination: "upstream",
		Number: 16, State: "open", Additions: 7, Deletions: 1, ChangedFiles: 2, Source: events.SourceGHArchive, Version: 1})
	// dan works on the company's own repositories first and upstream only from late February:
	// he is new upstream then, not returning.
	for i, at := range []time.Time{time.Date(2025, 1, 5, 10, 0, 0, 0, time.UTC), time.Date(2025, 2, 20, 10, 0, 0, 0, time.UTC), time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)} {
		repo, owner, dest := "golang/go", "golang", "upstream"
		if i == 0 {
			repo, owner, dest = "acme/billing", "acme", "internal"
		}
		cs = append(cs, events.Contribution{ID: fmt.Sprintf("commit:dan%d", i), Kind: events.KindCommit, OccurredAt: at, ActorLogin: "dan",
			EmployeeID: "e4", Team: "core", Repo: repo, RepoOwner: owner, IsUpstream: dest == "upstream", Destination: dest,
			Source: events.SourceGHArchive, Version: 1})
	}
	// erin opens two pull requests in January and makes nothing else: the earlier is merged in
	// March, the later in January. From February on, her record is that merge alone: her latest
	// contribution is the earlier pull request, not the later one merged before the period. Its
	// project has nothing else: from February on, a project with a pull request decided and no
	// contribution.
	for i, merged := range []time.Time{time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC), time.Date(2025, 1, 25, 12, 0, 0, 0, time.UTC)} {
		repo := []string{"kubernetes/community", "golang/go"}[i]
		owner, _, _ := strings.Cut(repo, "/")
		c := events.Contribution{ID: fmt.Sprintf("pull_request:erin%d", i), Kind: events.KindPullRequest,
			OccurredAt: time.Date(2025, 1, 8+4*i, 10, 0, 0, 0, time.UTC), ActorLogin: fmt.Sprintf("erin-%d", i), EmployeeID: "e5", Team: "web",
			Repo: repo, RepoOwner: owner, IsUpstream: true, Destination: "upstream", Number: 900 + i, State: "open",
			Source: events.SourceGHArchive, Version: 1}
		cs = append(cs, c)
		c.State, c.Merged, c.MergedAt, c.ClosedAt, c.Version = "closed", true, &merged, &merged, 2
		cs = append(cs, c)
	}
	// carol answers in March on a number of nats-io/nats.go no pull request of the fixture has:
	// the pull request arrives after the rollups are built (TestRollupsEqualFinal, backfill).
	cs = append(cs, events.Contribution{ID: "comment:backfilled", Kind: events.KindComment, OccurredAt: backfilledAnswer,
		ActorLogin: "carol", EmployeeID: "e3", Team: "web", Repo: "nats-io/nats.go", RepoOwner: "nats-io", IsUpstream: true,
		Destination: "upstream", Number: 777, Source: events.SourceGHArchive, Version: 1})
	// fay's one commit, to a dependency where no pull request is decided: its flags come from
	// the contributions alone.
	cs = append(cs, events.Contribution{ID: "commit:fay", Kind: events.KindCommit, OccurredAt: time.Date(2025, 2, 14, 12, 0, 0, 0, time.UTC),
		ActorLogin: "fay", EmployeeID: "e6", Team: "core", Repo: "kubernetes/enhancements", RepoOwner: "kubernetes", IsUpstream: true,
		Destination: "upstream", IsDependency: true, DependencyCriticality: 3, Source: events.SourceGHArchive, Version: 1})
	// absent/lib, a dependency nobody on the roster works in, has an outside maintainer's release
	// in late February and a merge late in March, spelt otherwise: its last merge or release is
	// the merge for a period to March 31, the release for one to March 5, none before.
	cs = append(cs, events.Contribution{ID: "release:absent", Kind: events.KindRelease, OccurredAt: time.Date(2025, 2, 25, 18, 0, 0, 0, time.UTC),
		ActorLogin: "kmaint", Repo: "absent/lib", RepoOwner: "absent", IsUpstream: true, Destination: "upstream",
		Source: events.SourceGHArchive, Version: 1})
	cs = append(cs, events.Contribution{ID: "merge:absent", Kind: events.KindMerge, OccurredAt: time.Date(2025, 3, 30, 23, 0, 0, 0, time.UTC),
		ActorLogin: "kmaint", Repo: "Absent/Lib", RepoOwner: "Absent", IsUpstream: true, Destination: "upstream",
		Source: events.SourceGHArchive, Version: 1})
	return cs
}

// backfilledAnswer is when carol answers the pull request that a backfill stores in January
// after the rollups of every month are built.
var backfilledAnswer = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// answers returns the reviews and comments on the fixture's pull request pr (the i-th row): by
// the author and by others, in its own month and in later ones, before its opening, by a bot and
// by an outside contributor, and ties.
func answers(pr events.Contribution, i int) []events.Contribution {
	type answer struct {
		login, id, team, kind string
		after                 time.Duration
	}
	h := time.Hour
	var as []answer
	switch i % 5 {
	case 0: // a comment before the opening; answered in its own month (mostly) by a colleague,
		// after a remark of the author's (the two earliest people of the month answer no one)
		as = []answer{{"zed", "", "", events.KindComment, -10 * time.Minute}, {pr.ActorLogin, pr.EmployeeID, pr.Team, events.KindComment, h},
			{"ann", "e1", "core", events.KindReview, 2 * h}, {"carol", "e3", "web", events.KindComment, 2 * h}}
	case 1: // a comment before the opening, then the author, then two others a month later
		as = []answer{{"zed", "", "", events.KindComment, -h}, {pr.ActorLogin, pr.EmployeeID, pr.Team, events.KindComment, 35 * 24 * h},
			{"dan", "e4", "core", events.KindReview, 40 * 24 * h}, {"carol", "e3", "web", events.KindComment, 41 * 24 * h}}
	case 2: // a bot at once, an outside contributor fifty days later
		as = []answer{{"dependabot[bot]", "", "", events.KindComment, h}, {"zed", "", "", events.KindReview, 50 * 24 * h}}
	case 4: // the author first, in a later month; someone else two days after the author
		as = []answer{{pr.ActorLogin, pr.EmployeeID, pr.Team, events.KindReview, 30 * 24 * h}, {"bob", "e2", "core", events.KindComment, 32 * 24 * h}}
	}
	var out []events.Contribution
	for j, a := range as {
		owner, _, _ := strings.Cut(pr.Repo, "/")
		c := events.Contribution{ID: fmt.Sprintf("%s:answer%d-%d", a.kind, i, j), Kind: a.kind, OccurredAt: pr.OccurredAt.Add(a.after),
			ActorLogin: a.login, EmployeeID: a.id, Team: a.team, Repo: strings.ToUpper(pr.Repo[:1]) + pr.Repo[1:], RepoOwner: owner,
			IsUpstream: pr.IsUpstream, Destination: pr.Destination, Number: pr.Number, Source: events.SourceGHArchive, Version: 1,
			IsDependency: pr.IsDependency, DependencyCriticality: pr.DependencyCriticality}
		if a.kind == events.KindReview && a.id != "" && i%2 == 0 {
			c.State = "approved" // a maintainer seat
		}
		out = append(out, c)
	}
	return out
}

// rollupFilters are the periods and filters the equivalence is checked for: whole months, months
// cut at both ends, one day, a period past the data, each team and each upstream choice (each
// once: every filter is computed twice at every stage, so the list is kept short).
func rollupFilters() []Filter {
	d := func(m time.Month, day int) time.Time { return time.Date(2025, m, day, 0, 0, 0, 0, time.UTC) }
	return []Filter{
		{From: d(1, 1), To: d(3, 31), Upstream: UpstreamAll},
		{From: d(1, 10), To: d(3, 5), Team: "core", Upstream: UpstreamOnly},
		{From: d(1, 10), To: d(3, 5), Team: "web", Upstream: UpstreamInternal},
		{From: d(1, 20), To: d(2, 3), Team: "core", Upstream: UpstreamAll},
		{From: d(2, 14), To: d(2, 14), Upstream: UpstreamOnly},
		{From: d(2, 1), To: d(6, 30), Upstream: UpstreamAll},
		// A filter the rollups do not hold (one repository) reads contributions FINAL.
		{From: d(1, 1), To: d(3, 31), Upstream: UpstreamAll, Repo: "golang/go"},
	}
}

// rolledMetrics computes every metric that has a rollup statement, for f.
func rolledMetrics(ctx context.Context, q Querier, f Filter) (map[string]any, error) {
	out := map[string]any{}
	var err error
	if out["summary"], err = GetSummary(ctx, q, f); err != nil {
		return nil, err
	}
	if out["contributions"], err = GetContributions(ctx, q, f); err != nil {
		return nil, err
	}
	if out["contributors"], err = GetContributors(ctx, q, f); err != nil {
		return nil, err
	}
	if out["acceptance"], err = GetAcceptance(ctx, q, f); err != nil {
		return nil, err
	}
	if out["newcomers"], err = GetNewcomers(ctx, q, f); err != nil {
		return nil, err
	}
	if out["repos"], err = GetRepos(ctx, q, f, 4); err != nil {
		return nil, err
	}
	if out["responsiveness"], err = GetResponsiveness(ctx, q, f); err != nil {
		return nil, err
	}
	if out["cycle"], err = GetCycle(ctx, q, f, 10); err != nil {
		return nil, err
	}
	if out["people"], err = GetPeople(ctx, q, f, 100, nil); err != nil {
		return nil, err
	}
	if out["projects"], err = GetProjects(ctx, q, f, 100); err != nil {
		return nil, err
	}
	if out["risks"], err = GetRisks(ctx, q, f, 100); err != nil {
		return nil, err
	}
	// The health of every project of the fixture, whether or not the lists above show it (the
	// risk list shows a project's last merge or release only when it is at risk).
	if out["health"], err = healthOf(ctx, q, f, []string{"absent/lib", "golang/go", "kubernetes/community", "kubernetes/enhancements", "kubernetes/kubernetes", "nats-io/nats.go"}); err != nil {
		return nil, err
	}
	if f.Team == "" { // community inflow refuses a team: these people have none
		if out["community"], err = GetCommunity(ctx, q, f, nil); err != nil {
			return nil, err
		}
	}
	if f.Team == "" {
		if out["summary by team"], err = GetSummaryByTeam(ctx, q, f, rollupTeams); err != nil {
			return nil, err
		}
		if out["newcomers by team"], err = GetNewcomersByTeam(ctx, q, f, rollupTeams); err != nil {
			return nil, err
		}
		if out["repos by team"], err = GetReposByTeam(ctx, q, f, rollupTeams, 2); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// perTeamStages are the stages at which each team's part of a metric by team is compared with
// the metric computed for that team: every month rolled up, and some months read from the
// rollups and others from contributions FINAL (at every stage, the metrics by team are compared
// with their plain statements).
var perTeamStages = map[string]bool{"rolled up": true, "team move, not rebuilt": true}

// rollupTeams are the teams the metrics by team are computed for: the fixture's two and one
// without data.
var rollupTeams = []string{"core", "web", "ops"}

// perTeam computes, for each of rollupTeams, the metrics that have a form by team with the
// filter's team set to it, in the shape of that form's answer.
func perTeam(ctx context.Context, q Querier, f Filter) (map[string]any, error) {
	var sums []Summary
	var news []Newcomers
	var repos []Repos
	for _, t := range rollupTeams {
		tf := f
		tf.Team = t
		s, err := GetSummary(ctx, q, tf)
		if err != nil {
			return nil, err
		}
		n, err := GetNewcomers(ctx, q, tf)
		if err != nil {
			return nil, err
		}
		r, err := GetRepos(ctx, q, tf, 2)
		if err != nil {
			return nil, err
		}
		sums, news, repos = append(sums, s), append(news, n), append(repos, r)
	}
	return map[string]any{"summary by team": sums, "newcomers by team": news, "repos by team": repos}, nil
}

// checkRollupsEqualFinal compares each rolled-up metric with the same metric computed from
// contributions FINAL alone, for every filter, and returns the months read from the rollups.
func checkRollupsEqualFinal(t *testing.T, st *store.Store, stage string) []int64 {
	t.Helper()
	ctx := context.Background()
	for _, name := range []string{"summary", "contributions", "contributors", "acceptance", "newcomers", "repos", "responsiveness", "cycle", "summary_by_team", "newcomers_by_team", "repos_by_team", "teams", "people", "projects", "risks", "activity", "community", "health"} {
		if _, ok := rollupStatements[name]; !ok {
			t.Fatalf("no rollup statement for %s", name)
		}
	}
	for _, f := range rollupFilters() {
		// The metrics of one filter share the list of months rolled up, as a page's do.
		got, err := rolledMetrics(ShareRollupMonths(ctx), st, f)
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		want, err := rolledMetrics(WithoutRollups(ctx), st, f)
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		for name := range want {
			if !reflect.DeepEqual(got[name], want[name]) {
				t.Errorf("%s, %s %s–%s team %q upstream %s:\nrollups %+v\nFINAL   %+v", stage, name, day(f.From), day(f.To), f.Team, f.Upstream, got[name], want[name])
			}
		}
		if f.Team != "" || !perTeamStages[stage] {
			continue
		}
		// Each team's part of a metric by team is the metric computed for that team.
		each, err := perTeam(ctx, st, f)
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		for name := range each {
			if !reflect.DeepEqual(got[name], each[name]) {
				t.Errorf("%s, %s %s–%s upstream %s:\nby team  %+v\nper team %+v", stage, name, day(f.From), day(f.To), f.Upstream, got[name], each[name])
			}
		}
	}
	gotTeams, err := GetTeams(ctx, st)
	if err != nil {
		t.Fatalf("%s: %v", stage, err)
	}
	wantTeams, err := GetTeams(WithoutRollups(ctx), st)
	if err != nil {
		t.Fatalf("%s: %v", stage, err)
	}
	if !reflect.DeepEqual(gotTeams, wantTeams) || len(wantTeams) == 0 {
		t.Errorf("%s, teams:\nrollups %+v\nFINAL   %+v", stage, gotTeams, wantTeams)
	}
	fresh, err := freshMonths(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	return fresh
}

// Each rolled-up metric equals the same metric from contributions FINAL: with every month
// rolled up, with a month changed since (a team move, an opt-out) and read from FINAL, and once
// the changed months are rebuilt.
func TestRollupsEqualFinal(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	cs := rollupFixture()
	if err := st.InsertContributions(ctx, cs); err != nil {
		t.Fatal(err)
	}
	// The dependencies the cycle lists: two the fixture contributes to (one spelt otherwise), one
	// it does not.
	if err := st.ReplaceDependencies(ctx, "deps-1", 1, []deps.Dependency{{Repo: "kubernetes/kubernetes", Criticality: 5},
		{Repo: "Golang/Go", Criticality: 3}, {Repo: "absent/lib", Criticality: 2}}, nil); err != nil {
		t.Fatal(err)
	}
	// The project totals the share of activity and the Elephant Factor come from: employees'
	// logins (one spelt otherwise, one only in a month the team move below rewrites), people
	// outside the roster, the opted-out together, in dependencies with and without the company's
	// contributions.
	var totals []events.ActivityRow
	for i, a := range []struct{ repo, actor string }{{"kubernetes/kubernetes", "ANN"}, {"kubernetes/kubernetes", "zed"},
		{"golang/go", "bob"}, {"golang/go", "stranger"}, {"golang/go", ""}, {"absent/lib", "Carol"}, {"absent/lib", "zed"},
		{"absent/lib", "stranger"}, {"nats-io/nats.go", "dan"}, {"kubernetes/enhancements", "fay"}} {
		for m := range 3 {
			totals = append(totals, events.ActivityRow{Day: fmt.Sprintf("2025-%02d-%02d", m+1, 3+i), Repo: a.repo, Actor: a.actor,
				Type: "PushEvent", Events: uint64(1 + (i+m)%4)})
		}
	}
	if err := st.InsertProjectActivity(ctx, []events.HourTotals{{Hour: "2025-03-31-23", Rows: totals}}); err != nil {
		t.Fatal(err)
	}
	if fresh := checkRollupsEqualFinal(t, st, "nothing rolled up"); len(fresh) != 0 {
		t.Fatalf("months %v read from rollups before any was built", fresh)
	}
	n, err := st.RefreshRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 { // January to March, and answers to March's pull requests in April and May
		t.Fatalf("rebuilt %d months, want 5", n)
	}
	if fresh := checkRollupsEqualFinal(t, st, "rolled up"); !reflect.DeepEqual(fresh, []int64{202501, 202502, 202503, 202504, 202505}) {
		t.Fatalf("months read from rollups %v, want 2025-01 to 2025-05", fresh)
	}
	if n, err := st.RefreshRollups(ctx); err != nil || n != 0 {
		t.Fatalf("a second refresh rebuilt %d months (%v), want none", n, err)
	}
	// erin's record from February on is her January pull request merged in March, in both forms
	// (compared above): written out here, so that the two cannot agree on something else.
	later := Filter{From: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), Upstream: UpstreamAll}
	people, err := GetPeople(ShareRollupMonths(ctx), st, later, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	erin := Person{EmployeeID: "e5", Login: "erin-0", Team: "web", PRsMerged: 1, First: "2025-01-08", Last: "2025-01-08"}
	if i := slices.IndexFunc(people.Rows, func(p Person) bool { return p.EmployeeID == "e5" }); i < 0 || people.Rows[i] != erin {
		t.Fatalf("people from February: %+v, want erin as %+v", people.Rows, erin)
	}
	projects, err := GetProjects(ShareRollupMonths(ctx), st, later, 100)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(projects.Rows, func(p Project) bool { return p.Repo == "kubernetes/community" }); i < 0 ||
		projects.Rows[i].Contributions != 0 || projects.Rows[i].PRsClosed != 1 || projects.Rows[i].PRsMerged != 1 || projects.Rows[i].LastActivity != "" {
		t.Fatalf("projects from February: %+v, want kubernetes/community with erin's merge alone", projects.Rows)
	}
	seats := 0
	for _, p := range projects.Rows {
		seats += int(p.Seats)
	}
	if seats == 0 {
		t.Fatal("no maintainer seat in the fixture's projects: the comparison shows little")
	}
	core := Filter{From: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC), Team: "core", Upstream: UpstreamAll}
	before, err := GetSummary(ctx, st, core)
	if err != nil {
		t.Fatal(err)
	}

	// A backfill stores ann's pull request of January 20 on the number carol answered in March.
	// Until January is rebuilt, March's answers (built without that pull request) are not read
	// for a period from January; the refresh rebuilds January and every month after it.
	backfill := events.Contribution{ID: "pull_request:backfilled", Kind: events.KindPullRequest, OccurredAt: time.Date(2025, 1, 20, 8, 0, 0, 0, time.UTC),
		ActorLogin: "ann", EmployeeID: "e1", Team: "core", Repo: "nats-io/nats.go", RepoOwner: "nats-io", IsUpstream: true,
		Destination: "upstream", Number: 777, State: "open", Source: events.SourceGHArchive, Version: 1}
	if err := st.InsertContributions(ctx, []events.Contribution{backfill}); err != nil {
		t.Fatal(err)
	}
	if fresh := checkRollupsEqualFinal(t, st, "backfill, not rebuilt"); !reflect.DeepEqual(fresh, []int64{202502, 202503, 202504, 202505}) {
		t.Fatalf("after the backfill, months read from rollups %v, want February to May", fresh)
	}
	if n, err := st.RefreshRollups(ctx); err != nil || n != 5 {
		t.Fatalf("the refresh after the backfill rebuilt %d months (%v), want January and every month after it", n, err)
	}
	checkRollupsEqualFinal(t, st, "backfill, rebuilt")
	january := Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC), Team: "core", Upstream: UpstreamOnly}
	resp, err := GetResponsiveness(ShareRollupMonths(ctx), st, january)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := GetResponsiveness(WithoutRollups(ctx), st, january)
	if err != nil || !reflect.DeepEqual(resp, plain) || resp.Answered == 0 {
		t.Fatalf("responsiveness of core in January: %+v from the rollups, %+v (%v) from FINAL", resp, plain, err)
	}

	// bob moves from core to web from February on: his rows from then are stored again,
	// re-attributed, with a higher version.
	var moved []events.Contribution
	for _, c := range cs {
		if c.ActorLogin == "bob" && !c.OccurredAt.Before(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)) {
			c.Team, c.Version = "web", c.Version+10
			moved = append(moved, c)
		}
	}
	if err := st.InsertContributions(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if fresh := checkRollupsEqualFinal(t, st, "team move, not rebuilt"); !reflect.DeepEqual(fresh, []int64{202501, 202505}) {
		t.Fatalf("after the team move, months read from rollups %v, want only 2025-01 and 2025-05 (bob has no row in either)", fresh)
	}
	if _, err := st.RefreshRollups(ctx); err != nil {
		t.Fatal(err)
	}
	checkRollupsEqualFinal(t, st, "team move, rebuilt")
	after, err := GetSummary(ctx, st, core)
	if err != nil {
		t.Fatal(err)
	}
	if after.Contributions >= before.Contributions || after.ActiveContributors != before.ActiveContributors-1 {
		t.Fatalf("core in February: %+v before bob moved, %+v after; want fewer contributions and one contributor less", before, after)
	}

	// carol opts out: every row of hers is deleted.
	if err := st.DeleteContributionsOf(ctx, []string{"carol"}); err != nil {
		t.Fatal(err)
	}
	if fresh := checkRollupsEqualFinal(t, st, "opt-out, not rebuilt"); len(fresh) != 0 {
		t.Fatalf("after the opt-out, months read from rollups %v, want none", fresh)
	}
	if _, err := st.RefreshRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if fresh := checkRollupsEqualFinal(t, st, "opt-out, rebuilt"); len(fresh) != 5 {
		t.Fatalf("after the rebuild, months read from rollups %v, want five", fresh)
	}
	web := core
	web.Team = "web"
	s, err := GetSummary(ctx, st, web)
	if err != nil {
		t.Fatal(err)
	}
	if s.ActiveContributors != 1 {
		t.Fatalf("web in February after carol's opt-out: %+v, want bob alone", s)
	}
}

// countingQuerier counts the statements that list the months rolled up.
type countingQuerier struct {
	Querier
	mu     sync.Mutex
	months int
}

func (c *countingQuerier) Query(ctx context.Context, q string, s store.Settings) (*store.Result, error) {
	if q == store.RollupMonthsSQL {
		c.mu.Lock()
		c.months++
		c.mu.Unlock()
	}
	return c.Querier.Query(ctx, q, s)
}

// The metrics of a context made by ShareRollupMonths read the list of months rolled up once,
// and each metric without it reads the list itself.
func TestShareRollupMonths(t *testing.T) {
	st := rolledUpFixture(t)
	ctx := context.Background()
	f := rollupFilters()[0]
	for _, c := range []struct {
		ctx  context.Context
		want int
	}{{ctx, 3}, {ShareRollupMonths(ctx), 1}} {
		q := &countingQuerier{Querier: st}
		if _, err := GetSummary(c.ctx, q, f); err != nil {
			t.Fatal(err)
		}
		if _, err := GetContributors(c.ctx, q, f); err != nil {
			t.Fatal(err)
		}
		if _, err := GetSummaryByTeam(c.ctx, q, f, rollupTeams); err != nil {
			t.Fatal(err)
		}
		if q.months != c.want {
			t.Errorf("the months rolled up were read %d times, want %d", q.months, c.want)
		}
	}
}

// The responsiveness of one calendar month, taken from the months of a longer period
// (Responsiveness.MonthOf, as a report takes its month and the month before from its trend), is
// what the month computed alone answers: with the rollups and from contributions FINAL, for
// every team and one, upstream or not, with answers that came months later.
func TestResponsivenessMonthOfEqualsTheMonthAlone(t *testing.T) {
	st := rolledUpFixture(t)
	ctx := context.Background()
	d := func(m time.Month, day int) time.Time { return time.Date(2025, m, day, 0, 0, 0, 0, time.UTC) }
	answered := 0
	for _, rolled := range []bool{true, false} {
		c := ctx
		if !rolled {
			c = WithoutRollups(ctx)
		}
		for _, team := range []string{"", "core"} {
			for _, up := range []Upstream{UpstreamAll, UpstreamOnly} {
				long := Filter{From: d(1, 1), To: d(5, 31), Team: team, Upstream: up}
				all, err := GetResponsiveness(c, st, long)
				if err != nil {
					t.Fatal(err)
				}
				for m := time.January; m <= time.May; m++ {
					month := Filter{From: d(m, 1), To: d(m+1, 1).AddDate(0, 0, -1), Team: team, Upstream: up}
					want, err := GetResponsiveness(c, st, month)
					if err != nil {
						t.Fatal(err)
					}
					got, ok := all.MonthOf(month)
					if !ok || !reflect.DeepEqual(got, want) {
						t.Errorf("rollups %v, team %q, upstream %s, %s: from the long period %+v (%v), alone %+v", rolled, team, up, m, got, ok, want)
					}
					answered += int(want.Answered)
				}
			}
		}
	}
	if answered == 0 {
		t.Fatal("no pull request of the fixture was answered: the comparison shows nothing")
	}
	// Not one calendar month, or another filter: no answer.
	all, err := GetResponsiveness(ctx, st, Filter{From: d(1, 1), To: d(5, 31), Upstream: UpstreamAll})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Filter{
		{From: d(2, 1), To: d(2, 27), Upstream: UpstreamAll},
		{From: d(2, 2), To: d(3, 1), Upstream: UpstreamAll},
		{From: d(2, 1), To: d(3, 31), Upstream: UpstreamAll},
		{From: d(2, 1), To: d(2, 28), Upstream: UpstreamOnly},
		{From: d(2, 1), To: d(2, 28), Team: "core", Upstream: UpstreamAll},
		{From: d(7, 1), To: d(7, 31), Upstream: UpstreamAll},
	} {
		if _, ok := all.MonthOf(f); ok {
			t.Errorf("%s–%s team %q upstream %s: taken from the months of another filter", day(f.From), day(f.To), f.Team, f.Upstream)
		}
	}
}

// TestPeriodsFromOneStatement checks that the newcomers and the community inflow of several
// periods read by one statement (GetNewcomersOf, GetCommunities) are those of each period
// computed alone, from the rollups and from contributions FINAL.
func TestPeriodsFromOneStatement(t *testing.T) {
	st := rolledUpFixture(t)
	ctx := context.Background()
	d := func(m time.Month, day int) time.Time { return time.Date(2025, m, day, 0, 0, 0, 0, time.UTC) }
	var seen Newcomers
	for _, rolled := range []bool{true, false} {
		c := ctx
		if !rolled {
			c = WithoutRollups(ctx)
		}
		for _, team := range []string{"", "core"} {
			whole := []Filter{
				{From: d(1, 1), To: d(5, 31), Team: team, Upstream: UpstreamOnly},
				{From: d(3, 1), To: d(3, 31), Team: team, Upstream: UpstreamOnly},
				{From: d(2, 1), To: d(3, 31), Team: team, Upstream: UpstreamOnly},
			}
			// With a period not of whole months, or of another team: each alone.
			partial := append(slices.Clone(whole), Filter{From: d(2, 10), To: d(3, 31), Team: team, Upstream: UpstreamOnly})
			other := append(slices.Clone(whole), Filter{From: d(3, 1), To: d(3, 31), Team: "web", Upstream: UpstreamOnly})
			for _, fs := range [][]Filter{whole, partial, other} {
				got, err := GetNewcomersOf(c, st, fs)
				if err != nil {
					t.Fatal(err)
				}
				for i, f := range fs {
					want, err := GetNewcomers(c, st, f)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got[i], want) {
						t.Errorf("rollups %v, newcomers %s–%s team %q: together %+v\nalone    %+v", rolled, day(f.From), day(f.To), f.Team, got[i], want)
					}
					seen.New, seen.Returning = seen.New+want.New, seen.Returning+want.Returning
				}
				// The community inflow has no team; its upstream selection does not apply.
				var cs []Filter
				for _, f := range fs {
					if f.Team == "" {
						f.Upstream = UpstreamAll
						cs = append(cs, f)
					}
				}
				coms, err := GetCommunities(c, st, cs, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i, f := range cs {
					want, err := GetCommunity(c, st, f, nil)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(coms[i], want) || want.Contributors == 0 {
						t.Errorf("rollups %v, community %s–%s: together %+v\nalone    %+v", rolled, day(f.From), day(f.To), coms[i], want)
					}
				}
			}
		}
	}
	if seen.New == 0 || seen.Returning == 0 {
		t.Fatalf("the fixture shows %d new and %d returning: the comparison shows little", seen.New, seen.Returning)
	}
}

// rolledUpFixture stores rollupFixture and builds its rollups.
func rolledUpFixture(t *testing.T) *store.Store {
	t.Helper()
	st := testkit.Store(t)
	ctx := context.Background()
	if err := st.InsertContributions(ctx, rollupFixture()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RefreshRollups(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// rebuildingQuerier runs the statements on st and, before the first statement that reads
// team_repos_rollup, drops that table's rows of every month, as RefreshRollups does first when
// it rebuilds them: the second step of the teams' top projects then finds the rows the first
// step read gone.
type rebuildingQuerier struct {
	st      *store.Store
	dropped bool
}

func (r *rebuildingQuerier) Query(ctx context.Context, q string, s store.Settings) (*store.Result, error) {
	if !r.dropped && strings.Contains(q, "FROM team_repos_rollup") {
		r.dropped = true
		if err := r.st.Conn().Exec(ctx, "TRUNCATE TABLE team_repos_rollup"); err != nil {
			return nil, err
		}
	}
	return r.st.Query(ctx, q, s)
}

// A month rebuilt between the two steps of the teams' top projects does not fail the page nor
// leave a row without its employees: the plain statement answers instead.
func TestReposByTeamRebuiltMeanwhile(t *testing.T) {
	st := rolledUpFixture(t)
	ctx := context.Background()
	f := Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC), Upstream: UpstreamAll}
	want, err := GetReposByTeam(WithoutRollups(ctx), st, f, rollupTeams, 2)
	if err != nil {
		t.Fatal(err)
	}
	q := &rebuildingQuerier{st: st}
	got, err := GetReposByTeam(ShareRollupMonths(ctx), q, f, rollupTeams, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !q.dropped {
		t.Fatal("the second step never read team_repos_rollup")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rebuilt meanwhile:\ngot  %+v\nwant %+v", got, want)
	}
}
