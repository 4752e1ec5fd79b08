-- trend: the monthly activity of the repositories {repos} in the project totals
-- (project_activity: GH Archive events of every actor), over the twelve months ending with the
-- period's last month. One row per repository and month with events.
SELECT lower(repo) AS repo_key, toStartOfMonth(day) AS month, sum(events) AS n
FROM project_activity FINAL
WHERE lower(repo) IN {repo_set} AND day >= toStartOfMonth(toDate({to}) - 1) - INTERVAL 11 MONTH AND day < toDate({to})
GROUP BY repo_key, month
ORDER BY repo_key, month
