-- contributors: distinct employees with at least one contribution, by month.
SELECT toStartOfMonth(occurred_at) AS month, uniqExact(employee_id) AS contributors
FROM contributions FINAL
WHERE occurred_at >= {from} AND occurred_at < {to} AND employee_id != ''{filter}
GROUP BY month
ORDER BY month
