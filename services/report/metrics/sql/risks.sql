-- risks: the company's dependencies (the latest import) and the employees' part in them: per
-- dependency, how many of the company's services use it (criticality) and the employees'
-- contributions to it in the period. Which dependencies are at risk, and why, is decided with
-- the Elephant Factor (activity), the trend and the last merge or release (health); see
-- METRICS.md. The most critical first.
SELECT d.repo AS repo, d.criticality AS criticality, c.contributions AS contributions
FROM current_dependencies AS d
LEFT JOIN
(
    SELECT lower(repo) AS r, count() AS contributions
    FROM contributions FINAL
    WHERE occurred_at >= {from} AND occurred_at < {to}{filter} AND lower(repo) IN (SELECT lower(repo) FROM current_dependencies)
    GROUP BY r
) AS c ON c.r = lower(d.repo)
ORDER BY criticality DESC, repo
