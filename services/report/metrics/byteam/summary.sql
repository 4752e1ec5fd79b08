-- summary by team: the summary statement's totals for every team at once, one row a team (team
-- != '') with contributions or decisions in the period, by the team each row is attributed to.
SELECT
    team,
    countIf(occurred_at >= {from}) AS contributions,
    countIf(occurred_at >= {from} AND is_upstream = 1) AS upstream_contributions,
    uniqExactIf(employee_id, occurred_at >= {from} AND employee_id != '') AS active_contributors,
    uniqExactIf(repo, occurred_at >= {from} AND is_upstream = 1) AS upstream_repos,
    uniqExactIf(repo_owner, occurred_at >= {from} AND is_upstream = 1) AS upstream_orgs,
    countIf(kind = 'pull_request' AND occurred_at >= {from}) AS prs_opened,
    countIf(kind = 'pull_request' AND decided AND decided_at >= {from} AND decided_at < {to}) AS prs_closed,
    countIf(kind = 'pull_request' AND decided AND decided_at >= {from} AND decided_at < {to} AND merged = 1) AS prs_merged,
    countIf(occurred_at >= {from} AND destination = 'personal') AS personal_contributions,
    countIf(occurred_at >= {from} AND destination = 'fork') AS fork_contributions
FROM
(
    SELECT CAST(team AS String) AS team, kind, occurred_at, employee_id, is_upstream, destination, repo, repo_owner, merged,
        state = 'closed' OR merged = 1 AS decided,
        coalesce(merged_at, closed_at) AS decided_at
    FROM contributions FINAL
    WHERE occurred_at < {to} AND (occurred_at >= {from} OR kind = 'pull_request') AND team != ''{filter}
)
GROUP BY team
ORDER BY team
