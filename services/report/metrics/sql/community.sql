-- community: the community inflow, what comes back to the company's own open source. One row
-- per outside contributor (no roster row: employee_id is empty) and month of the period in which
-- they contributed to a public repository of a company org (destination company_oss), with their
-- contributions that month, whether their first contribution to any such repository (looking
-- before the period too) falls in the period (new) or before it (returning), and the month of
-- that first contribution. The team and upstream conditions do not apply: these people have no
-- team, and the destination is fixed.
-- Rows are counted per login and month first, and each login's first contribution is taken over
-- those months, so the window runs over a row per login and month, not per contribution.
SELECT login, month, contributions, first_ever >= {from} AS is_new, toStartOfMonth(first_ever) AS first_month
FROM
(
    SELECT login, month, contributions, min(first_in_month) OVER (PARTITION BY login) AS first_ever
    FROM
    (
        SELECT lower(actor_login) AS login, toStartOfMonth(occurred_at) AS month, countIf(occurred_at >= {from}) AS contributions,
            min(occurred_at) AS first_in_month
        FROM contributions FINAL
        WHERE occurred_at < {to} AND destination = 'company_oss' AND employee_id = '' AND actor_login != ''
        GROUP BY login, month
    )
)
WHERE contributions > 0
ORDER BY login, month
