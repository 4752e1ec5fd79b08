-- seats: maintainer seats. One row per project and employee who, in the period, approved
-- (a review whose state is approved) or merged (a merge row) a pull request authored by
-- someone else, with how many of each, the employee's latest login and team, and the last such
-- act; every row also carries the number of seats, so one scan answers both. GitHub refuses an
-- author's approval of their own pull request, and a merge row exists only for a merge by
-- someone other than the author.
SELECT any(repo) AS project, employee_id, argMax(actor_login, occurred_at) AS login, argMax(team, occurred_at) AS current_team,
    countIf(kind = 'review') AS approvals, countIf(kind = 'merge') AS merges, max(occurred_at) AS last,
    count() OVER () AS seats
FROM contributions FINAL
WHERE occurred_at >= {from} AND occurred_at < {to} AND ((kind = 'review' AND state = 'approved') OR kind = 'merge'){filter}
GROUP BY lower(repo), employee_id
ORDER BY approvals + merges DESC, lower(project), login
LIMIT {limit}
