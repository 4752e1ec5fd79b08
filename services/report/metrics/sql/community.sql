-- community: the community inflow, what comes back to the company's own open source. One row
-- per outside contributor (no roster row: employee_id is empty) and month of the period in which
-- they contributed to a public repository of a company org (destination company_oss), with their
-- contributions that month, whether their first contribution to any such repository (looking
-- before the period too) falls in the period (new) or before it (returning), and the month of
-- that first contribution. The team and upstream conditions do not apply: these people have no
-- team, and the destination is fixed.
SELECT login, toStartOfMonth(occurred_at) AS month, count() AS contributions,
    min(first_contribution) >= {from} AS is_new, toStartOfMonth(min(first_contribution)) AS first_month
FROM
(
    SELECT lower(actor_login) AS login, occurred_at,
        min(occurred_at) OVER (PARTITION BY lower(actor_login)) AS first_contribution
    FROM contributions FINAL
    WHERE occurred_at < {to} AND destination = 'company_oss' AND employee_id = '' AND actor_login != ''
)
WHERE occurred_at >= {from}
GROUP BY login, month
ORDER BY login, month
