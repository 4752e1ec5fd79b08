-- newcomers by team, from the rollups: as the newcomers by team statement defines it, with the
-- contributions per team, employee and month from newcomers_rollup and each employee's first
-- upstream contribution ({first_upstream}, metrics.firstUpstream); the months whose rollup is
-- not current from contributions FINAL.
SELECT c.team AS team, c.employee_id AS employee_id, c.month AS month, sum(c.n) AS contributions,
    any(f.first_at) >= {from} AS is_new, toStartOfMonth(any(f.first_at)) AS first_month
FROM
(
    SELECT CAST(team AS String) AS team, employee_id, toStartOfMonth(day) AS month, sum(contributions) AS n
    FROM newcomers_rollup
    WHERE src IN ({fresh}) AND {rdays} AND team != ''{filter}
    GROUP BY team, employee_id, month
    UNION ALL
    SELECT CAST(team AS String) AS team, employee_id, toStartOfMonth(occurred_at) AS month, count() AS n
    FROM contributions FINAL
    WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to} AND team != ''{filter}
    GROUP BY team, employee_id, month
) AS c
INNER JOIN {first_upstream} AS f ON f.employee_id = c.employee_id
GROUP BY team, employee_id, month
ORDER BY team, employee_id, month
