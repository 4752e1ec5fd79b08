-- community, from the rollups: the same answer as sql/community.sql, in one pass over
-- community_rollup: per login and month, the contributions of the period (whole months from the
-- month rows, the other days from the day rows) and the first contribution before the period's
-- end (the month rows of the months before the end's, the day rows of that month), for the months
-- whose rollup is current, and the same from contributions FINAL for the others; then, as there,
-- each login's first contribution ever is the earliest of its months.
SELECT login, month, contributions, first_ever >= {from} AS is_new, toStartOfMonth(first_ever) AS first_month
FROM
(
    SELECT login, month, contributions, min(first_in_month) OVER (PARTITION BY login) AS first_ever
    FROM
    (
        SELECT login, month, sum(n) AS contributions, min(first) AS first_in_month
        FROM
        (
            SELECT login, toStartOfMonth(day) AS month, sumIf(contributions, {rdays}) AS n,
                minIf(first_at, (grain = 'month' AND day < toStartOfMonth({to_day})) OR (grain = 'day' AND day >= toStartOfMonth({to_day}) AND day < {to_day})) AS first
            FROM community_rollup
            WHERE src IN ({fresh}) AND ({rdays} OR (grain = 'month' AND day < toStartOfMonth({to_day}))
                OR (grain = 'day' AND day >= toStartOfMonth({to_day}) AND day < {to_day}))
            GROUP BY login, month
            UNION ALL
            SELECT lower(actor_login) AS login, toStartOfMonth(occurred_at) AS month, countIf(occurred_at >= {from}) AS n, min(occurred_at) AS first
            FROM contributions FINAL
            WHERE {stale} AND occurred_at < {to} AND destination = 'company_oss' AND employee_id = '' AND actor_login != ''
            GROUP BY login, month
        )
        GROUP BY login, month
    )
)
WHERE contributions > 0
ORDER BY login, month
