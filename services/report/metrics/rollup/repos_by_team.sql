-- repos by team, from the rollups: as the repos by team statement defines it, with each team's
-- repositories from the rows of one team of repos_rollup ({rteams}) for the months whose rollup
-- is current, and from contributions FINAL for the others; in two steps, as the repos statement
-- is. This one gives the top rows of each team and its counts of repositories and owners, from
-- the contributions alone (team, repo, repo_owner, contributions, repos, orgs); the distinct
-- employees of those rows come from repos_by_team_contributors, since reading every row's
-- employees is most of the cost.
SELECT team, repo, repo_owner, sum(n) AS contributions,
    count() OVER (PARTITION BY team) AS repos, uniqExact(repo_owner) OVER (PARTITION BY team) AS orgs
FROM
(
    SELECT CAST(team AS String) AS team, repo, repo_owner, contributions AS n
    FROM repos_rollup
    WHERE src IN ({fresh}) AND {rdays}{rteams}
    UNION ALL
    SELECT CAST(team AS String) AS team, repo, CAST(repo_owner AS String) AS repo_owner, count() AS n
    FROM contributions FINAL
    WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to} AND team != ''{filter}
    GROUP BY team, repo, repo_owner
)
GROUP BY team, repo, repo_owner
ORDER BY team, contributions DESC, repo
LIMIT {limit} BY team
