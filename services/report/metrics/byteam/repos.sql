-- repos by team: the repos statement for every team at once: each team's repositories with the
-- most contributions, ties by name, at most {limit} a team, each row carrying the team's
-- distinct repositories and owners of the period.
SELECT team, repo, count() AS contributions, uniqExactIf(employee_id, employee_id != '') AS contributors,
    count() OVER (PARTITION BY team) AS repos, uniqExact(repo_owner) OVER (PARTITION BY team) AS orgs
FROM
(
    SELECT CAST(team AS String) AS team, repo, repo_owner, employee_id
    FROM contributions FINAL
    WHERE occurred_at >= {from} AND occurred_at < {to} AND team != ''{filter}
)
GROUP BY team, repo, repo_owner
ORDER BY team, contributions DESC, repo
LIMIT {limit} BY team
