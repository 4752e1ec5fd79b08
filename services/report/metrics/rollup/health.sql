-- health, from the rollups: the same answer as sql/health.sql. The last merge or release among
-- the stored contributions is the latest day of merge_days_rollup that began before the
-- period's end (its first merge or release of the day earlier than {to}) for the months whose
-- rollup is current, and from contributions FINAL for the others.
SELECT r.repo_key AS repo_key, a.recent AS recent, a.previous AS previous, a.last_day AS last_day,
    greatest(a.last_release, c.last_merge) AS last_merge_or_release,
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
    SELECT repo_key, max(d) AS last_merge
    FROM
    (
        SELECT repo_key, day AS d
        FROM merge_days_rollup
        WHERE src IN ({fresh}) AND repo_key IN {repo_set} AND first_at < {to}
        UNION ALL
        SELECT lower(repo) AS repo_key, toDate(max(if(kind = 'pull_request', assumeNotNull(merged_at), occurred_at))) AS d
        FROM contributions FINAL
        WHERE {stale} AND lower(repo) IN {repo_set} AND ((kind = 'pull_request' AND merged = 1 AND merged_at < {to}) OR (kind IN ('merge', 'release') AND occurred_at < {to}))
        GROUP BY repo_key
    )
    GROUP BY repo_key
) AS c ON c.repo_key = r.repo_key
ORDER BY repo_key
