-- activity, from the rollups: the same answer as sql/activity.sql. Whether an actor of the project
-- totals is an employee is read from logins_rollup (the logins of the people on the roster, per
-- month) for the months whose rollup is current, from contributions FINAL for the others.
SELECT lower(repo) AS repo_key, actor, sum(events) AS n,
    actor != '' AND lower(actor) IN (
        SELECT login FROM logins_rollup WHERE src IN ({fresh})
        UNION ALL
        SELECT lower(actor_login) FROM contributions FINAL WHERE {stale} AND employee_id != '' AND actor_login != '') AS employee
FROM project_activity FINAL
WHERE lower(repo) IN {repo_set} AND day >= toDate({from}) AND day < toDate({to})
GROUP BY repo_key, actor
ORDER BY repo_key, n DESC, actor
