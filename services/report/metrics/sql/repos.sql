-- repos: the repositories with the most contributions, ties by name, each with its distinct
-- employees; every row also carries the period's distinct repositories and owners, so one scan
-- answers both.
SELECT repo, count() AS contributions, uniqExactIf(employee_id, employee_id != '') AS contributors,
    count() OVER () AS repos, uniqExact(repo_owner) OVER () AS orgs
FROM contributions FINAL
WHERE occurred_at >= {from} AND occurred_at < {to}{filter}
GROUP BY repo, repo_owner
ORDER BY contributions DESC, repo
LIMIT {limit}
