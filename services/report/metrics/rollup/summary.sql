-- summary, from the rollups: the period's totals, as the summary statement defines them; counts
-- and distinct employees from contributions_rollup, distinct upstream repositories and owners
-- from the rows of repos_rollup (one a repository: counting their names is cheaper than merging
-- the per-day sets of contributions_rollup), decisions from decisions_rollup, each for the
-- months whose rollup is current, the others from contributions FINAL.
SELECT c.contributions, c.upstream_contributions, s.active_contributors, r.upstream_repos, r.upstream_orgs,
    c.prs_opened, d.prs_closed, d.prs_merged, c.personal_contributions, c.fork_contributions
FROM
(
    SELECT sum(n) AS contributions, sumIf(n, is_upstream = 1) AS upstream_contributions,
        sumIf(n, kind = 'pull_request') AS prs_opened, sumIf(n, destination = 'personal') AS personal_contributions,
        sumIf(n, destination = 'fork') AS fork_contributions
    FROM
    (
        SELECT is_upstream, CAST(destination AS String) AS destination, CAST(kind AS String) AS kind, sum(contributions) AS n
        FROM contributions_rollup
        WHERE src IN ({fresh}) AND grain = 'day' AND kind != '' AND day >= {from_day} AND day < {to_day}{rfilter}
        GROUP BY is_upstream, destination, kind
        UNION ALL
        SELECT is_upstream, CAST(destination AS String) AS destination, CAST(kind AS String) AS kind, count() AS n
        FROM contributions FINAL
        WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to}{filter}
        GROUP BY is_upstream, destination, kind
    )
) AS c
CROSS JOIN
(
    SELECT uniqExactMerge(e) AS active_contributors
    FROM
    (
        SELECT employees AS e
        FROM contributions_rollup
        WHERE src IN ({fresh}) AND kind = '' AND {rdays}{rfilter}
        UNION ALL
        SELECT uniqExactState(CAST(employee_id AS String)) AS e
        FROM contributions FINAL
        WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to}{filter}
    )
) AS s
CROSS JOIN
(
    SELECT uniqExact(repo) AS upstream_repos, uniqExact(repo_owner) AS upstream_orgs
    FROM
    (
        SELECT repo, repo_owner
        FROM repos_rollup
        WHERE src IN ({fresh}) AND is_upstream = 1 AND {rdays}{rfilter}
        UNION ALL
        SELECT DISTINCT repo, CAST(repo_owner AS String) AS repo_owner
        FROM contributions FINAL
        WHERE {stale} AND is_upstream = 1 AND occurred_at >= {from} AND occurred_at < {to}{filter}
    )
) AS r
CROSS JOIN
(
    SELECT sum(c) AS prs_closed, sum(m) AS prs_merged
    FROM
    (
        SELECT sum(closed) AS c, sum(merged) AS m
        FROM decisions_rollup
        WHERE src IN ({fresh}) AND day >= {from_day} AND day < {to_day}{rfilter}
        UNION ALL
        SELECT count() AS c, countIf(merged = 1) AS m
        FROM
        (
            SELECT merged, coalesce(merged_at, closed_at) AS decided_at
            FROM contributions FINAL
            WHERE {stale} AND kind = 'pull_request' AND (state = 'closed' OR merged = 1)
                AND occurred_at < {to}{filter}
        )
        WHERE decided_at >= {from} AND decided_at < {to}
    )
) AS d
