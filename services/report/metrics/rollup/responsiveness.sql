-- responsiveness, from the rollups: the same answer as sql/responsiveness.sql. The pull requests
-- of the months whose rollup is current come from prs_rollup, each with the first answer found in
-- its own month; the answers of those months from answers_rollup (the earliest answers of the
-- two people who answered each number first: one of them is not the author); the pull requests
-- and answers of the other months from contributions FINAL. They meet, as in the plain statement,
-- grouped by repository and number, and the first answer is the earliest by someone other than
-- the author at or after the opening. The answers of the months rolled up are read only for the
-- period's pull requests still unanswered in their own month: an answer of a later month never
-- comes before one of the pull request's own.
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
        SELECT sum(pr) AS prs,
               anyIf(at, pr = 1) AS opened_at,
               anyIf(actor, pr = 1) AS author,
               anyIf(rest, pr = 1) AS rest_first,
               anyIf(is_merged, pr = 1) AS is_merged,
               anyIf(merged_time, pr = 1) AS merged_time,
               anyIf(lines, pr = 1) AS lines,
               anyIf(files, pr = 1) AS files,
               groupArrayArray(found) AS answers
        FROM
        (
            SELECT repo_l, number, toUInt8(1) AS pr, opened_at AS at, author AS actor, rest_first AS rest, merged AS is_merged,
                   merged_at AS merged_time, lines, files,
                   if(answer_at IS NULL, [], [(answer_actor, assumeNotNull(answer_at))]) AS found
            FROM prs_rollup
            WHERE src IN ({fresh}) AND opened_at >= {from} AND opened_at < {to}{filter}
            UNION ALL
            SELECT repo_l, number, toUInt8(0) AS pr, toDateTime64(0, 3, 'UTC') AS at, '' AS actor,
                   CAST(NULL, 'Nullable(DateTime64(3, \'UTC\'))') AS rest, toUInt8(0) AS is_merged,
                   CAST(NULL, 'Nullable(DateTime64(3, \'UTC\'))') AS merged_time, toUInt64(0) AS lines, toUInt32(0) AS files,
                   answers AS found
            FROM answers_rollup
            WHERE src IN ({fresh}) AND src >= toYYYYMM({from})
              AND (repo_l, number) IN
              (
                  SELECT repo_l, number FROM prs_rollup
                  WHERE src IN ({fresh}) AND opened_at >= {from} AND opened_at < {to}{filter} AND answer_at IS NULL
                  UNION ALL
                  SELECT lower(repo), number FROM contributions FINAL
                  WHERE {stale} AND kind = 'pull_request' AND occurred_at >= {from} AND occurred_at < {to}{filter}
              )
            UNION ALL
            SELECT lower(repo) AS repo_l, number, toUInt8(kind = 'pull_request') AS pr, occurred_at AS at, lower(actor_login) AS actor,
                   first_response_at AS rest, merged AS is_merged, merged_at AS merged_time, toUInt64(additions + deletions) AS lines,
                   changed_files AS files,
                   if(kind = 'pull_request', [], [(lower(actor_login), occurred_at)]) AS found
            FROM contributions FINAL
            WHERE {stale} AND ((kind = 'pull_request' AND occurred_at >= {from} AND occurred_at < {to}{filter})
               OR (kind IN ('review', 'comment') AND number > 0 AND occurred_at >= {from} AND NOT endsWith(actor_login, '[bot]')))
        )
        GROUP BY repo_l, number
        HAVING prs = 1
    )
)
GROUP BY ROLLUP(month)
ORDER BY month
