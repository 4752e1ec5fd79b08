-- acceptance: pull requests decided (merged, or closed without merge) by month of decision.
SELECT toStartOfMonth(decided_at) AS month, count() AS closed, countIf(merged = 1) AS merged
FROM
(
    SELECT merged, coalesce(merged_at, closed_at) AS decided_at
    FROM contributions FINAL
    WHERE kind = 'pull_request' AND (state = 'closed' OR merged = 1) AND occurred_at < {to}{filter}
)
WHERE decided_at >= {from} AND decided_at < {to}
GROUP BY month
ORDER BY month
