-- projects: the employees' work per project. One row per repository they contributed to in the
-- period or decided a pull request in: whether it is a dependency and its criticality (as enrich
-- flagged the contributions), the contributions made in the period, the pull requests decided in
-- the period (merged or closed, by merged_at else closed_at, as in the summary) and merged, the
-- median hours from opening to merge of those merged, the maintainer seats (distinct employees
-- who approved or merged in the period) and the last contribution. The project is named as
-- these rows spell it (the first in byte order when they spell it more ways). The most
-- contributed first, then by name, at most {limit}; every row also carries the number of
-- projects.
SELECT min(repo) AS project, max(is_dependency) AS dependency, max(dependency_criticality) AS criticality,
    countIf(occurred_at >= {from}) AS period_contributions,
    countIf(kind = 'pull_request' AND decided AND decided_at >= {from} AND decided_at < {to}) AS prs_closed,
    countIf(kind = 'pull_request' AND decided AND decided_at >= {from} AND decided_at < {to} AND merged = 1) AS prs_merged,
    quantileIf(0.5)(dateDiff('second', occurred_at, assumeNotNull(merged_at)),
        kind = 'pull_request' AND merged = 1 AND decided_at >= {from} AND decided_at < {to}) / 3600 AS median_merge_hours,
    uniqExactIf(employee_id, occurred_at >= {from} AND ((kind = 'review' AND state = 'approved') OR kind = 'merge')) AS seats,
    maxIf(occurred_at, occurred_at >= {from}) AS last_contribution,
    count() OVER () AS projects
FROM
(
    SELECT kind, occurred_at, repo, employee_id, is_dependency, dependency_criticality, merged, merged_at, state,
        state = 'closed' OR merged = 1 AS decided,
        coalesce(merged_at, closed_at) AS decided_at
    FROM contributions FINAL
    WHERE occurred_at < {to} AND (occurred_at >= {from} OR (kind = 'pull_request' AND (state = 'closed' OR merged = 1)
        AND coalesce(merged_at, closed_at) >= {from} AND coalesce(merged_at, closed_at) < {to})){filter}
)
GROUP BY lower(repo)
HAVING period_contributions > 0 OR prs_closed > 0
ORDER BY period_contributions DESC, lower(project)
LIMIT {limit}
