-- repos_reached: distinct repositories and owners (orgs) that received a contribution.
SELECT uniqExact(repo) AS repos, uniqExact(repo_owner) AS orgs
FROM contributions FINAL
WHERE occurred_at >= {from} AND occurred_at < {to}{filter}
