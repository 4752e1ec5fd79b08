-- responsiveness: how fast projects answer the company's pull requests, by month opened, with the period's totals in the row whose month is 1970-01-01 (ROLLUP): pull requests opened, those someone other than the author answered, the median hours to that first answer, and the median changed lines of those whose size is known.
SELECT toStartOfMonth(occurred_at) AS month, count() AS opened, countIf(first_response_at IS NOT NULL) AS answered,
       quantileIf(0.5)(dateDiff('second', occurred_at, assumeNotNull(first_response_at)), first_response_at IS NOT NULL) / 3600 AS median_hours,
       quantileIf(0.5)(additions + deletions, changed_files > 0) AS median_lines
FROM contributions FINAL
WHERE kind = 'pull_request' AND occurred_at >= {from} AND occurred_at < {to}{filter}
GROUP BY ROLLUP(month)
ORDER BY month
