-- newcomers, from the rollups: as the newcomers statement defines it. The employees'
-- contributions per month of the period from newcomers_rollup (whole months from its month
-- rows, the other days from its day rows), and each employee's first upstream contribution
-- before the period's end ({first_upstream}, metrics.firstUpstream); the months whose rollup is
-- not current from contributions FINAL.
SELECT c.employee_id AS employee_id, c.month AS month, sum(c.n) AS contributions,
    any(f.first_at) >= {from} AS is_new, toStartOfMonth(any(f.first_at)) AS first_month
FROM
(
    SELECT employee_id, toStartOfMonth(day) AS month, sum(contributions) AS n
    FROM newcomers_rollup
    WHERE src IN ({fresh}) AND {rdays}{filter}
    GROUP BY employee_id, month
    UNION ALL
    SELECT employee_id, toStartOfMonth(occurred_at) AS month, count() AS n
    FROM contributions FINAL
    WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to}{filter}
    GROUP BY employee_id, month
) AS c
INNER JOIN {first_upstream} AS f ON f.employee_id = c.employee_id
GROUP BY employee_id, month
ORDER BY employee_id, month
