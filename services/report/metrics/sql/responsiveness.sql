-- responsiveness: how fast projects answer and merge the company's pull requests, by month opened, with the period's totals in the row whose month is 1970-01-01 (ROLLUP): pull requests opened, those someone other than the author answered, the median hours to that first answer, those merged and the median hours to the merge, and the median changed lines of those whose size is known (sized: how many). The first answer is the earlier of the one the REST sync looked up and the first review or comment stored from any source by someone else (bots excluded), found in the same scan: rows are grouped by repository and number, which a pull request shares with its reviews and comments. Every pull request of the group counts, each with the answers at or after its own opening: a number opened twice (a repository whose name changed case, a number reused) is two pull requests, whatever the period.
SELECT toStartOfMonth(opened_at) AS month, count() AS opened, countIf(first_at IS NOT NULL) AS answered,
       quantileIf(0.5)(dateDiff('second', opened_at, assumeNotNull(first_at)), first_at IS NOT NULL) / 3600 AS median_hours,
       quantileIf(0.5)(lines, files > 0) AS median_lines,
       countIf(is_merged = 1 AND merged_time IS NOT NULL) AS prs_merged,
       quantileIf(0.5)(dateDiff('second', opened_at, assumeNotNull(merged_time)), is_merged = 1 AND merged_time IS NOT NULL) / 3600 AS median_hours_to_merge,
       countIf(files > 0) AS sized
FROM
(
    SELECT pr.1 AS opened_at, pr.2 AS author, pr.3 AS rest_first, pr.4 AS is_merged, pr.5 AS merged_time, pr.6 AS lines, pr.7 AS files,
           arrayMin(arrayMap(a -> a.2, arrayFilter(a -> a.1 != author AND a.2 >= opened_at, answers))) AS answer_at,
           multiIf(NOT arrayExists(a -> a.1 != author AND a.2 >= opened_at, answers), rest_first,
                   rest_first IS NULL, toNullable(answer_at), toNullable(least(assumeNotNull(rest_first), answer_at))) AS first_at
    FROM
    (
        SELECT groupArrayIf((occurred_at, lower(actor_login), first_response_at, merged, merged_at, additions + deletions, changed_files),
                            kind = 'pull_request') AS prs,
               groupArrayIf((lower(actor_login), occurred_at), kind != 'pull_request') AS answers
        FROM contributions FINAL
        WHERE (kind = 'pull_request' AND occurred_at >= {from} AND occurred_at < {to}{filter})
           OR (kind IN ('review', 'comment') AND number > 0 AND occurred_at >= {from} AND NOT endsWith(actor_login, '[bot]'))
        GROUP BY lower(repo), number
    )
    ARRAY JOIN prs AS pr
)
GROUP BY ROLLUP(month)
ORDER BY month
