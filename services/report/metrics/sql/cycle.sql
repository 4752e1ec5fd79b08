-- cycle: the company's dependencies (the latest import) against what the company gave them: per dependency, how many of its services use it (criticality), the contributions made to it in the period, the pull requests merged among them, the contributors, and the pull requests merged in the twelve months before the period's end (give-back coverage); dependencies that received nothing are listed too.
SELECT d.repo AS repo, d.criticality AS criticality, c.contributions AS contributions, c.merged_prs AS merged_prs,
       c.contributors AS contributors, c.merged_last_year AS merged_last_year
FROM current_dependencies AS d
LEFT JOIN
(
    SELECT lower(repo) AS r,
           countIf(occurred_at >= {from} AND occurred_at < {to}) AS contributions,
           countIf(occurred_at >= {from} AND occurred_at < {to} AND kind = 'pull_request' AND merged = 1) AS merged_prs,
           uniqExactIf(employee_id, occurred_at >= {from} AND occurred_at < {to}) AS contributors,
           countIf(kind = 'pull_request' AND merged = 1 AND merged_at >= {to} - INTERVAL 12 MONTH AND merged_at < {to}) AS merged_last_year
    FROM contributions FINAL
    WHERE ((occurred_at >= {from} AND occurred_at < {to})
       OR (kind = 'pull_request' AND merged = 1 AND merged_at >= {to} - INTERVAL 12 MONTH AND merged_at < {to})){filter} AND lower(repo) IN (SELECT lower(repo) FROM current_dependencies)
    GROUP BY r
) AS c ON c.r = lower(d.repo)
ORDER BY criticality DESC, contributions DESC, repo
