-- acceptance, from the rollups: pull requests decided (merged, or closed without merge) by
-- month of decision; those of the months (opened) whose rollup is current from decisions_rollup,
-- the others from contributions FINAL.
SELECT month, sum(c) AS closed, sum(m) AS merged
FROM
(
    SELECT toStartOfMonth(day) AS month, sum(closed) AS c, sum(merged) AS m
    FROM decisions_rollup
    WHERE src IN ({fresh}) AND day >= {from_day} AND day < {to_day}{rfilter}
    GROUP BY month
    UNION ALL
    SELECT toStartOfMonth(assumeNotNull(decided_at)) AS month, count() AS c, countIf(merged = 1) AS m
    FROM
    (
        SELECT merged, coalesce(merged_at, closed_at) AS decided_at
        FROM contributions FINAL
        WHERE {stale} AND kind = 'pull_request' AND (state = 'closed' OR merged = 1)
            AND occurred_at < {to}{filter}
    )
    WHERE decided_at >= {from} AND decided_at < {to}
    GROUP BY month
)
GROUP BY month
ORDER BY month
