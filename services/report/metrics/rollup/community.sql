-- community, from the rollups: the same answer as sql/community.sql. Each login's contributions per
-- month of the period from community_rollup (whole months from its month rows, the other days from
-- its day rows), and its first contribution ever before the period's end from the month rows of
-- the months before the end's and the day rows of that month, for the months whose rollup is
-- current; from contributions FINAL for the others.
SELECT c.login AS login, c.month AS month, c.contributions AS contributions, f.first_ever >= {from} AS is_new,
    toStartOfMonth(f.first_ever) AS first_month
FROM
(
    SELECT login, month, sum(n) AS contributions
    FROM
    (
        SELECT login, toStartOfMonth(day) AS month, sum(contributions) AS n
        FROM community_rollup
        WHERE src IN ({fresh}) AND {rdays}
        GROUP BY login, month
        UNION ALL
        SELECT lower(actor_login) AS login, toStartOfMonth(occurred_at) AS month, count() AS n
        FROM contributions FINAL
        WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to} AND destination = 'company_oss' AND employee_id = ''
            AND actor_login != ''
        GROUP BY login, month
    )
    GROUP BY login, month
) AS c
INNER JOIN
(
    SELECT login, min(first) AS first_ever
    FROM
    (
        SELECT login, min(first_at) AS first
        FROM community_rollup
        WHERE src IN ({fresh})
            AND ((grain = 'month' AND day < toStartOfMonth({to_day}))
                OR (grain = 'day' AND day >= toStartOfMonth({to_day}) AND day < {to_day}))
        GROUP BY login
        UNION ALL
        SELECT lower(actor_login) AS login, min(occurred_at) AS first
        FROM contributions FINAL
        WHERE {stale} AND occurred_at < {to} AND destination = 'company_oss' AND employee_id = '' AND actor_login != ''
        GROUP BY login
    )
    GROUP BY login
) AS f ON f.login = c.login
WHERE c.contributions > 0
ORDER BY login, month
