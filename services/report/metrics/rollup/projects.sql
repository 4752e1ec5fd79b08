-- projects, from the rollups: the same answer as sql/projects.sql. Two sides joined by project
-- (the lower-cased repository): the period's contributions, with their maintainer seats, latest
-- time and dependency flags, from repos_rollup (whole months from its month rows, the other days
-- from its day rows); and the pull requests decided in the period, whenever they were opened, with
-- their median time to merge, from prs_rollup (one row a pull request). Each side reads the months
-- whose rollup is current from the rollup, the others from contributions FINAL.
WITH
made AS
(
    SELECT r, min(name) AS name, max(dep) AS dep, max(crit) AS crit, sum(n) AS n, uniqExactMerge(s) AS seats, max(last) AS last
    FROM
    (
        SELECT lower(repo) AS r, repo AS name, is_dependency AS dep, criticality AS crit, contributions AS n, seats AS s, last_at AS last
        FROM repos_rollup
        WHERE src IN ({fresh}) AND {rdays}{rfilter}
        UNION ALL
        SELECT lower(repo) AS r, min(repo) AS name, max(is_dependency) AS dep, max(dependency_criticality) AS crit, count() AS n,
            uniqExactStateIf(CAST(employee_id AS String), (kind = 'review' AND state = 'approved') OR kind = 'merge') AS s,
            max(occurred_at) AS last
        FROM contributions FINAL
        WHERE {stale} AND occurred_at >= {from} AND occurred_at < {to}{filter}
        GROUP BY r
    )
    GROUP BY r
),
decided AS
(
    SELECT repo_l AS r, min(repo) AS name, max(is_dependency) AS dep, max(criticality) AS crit, count() AS closed,
        countIf(merged = 1) AS merges,
        quantileIf(0.5)(dateDiff('second', opened_at, assumeNotNull(merged_at)), merged = 1) / 3600 AS median_merge_hours
    FROM
    (
        SELECT repo_l, repo, is_dependency, criticality, opened_at, merged, merged_at
        FROM prs_rollup
        WHERE src IN ({fresh}) AND opened_at < {to} AND decided_at >= {from} AND decided_at < {to}{filter}
        UNION ALL
        SELECT lower(repo) AS repo_l, repo, is_dependency, dependency_criticality AS criticality, occurred_at AS opened_at, merged, merged_at
        FROM contributions FINAL
        WHERE {stale} AND kind = 'pull_request' AND occurred_at < {to} AND (state = 'closed' OR merged = 1)
            AND coalesce(merged_at, closed_at) >= {from} AND coalesce(merged_at, closed_at) < {to}{filter}
    )
    GROUP BY r
)
SELECT multiIf(m.name = '', d.name, d.name = '', m.name, least(m.name, d.name)) AS project, greatest(m.dep, d.dep) AS dependency,
    greatest(m.crit, d.crit) AS criticality, m.n AS period_contributions, d.closed AS prs_closed, d.merges AS prs_merged,
    d.median_merge_hours AS median_merge_hours, m.seats AS seats, m.last AS last_contribution, count() OVER () AS projects
FROM made AS m
FULL OUTER JOIN decided AS d ON d.r = m.r
WHERE m.n > 0 OR d.closed > 0
ORDER BY period_contributions DESC, lower(project)
LIMIT {limit}
SETTINGS join_use_nulls = 0
