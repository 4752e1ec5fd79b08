-- repos by team, from the rollups: as the repos by team statement defines it, with each team's
-- repositories from the rows of one team of repos_rollup ({rteams}) for the months whose rollup
-- is current, and from contributions FINAL for the others.
SELECT team, repo, sum(n) AS contributions, uniqExactMerge(e) AS contributors,
    count() OVER (PARTITION BY team) AS repos, uniqExact(repo_owner) OVER (PARTITION BY team) AS orgs
FROM
(
    SELECT CAST(team AS String) AS team, repo, repo_owner, contributions AS n, employees AS e
    FROM repos_rollup
    WHERE src IN ({fresh}) AND {rdays}{rteams}
    UNION ALL
    SELECT CAST(team AS String) AS team, repo, CAST(repo_owner AS String) AS repo_owner, count() AS n,
        uniqExactState(CAST(employee_id AS String)) AS e
    FROM contributions FINAL
    WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to} AND team != ''{filter}
    GROUP BY team, repo, repo_owner
)
GROUP BY team, repo, repo_owner
ORDER BY team, contributions DESC, repo
LIMIT {limit} BY team
