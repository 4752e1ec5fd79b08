-- risks, from the rollups: the same answer as sql/risks.sql. The employees' contributions to each
-- dependency in the period from repos_rollup (whole months from its month rows, the other days
-- from its day rows) for the months whose rollup is current, from contributions FINAL for the
-- others.
SELECT d.repo AS repo, d.criticality AS criticality, c.contributions AS contributions
FROM current_dependencies AS d
LEFT JOIN
(
    SELECT r, sum(n) AS contributions
    FROM
    (
        SELECT lower(repo) AS r, contributions AS n
        FROM repos_rollup
        WHERE src IN ({fresh}) AND {rdays}{rfilter} AND lower(repo) IN (SELECT lower(repo) FROM current_dependencies)
        UNION ALL
        SELECT lower(repo) AS r, count() AS n
        FROM contributions FINAL
        WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to}{filter} AND lower(repo) IN (SELECT lower(repo) FROM current_dependencies)
        GROUP BY r
    )
    GROUP BY r
) AS c ON c.r = lower(d.repo)
ORDER BY criticality DESC, repo
