-- people, from the rollups: the same answer as sql/people.sql. The contributions of the period
-- with their distinct repositories, and the pull requests merged in it with the login and time of
-- each, from people_rollup (whole months from its month rows, the other days from its day rows;
-- a merged pull request is on the row of the day of its merge) for the months whose rollup is
-- current, from contributions FINAL for the others; the first upstream contribution ever from
-- newcomers_rollup ({first_upstream}, metrics.firstUpstream).
SELECT c.employee_id AS employee_id, c.login AS login, c.current_team AS current_team, c.period_contributions AS period_contributions,
    c.prs_merged AS prs_merged, c.repos AS repos, f.first_at AS first_at, c.last_at AS last_at
FROM
(
    SELECT employee_id, argMaxMerge(l) AS login, argMax(team, at) AS current_team, sum(n) AS period_contributions,
        sum(m) AS prs_merged, uniqExactMerge(r) AS repos, max(at) AS last_at
    FROM
    (
        SELECT employee_id, CAST(team AS String) AS team, sum(contributions) AS n, sum(merged) AS m,
            uniqExactMergeState(repos) AS r, argMaxMergeState(login) AS l, max(last_at) AS at
        FROM people_rollup
        WHERE src IN ({fresh}) AND {rdays}{filter}
        GROUP BY employee_id, team
        UNION ALL
        SELECT employee_id, CAST(team AS String) AS team, countIf(occurred_at >= {from}) AS n,
            countIf(kind = 'pull_request' AND merged = 1 AND merged_at >= {from} AND merged_at < {to}) AS m,
            uniqExactStateIf(lower(repo), occurred_at >= {from}) AS r, argMaxState(CAST(actor_login AS String), occurred_at) AS l,
            max(occurred_at) AS at
        FROM contributions FINAL
        WHERE {stale} AND occurred_at < {to}
            AND (occurred_at >= {from} OR (kind = 'pull_request' AND merged = 1 AND merged_at >= {from} AND merged_at < {to})){filter}
        GROUP BY employee_id, team
    )
    GROUP BY employee_id
    HAVING period_contributions > 0 OR prs_merged > 0
) AS c
INNER JOIN {first_upstream} AS f ON f.employee_id = c.employee_id
ORDER BY period_contributions DESC, employee_id
