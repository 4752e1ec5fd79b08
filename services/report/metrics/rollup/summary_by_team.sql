-- summary by team, from the rollups: the summary of every team at once, as the summary by team
-- statement defines it; each part (counts, distinct employees, repositories and owners,
-- decisions) grouped by team over the rows of one team ({rteams}) of the months whose rollup is
-- current, and over contributions FINAL for the others, then the parts added up per team.
SELECT team, sum(contributions) AS contributions, sum(upstream_contributions) AS upstream_contributions,
    sum(active_contributors) AS active_contributors, sum(upstream_repos) AS upstream_repos, sum(upstream_orgs) AS upstream_orgs,
    sum(prs_opened) AS prs_opened, sum(prs_closed) AS prs_closed, sum(prs_merged) AS prs_merged,
    sum(personal_contributions) AS personal_contributions, sum(fork_contributions) AS fork_contributions
FROM
(
    SELECT team, sum(n) AS contributions, sumIf(n, is_upstream = 1) AS upstream_contributions,
        toUInt64(0) AS active_contributors, toUInt64(0) AS upstream_repos, toUInt64(0) AS upstream_orgs,
        sumIf(n, kind = 'pull_request') AS prs_opened, toUInt64(0) AS prs_closed, toUInt64(0) AS prs_merged,
        sumIf(n, destination = 'personal') AS personal_contributions, sumIf(n, destination = 'fork') AS fork_contributions
    FROM
    (
        SELECT CAST(team AS String) AS team, is_upstream, CAST(destination AS String) AS destination, CAST(kind AS String) AS kind,
            sum(contributions) AS n
        FROM contributions_rollup
        WHERE src IN ({fresh}) AND grain = 'day' AND kind != '' AND day >= {from_day} AND day < {to_day}{rteams}
        GROUP BY team, is_upstream, destination, kind
        UNION ALL
        SELECT CAST(team AS String) AS team, is_upstream, CAST(destination AS String) AS destination, CAST(kind AS String) AS kind,
            count() AS n
        FROM contributions FINAL
        WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to} AND team != ''{filter}
        GROUP BY team, is_upstream, destination, kind
    )
    GROUP BY team
    UNION ALL
    SELECT team, toUInt64(0), toUInt64(0), uniqExactMerge(e), uniqExactMergeIf(r, u = 1), uniqExactMergeIf(o, u = 1),
        toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0)
    FROM
    (
        SELECT CAST(team AS String) AS team, is_upstream AS u, employees AS e, repos AS r, owners AS o
        FROM contributions_rollup
        WHERE src IN ({fresh}) AND kind = '' AND {rdays}{rteams}
        UNION ALL
        SELECT CAST(team AS String) AS team, is_upstream AS u, uniqExactState(CAST(employee_id AS String)) AS e,
            uniqExactState(repo) AS r, uniqExactState(CAST(repo_owner AS String)) AS o
        FROM contributions FINAL
        WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to} AND team != ''{filter}
        GROUP BY team, is_upstream
    )
    GROUP BY team
    UNION ALL
    SELECT team, toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), sum(c), sum(m), toUInt64(0), toUInt64(0)
    FROM
    (
        SELECT CAST(team AS String) AS team, sum(closed) AS c, sum(merged) AS m
        FROM decisions_rollup
        WHERE src IN ({fresh}) AND day >= {from_day} AND day < {to_day}{rteams}
        GROUP BY team
        UNION ALL
        SELECT team, count() AS c, countIf(merged = 1) AS m
        FROM
        (
            SELECT CAST(team AS String) AS team, merged, coalesce(merged_at, closed_at) AS decided_at
            FROM contributions FINAL
            WHERE {stale} AND kind = 'pull_request' AND (state = 'closed' OR merged = 1)
                AND occurred_at < {to} AND team != ''{filter}
        )
        WHERE decided_at >= {from} AND decided_at < {to}
        GROUP BY team
    )
    GROUP BY team
)
GROUP BY team
ORDER BY team
