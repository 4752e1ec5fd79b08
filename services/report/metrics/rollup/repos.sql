-- repos, from the rollups: as the repos statement defines it, with each repository's
-- contributions and distinct employees from repos_rollup (whole months from its month rows, the
-- other days from its day rows) for the months whose rollup is current, and from contributions
-- FINAL for the others. In two steps, since the order needs no distinct count: the
-- contributions of every repository (reading no employees' states) give the top rows and the
-- counts of repositories and owners; then the distinct employees of the top rows alone, whose
-- states are the costly part to read and merge.
WITH found AS
(
    SELECT repo, repo_owner, contributions AS n, employees AS e
    FROM repos_rollup
    WHERE src IN ({fresh}) AND {rdays}{rfilter}
    UNION ALL
    SELECT repo, CAST(repo_owner AS String) AS repo_owner, count() AS n, uniqExactState(CAST(employee_id AS String)) AS e
    FROM contributions FINAL
    WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to}{filter}
    GROUP BY repo, repo_owner
),
top AS
(
    SELECT repo, repo_owner, sum(n) AS contributions, count() OVER () AS repos, uniqExact(repo_owner) OVER () AS orgs
    FROM found
    GROUP BY repo, repo_owner
    ORDER BY contributions DESC, repo
    LIMIT {limit}
)
SELECT t.repo AS repo, t.contributions AS contributions, c.contributors AS contributors, t.repos AS repos, t.orgs AS orgs
FROM top AS t
LEFT JOIN
(
    SELECT repo, repo_owner, uniqExactMerge(e) AS contributors
    FROM found
    WHERE repo IN (SELECT repo FROM top)
    GROUP BY repo, repo_owner
) AS c ON c.repo = t.repo AND c.repo_owner = t.repo_owner
ORDER BY contributions DESC, repo
