package metrics

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"

	"giveback.dev/platform/store"
)

// The statements in byteam/*.sql compute a metric of sql/*.sql (the one with the same name) for
// every team at once, one statement grouped by team where the teams page would run one per team.
// Their rollup forms are rollup/NAME_by_team.sql. A team's part of the answer equals the metric
// computed with the filter's team set to it (TestRollupsEqualFinal checks both).

//go:embed byteam/*.sql
var byTeamFiles embed.FS

var byTeamStatements = loadStatements(byTeamFiles, "byteam/*.sql")

// runByTeam runs the named statement of byteam/ for f, which must name no team, from the
// rollups where they are current (rollup/NAME_by_team.sql) when the metric has a rollup form.
func runByTeam(ctx context.Context, q Querier, name string, f Filter, limit int) (*store.Result, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("metrics: %s by team: %w", name, err)
	}
	if f.Team != "" {
		return nil, fmt.Errorf("metrics: %s by team: the filter names team %q; every team is computed", name, f.Team)
	}
	st, ok := byTeamStatements[name]
	if !ok {
		return nil, fmt.Errorf("metrics: no statement %q by team", name)
	}
	sql := f.bind(st, limit)
	if f.Repo == "" {
		var err error
		if sql, err = rollupSQL(ctx, q, name+"_by_team", f, limit, sql); err != nil {
			return nil, fmt.Errorf("metrics: %s by team: %w", name, err)
		}
	}
	res, err := q.Query(ctx, sql, Settings)
	if err != nil {
		return nil, fmt.Errorf("metrics: %s by team: %w", name, err)
	}
	return res, nil
}

// rowsByTeam splits rows whose first column is the team into the rows of each team, without
// that column.
func rowsByTeam(rows [][]any) map[string][][]any {
	out := map[string][][]any{}
	for _, r := range rows {
		t := store.AsString(r[0])
		out[t] = append(out[t], r[1:])
	}
	return out
}

// GetSummaryByTeam computes the summary of each of teams, in one statement: element i is what
// GetSummary returns for f with team teams[i] (zeros for a team without data in the period).
// f must name no team.
func GetSummaryByTeam(ctx context.Context, q Querier, f Filter, teams []string) ([]Summary, error) {
	res, err := runByTeam(ctx, q, "summary", f, 0)
	if err != nil {
		return nil, err
	}
	byTeam := rowsByTeam(res.Rows)
	out := make([]Summary, len(teams))
	for i, t := range teams {
		tf := f
		tf.Team = t
		out[i] = Summary{Filter: period(tf)}
		rows := byTeam[t]
		if len(rows) == 0 {
			continue
		}
		if len(rows) > 1 || len(rows[0]) < 10 {
			return nil, fmt.Errorf("metrics: summary by team: unexpected result shape")
		}
		out[i] = summaryOf(tf, rows[0])
	}
	return out, nil
}

// GetNewcomersByTeam computes the new and returning upstream contributors of each of teams, in
// one statement: element i is what GetNewcomers returns for f with team teams[i]. f must name no
// team.
func GetNewcomersByTeam(ctx context.Context, q Querier, f Filter, teams []string) ([]Newcomers, error) {
	f.Upstream = UpstreamOnly
	res, err := runByTeam(ctx, q, "newcomers", f, 0)
	if err != nil {
		return nil, err
	}
	byTeam := rowsByTeam(res.Rows)
	out := make([]Newcomers, len(teams))
	for i, t := range teams {
		tf := f
		tf.Team = t
		out[i] = newcomersOf(tf, byTeam[t])
	}
	return out, nil
}

// GetReposByTeam computes the repositories reached by each of teams and the top limit of them:
// element i is what GetRepos returns for f with team teams[i]. f must name no team. From
// contributions FINAL it is one statement; from the rollups two, the second reading the
// distinct employees of the top rows alone (withTeamContributors).
func GetReposByTeam(ctx context.Context, q Querier, f Filter, teams []string, limit int) ([]Repos, error) {
	ctx = ShareRollupMonths(ctx) // both steps read the same months from the rollups
	res, err := runByTeam(ctx, q, "repos", f, max(limit, 1))
	if err != nil {
		return nil, err
	}
	rows := res.Rows
	if readsRollups(ctx, f) { // the rollup form ran: the top rows lack their employees
		rows, err = withTeamContributors(ctx, q, f, rows)
		if errors.Is(err, errRebuiltMeanwhile) {
			// A month was being rebuilt between the two steps: the plain statement, in one.
			if res, err = runByTeam(WithoutRollups(ctx), q, "repos", f, max(limit, 1)); err != nil {
				return nil, err
			}
			rows = res.Rows
		} else if err != nil {
			return nil, fmt.Errorf("metrics: repos by team: %w", err)
		}
	}
	byTeam := rowsByTeam(rows)
	out := make([]Repos, len(teams))
	for i, t := range teams {
		tf := f
		tf.Team = t
		out[i] = reposOf(tf, byTeam[t], limit)
	}
	return out, nil
}

// errRebuiltMeanwhile is withTeamContributors finding no employees for a top row: the rows it
// was read from were replaced after the first step read them (RefreshRollups rebuilt a month the
// page's list of months named), so the two steps do not describe the same data.
var errRebuiltMeanwhile = errors.New("a month of the rollups was rebuilt between the two steps")

// withTeamContributors completes the top rows of the rollup form of repos by team (team, repo,
// repo_owner, contributions, repos, orgs) with the distinct employees of each
// (rollup/repos_by_team_contributors.sql), into the rows of the plain statement (team, repo,
// contributions, contributors, repos, orgs).
func withTeamContributors(ctx context.Context, q Querier, f Filter, top [][]any) ([][]any, error) {
	if len(top) == 0 {
		return top, nil
	}
	sql, err := rolledSQL(ctx, q, rollupStatements["repos_by_team_contributors"], f, 0, "")
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(top))
	for i, r := range top {
		keys[i] = "(" + store.Quote(store.AsString(r[0])) + ", " + store.Quote(store.AsString(r[1])) + ", " + store.Quote(store.AsString(r[2])) + ")"
	}
	res, err := q.Query(ctx, strings.ReplaceAll(sql, "{team_repos}", strings.Join(keys, ", ")), Settings)
	if err != nil {
		return nil, err
	}
	// A row's team, repository and owner, its first three columns in both steps.
	type key struct{ team, repo, owner string }
	keyOf := func(r []any) key { return key{store.AsString(r[0]), store.AsString(r[1]), store.AsString(r[2])} }
	contributors := make(map[key]any, len(res.Rows))
	for _, r := range res.Rows {
		contributors[keyOf(r)] = r[3]
	}
	out := make([][]any, len(top))
	for i, r := range top {
		n, ok := contributors[keyOf(r)]
		if !ok {
			return nil, errRebuiltMeanwhile
		}
		out[i] = []any{r[0], r[1], r[3], n, r[4], r[5]}
	}
	return out, nil
}
