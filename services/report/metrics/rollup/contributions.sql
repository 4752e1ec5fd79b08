-- contributions, from the rollups: contributions by month (of occurred_at) and kind; the months
-- whose rollup is current ({fresh}) from contributions_rollup, the others from contributions FINAL.
SELECT month, kind, sum(n) AS contributions
FROM
(
    SELECT toStartOfMonth(day) AS month, CAST(kind AS String) AS kind, sum(contributions) AS n
    FROM contributions_rollup
    WHERE src IN ({fresh}) AND grain = 'day' AND kind != '' AND day >= {from_day} AND day < {to_day}{rfilter}
    GROUP BY month, kind
    UNION ALL
    SELECT toStartOfMonth(occurred_at) AS month, CAST(kind AS String) AS kind, count() AS n
    FROM contributions FINAL
    WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to}{filter}
    GROUP BY month, kind
)
GROUP BY month, kind
ORDER BY month, kind
