-- newcomers: new and returning upstream contributors. One row per employee and month of the
-- period in which they made upstream contributions (the team filter applies to these), with
-- those contributions and the time of the employee's first upstream contribution ever, in any
-- team: an employee is new in the period, and in a month, when that first contribution falls in
-- it, and returning when it came before.
SELECT c.employee_id AS employee_id, c.month AS month, count() AS contributions,
    any(f.first_at) >= {from} AS is_new, toStartOfMonth(any(f.first_at)) AS first_month
FROM
(
    SELECT employee_id, toStartOfMonth(occurred_at) AS month
    FROM contributions FINAL
    WHERE occurred_at >= {from} AND occurred_at < {to}{filter}
) AS c
INNER JOIN
(
    SELECT employee_id, min(occurred_at) AS first_at
    FROM contributions FINAL
    WHERE employee_id != '' AND is_upstream = 1 AND occurred_at < {to}
    GROUP BY employee_id
) AS f ON f.employee_id = c.employee_id
GROUP BY employee_id, month
ORDER BY employee_id, month
