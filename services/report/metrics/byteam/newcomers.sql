-- newcomers by team: the newcomers statement's rows for every team at once: one row per team,
-- employee and month of the period in which the employee made upstream contributions for the
-- team, with the time of the employee's first upstream contribution ever, in any team.
SELECT c.team AS team, c.employee_id AS employee_id, c.month AS month, count() AS contributions,
    any(f.first_at) >= {from} AS is_new, toStartOfMonth(any(f.first_at)) AS first_month
FROM
(
    SELECT CAST(team AS String) AS team, employee_id, toStartOfMonth(occurred_at) AS month
    FROM contributions FINAL
    WHERE occurred_at >= {from} AND occurred_at < {to} AND team != ''{filter}
) AS c
INNER JOIN
(
    SELECT employee_id, min(occurred_at) AS first_at
    FROM contributions FINAL
    WHERE employee_id != '' AND is_upstream = 1 AND occurred_at < {to}
    GROUP BY employee_id
) AS f ON f.employee_id = c.employee_id
GROUP BY team, employee_id, month
ORDER BY team, employee_id, month
