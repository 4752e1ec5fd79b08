-- health: the signs of a project's health in the project totals and the stored contributions,
-- for the repositories {repos}, up to the period's end. One row per repository: its events in the
-- three months before the period's end and in the three months before those, its last day of
-- activity, and its last merge or release known: a release in the totals (ReleaseEvent), or a
-- merged pull request, a merge or a release among the stored contributions, whoever made it.
-- The first row also tells since when the project totals cover anything (1970-01-01 when they
-- hold nothing), which says whether a lack of merges can be seen at all.
SELECT r.repo_key AS repo_key, a.recent AS recent, a.previous AS previous, a.last_day AS last_day,
    greatest(a.last_release, toDate(c.last_merge)) AS last_merge_or_release,
    (SELECT min(day) FROM project_activity) AS totals_since
FROM (SELECT arrayJoin({repos}) AS repo_key) AS r
LEFT JOIN
(
    SELECT lower(repo) AS repo_key,
        sumIf(events, day >= toDate({to} - INTERVAL 3 MONTH)) AS recent,
        sumIf(events, day >= toDate({to} - INTERVAL 6 MONTH) AND day < toDate({to} - INTERVAL 3 MONTH)) AS previous,
        max(day) AS last_day, maxIf(day, type = 'ReleaseEvent') AS last_release
    FROM project_activity FINAL
    WHERE lower(repo) IN {repo_set} AND day < toDate({to})
    GROUP BY repo_key
) AS a ON a.repo_key = r.repo_key
LEFT JOIN
(
    SELECT lower(repo) AS repo_key, max(if(kind = 'pull_request', assumeNotNull(merged_at), occurred_at)) AS last_merge
    FROM contributions FINAL
    WHERE lower(repo) IN {repo_set} AND ((kind = 'pull_request' AND merged = 1 AND merged_at < {to}) OR (kind IN ('merge', 'release') AND occurred_at < {to}))
    GROUP BY repo_key
) AS c ON c.repo_key = r.repo_key
ORDER BY repo_key
