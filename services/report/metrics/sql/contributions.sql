-- contributions: contributions by month (of occurred_at) and kind.
SELECT toStartOfMonth(occurred_at) AS month, kind, count() AS contributions
FROM contributions FINAL
WHERE occurred_at >= {from} AND occurred_at < {to}{filter}
GROUP BY month, kind
ORDER BY month, kind
