-- reach: the upstream organizations and foundations reached. One row per repository the
-- employees contributed to in the period, with its owner (the organization), its foundation
-- ('' for none; the most recent classification when it changed) and the contributions; owners
-- and repositories compare case-insensitively.
SELECT lower(repo_owner) AS org_key, any(repo_owner) AS org, lower(repo) AS repo_key,
    argMax(foundation, occurred_at) AS foundation, count() AS contributions
FROM contributions FINAL
WHERE occurred_at >= {from} AND occurred_at < {to}{filter}
GROUP BY org_key, repo_key
ORDER BY org_key, repo_key
