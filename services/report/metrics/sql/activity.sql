-- activity: the project totals (project_activity: GH Archive events of every actor) of the
-- repositories {repos}, for the share of activity and the Elephant Factor. One row per
-- repository and actor with events in the period, with those events and whether the actor is an
-- employee (a login of a stored contribution attributed to an employee). The people who opted
-- out are one actor without a name.
SELECT lower(repo) AS repo_key, actor, sum(events) AS n,
    actor != '' AND lower(actor) IN (SELECT lower(actor_login) FROM contributions FINAL WHERE employee_id != '' AND actor_login != '') AS employee
FROM project_activity FINAL
WHERE lower(repo) IN {repo_set} AND day >= toDate({from}) AND day < toDate({to})
GROUP BY repo_key, actor
ORDER BY repo_key, n DESC, actor
