-- responsiveness: how fast projects answer and merge the company's pull requests, by month opened, with the period's totals in the row whose month is 1970-01-01 (ROLLUP): pull requests opened, those someone other than the author answered, the median hours to that first answer, those merged and the median hours to the merge, and the median changed lines of those whose size is known (sized: how many). The first answer is the earlier of the one the REST sync looked up and the first review or comment stored from any source by someone else (bots excluded), found in the same scan: rows are grouped by repository and number, which a pull request shares with its reviews and comments.
SELECT toStartOfMonth(opened_at) AS month, count() AS opened, countIf(first_at IS NOT NULL) AS answered,
       quantileIf(0.5)(dateDiff('second', opened_at, assumeNotNull(first_at)), first_at IS NOT NULL) / 3600 AS median_hours,
       quantileIf(0.5)(lines, files > 0) AS median_lines,
       countIf(is_merged = 1 AND merged_time IS NOT NULL) AS prs_merged,
       quantileIf(0.5)(dateDiff('second', opened_at, assumeNotNull(merged_time)), is_merged = 1 AND merged_time IS NOT NULL) / 3600 AS median_hours_to_merge,
       countIf(files > 0) AS sized
FROM
(
    SELECT opened_at, is_merged, merged_time, lines, files,
           arrayMin(arrayMap(a -> a.2, arrayFilter(a -> a.1 != author AND a.2 >= opened_at, answers))) AS answer_at,
           multiIf(NOT arrayExists(a -> a.1 != author AND a.2 >= opened_at, answers), rest_first,
                   rest_first IS NULL, toNullable(answer_at), toNullable(least(assumeNotNull(rest_first), answer_at))) AS first_at
    FROM
    (
        SELECT countIf(kind = 'pull_request') AS prs,
               anyIf(occurred_at, kind = 'pull_request') AS opened_at,
               anyIf(lower(actor_login), kind = 'pull_request') AS author,
               anyIf(first_response_at, kind = 'pull_request') AS rest_first,
               anyIf(merged, kind = 'pull_request') AS is_merged,
               anyIf(merged_at, kind = 'pull_request') AS merged_time,
               anyIf(additions + deletions, kind = 'pull_request') AS lines,
               anyIf(changed_files, kind = 'pull_request') AS files,
               groupArrayIf((lower(actor_login), occurred_at), kind != 'pull_request') AS answers
        FROM contributions FINAL
        WHERE (kind = 'pull_request' AND occurred_at >= {from} AND occurred_at < {to}{filter})
           OR (kind IN ('review', 'comment') AND number > 0 AND occurred_at >= {from} AND NOT endsWith(actor_login, '[bot]'))
        GROUP BY lower(repo), number
        HAVING prs = 1
    )
)
GROUP BY ROLLUP(month)
ORDER BY month
