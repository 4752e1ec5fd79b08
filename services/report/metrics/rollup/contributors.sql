-- contributors, from the rollups: distinct employees with at least one contribution, by month;
-- whole months from the rollup's month rows, the other days from its day rows, the months whose
-- rollup is not current from contributions FINAL.
SELECT month, uniqExactMerge(s) AS contributors
FROM
(
    SELECT toStartOfMonth(day) AS month, employees AS s
    FROM contributions_rollup
    WHERE src IN ({fresh}) AND kind = '' AND {rdays}{rfilter}
    UNION ALL
    SELECT toStartOfMonth(occurred_at) AS month, uniqExactState(CAST(employee_id AS String)) AS s
    FROM contributions FINAL
    WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to} AND employee_id != ''{filter}
    GROUP BY month
)
GROUP BY month
ORDER BY month
