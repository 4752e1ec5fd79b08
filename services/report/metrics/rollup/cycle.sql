-- cycle, from the rollups: the same answer as sql/cycle.sql. Per dependency (the latest import),
-- the contributions, merged pull requests and contributors of the period from repos_rollup
-- (whole months from its month rows, the other days from its day rows) and the pull requests
-- merged in the twelve months before the period's end from merges_rollup (by day of the merge),
-- for the months whose rollup is current; from contributions FINAL for the others.
SELECT d.repo AS repo, d.criticality AS criticality, c.contributions AS contributions, c.merged_prs AS merged_prs,
       c.contributors AS contributors, c.merged_last_year AS merged_last_year
FROM current_dependencies AS d
LEFT JOIN
(
    SELECT r, sum(n) AS contributions, sum(m) AS merged_prs, uniqExactMerge(e) AS contributors, sum(y) AS merged_last_year
    FROM
    (
        SELECT lower(repo) AS r, contributions AS n, merged_prs AS m, employees AS e, toUInt64(0) AS y
        FROM repos_rollup
        WHERE src IN ({fresh}) AND {rdays}{rfilter} AND lower(repo) IN (SELECT lower(repo) FROM current_dependencies)
        UNION ALL
        SELECT lower(repo) AS r, toUInt64(0) AS n, toUInt64(0) AS m, uniqExactStateIf(CAST('' AS String), 0) AS e, sum(merged) AS y
        FROM merges_rollup
        WHERE src IN ({fresh}) AND day >= toDate({to} - INTERVAL 12 MONTH) AND day < {to_day}{rfilter} AND lower(repo) IN (SELECT lower(repo) FROM current_dependencies)
        GROUP BY r
        UNION ALL
        SELECT lower(repo) AS r,
               countIf(occurred_at >= {from} AND occurred_at < {to}) AS n,
               countIf(occurred_at >= {from} AND occurred_at < {to} AND kind = 'pull_request' AND merged = 1) AS m,
               uniqExactStateIf(CAST(employee_id AS String), occurred_at >= {from} AND occurred_at < {to}) AS e,
               countIf(kind = 'pull_request' AND merged = 1 AND merged_at >= {to} - INTERVAL 12 MONTH AND merged_at < {to}) AS y
        FROM contributions FINAL
        WHERE {stale} AND ((occurred_at >= {from} AND occurred_at < {to})
           OR (kind = 'pull_request' AND merged = 1 AND merged_at >= {to} - INTERVAL 12 MONTH AND merged_at < {to})){filter} AND lower(repo) IN (SELECT lower(repo) FROM current_dependencies)
        GROUP BY r
    )
    GROUP BY r
) AS c ON c.r = lower(d.repo)
ORDER BY criticality DESC, contributions DESC, repo
