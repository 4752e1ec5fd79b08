-- repos by team, its second step: the distinct employees of each team in the repositories
-- {team_repos} (a list of (team, repo, repo_owner) tuples, the top rows repos_by_team gave),
-- from team_repos_rollup for the months whose rollup is current, which reads those rows alone,
-- and from contributions FINAL for the others.
SELECT team, repo, repo_owner, uniqExactMerge(e) AS contributors
FROM
(
    SELECT CAST(team AS String) AS team, repo, repo_owner, employees AS e
    FROM team_repos_rollup
    WHERE src IN ({fresh}) AND {rdays}{rteams} AND (team, repo, repo_owner) IN ({team_repos})
    UNION ALL
    SELECT CAST(team AS String) AS team, repo, CAST(repo_owner AS String) AS repo_owner, uniqExactState(CAST(employee_id AS String)) AS e
    FROM contributions FINAL
    WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to} AND team != ''{filter}
        AND (CAST(team AS String), repo, CAST(repo_owner AS String)) IN ({team_repos})
    GROUP BY team, repo, repo_owner
)
GROUP BY team, repo, repo_owner
