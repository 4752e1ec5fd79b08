-- people: each employee's upstream record. One row per employee with upstream contributions in
-- the period or a pull request merged in it (by merged_at, whenever it was opened): the
-- contributions, the pull requests merged, the distinct repositories, and the first upstream
-- contribution ever. The login and team are those of the latest of the period's contributions
-- and merged pull requests, and the last contribution is the time of that latest one. The most
-- contributing first, then by employee id.
SELECT employee_id, argMax(actor_login, occurred_at) AS login, argMax(team, occurred_at) AS current_team,
    countIf(occurred_at >= {from}) AS period_contributions,
    countIf(kind = 'pull_request' AND merged = 1 AND merged_at >= {from} AND merged_at < {to}) AS prs_merged,
    uniqExactIf(lower(repo), occurred_at >= {from}) AS repos,
    any(f.first_at) AS first_at, max(occurred_at) AS last_at
FROM
(
    SELECT employee_id, actor_login, team, kind, occurred_at, merged, merged_at, repo
    FROM contributions FINAL
    WHERE occurred_at < {to} AND (occurred_at >= {from} OR (kind = 'pull_request' AND merged = 1 AND merged_at >= {from} AND merged_at < {to})){filter}
) AS c
INNER JOIN
(
    SELECT employee_id, min(occurred_at) AS first_at
    FROM contributions FINAL
    WHERE employee_id != '' AND is_upstream = 1 AND occurred_at < {to}
    GROUP BY employee_id
) AS f ON f.employee_id = c.employee_id
GROUP BY employee_id
HAVING period_contributions > 0 OR prs_merged > 0
ORDER BY period_contributions DESC, employee_id
