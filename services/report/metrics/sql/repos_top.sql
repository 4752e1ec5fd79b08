-- repos_top: the repositories with the most contributions, ties by name.
SELECT repo, count() AS contributions, uniqExactIf(employee_id, employee_id != '') AS contributors
FROM contributions FINAL
WHERE occurred_at >= {from} AND occurred_at < {to}{filter}
GROUP BY repo
ORDER BY contributions DESC, repo
LIMIT {limit}
