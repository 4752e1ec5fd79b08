-- repos, from the rollups: as the repos statement defines it, with each repository's
-- contributions and distinct employees from repos_rollup (whole months from its month rows, the
-- other days from its day rows) for the months whose rollup is current, and from contributions
-- FINAL for the others.
SELECT repo, sum(n) AS contributions, uniqExactMerge(e) AS contributors,
    count() OVER () AS repos, uniqExact(repo_owner) OVER () AS orgs
FROM
(
    SELECT repo, repo_owner, contributions AS n, employees AS e
    FROM repos_rollup
    WHERE src IN ({fresh}) AND {rdays}{rfilter}
    UNION ALL
    SELECT repo, CAST(repo_owner AS String) AS repo_owner, count() AS n, uniqExactState(CAST(employee_id AS String)) AS e
    FROM contributions FINAL
    WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to}{filter}
    GROUP BY repo, repo_owner
)
GROUP BY repo, repo_owner
ORDER BY contributions DESC, repo
LIMIT {limit}
