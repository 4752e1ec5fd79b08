-- responsiveness, from the rollups: the same answer as sql/responsiveness.sql. The pull requests of
-- the months whose rollup is current come from prs_rollup, each with the first answer found in its
-- own month; those of the other months from contributions FINAL. A pull request is known by key,
-- the 128-bit SipHash of its repository (lower-cased) and number (migration 0017), which matches
-- its answers as the two do in the plain statement; each pull request row counts, as there (a
-- number opened twice counts twice). Every pull request is joined with the answers of the months
-- from the period's first: for the months answers_rollup holds current ({answers_fresh}), its rows
-- (those of the two people who answered each number first, one of whom is not the author, kept only
-- for numbers someone on the roster opened a pull request on in an earlier month, so few); for the
-- others, the answers in contributions FINAL. The first answer is the earliest of the REST sync's,
-- the own month's and those joined by someone other than the author at or after the opening;
-- 2299-01-01 stands for none.
WITH prs AS
(
    SELECT key, opened_at, author, rest_first, merged, merged_at, lines, files, answer_at
    FROM prs_rollup
    WHERE src IN ({fresh}) AND opened_at >= {from} AND opened_at < {to}{filter}
    UNION ALL
    SELECT reinterpretAsUInt128(sipHash128(lower(repo), number)) AS key, occurred_at AS opened_at, lower(actor_login) AS author,
           first_response_at AS rest_first, merged, merged_at, toUInt64(additions + deletions) AS lines, toUInt32(changed_files) AS files,
           CAST(NULL, 'Nullable(DateTime64(3, \'UTC\'))') AS answer_at
    FROM contributions FINAL
    WHERE {stale} AND kind = 'pull_request' AND occurred_at >= {from} AND occurred_at < {to}{filter}
)
SELECT toStartOfMonth(opened_at) AS month, count() AS opened, countIf(first_at IS NOT NULL) AS answered,
       quantileIf(0.5)(dateDiff('second', opened_at, assumeNotNull(first_at)), first_at IS NOT NULL) / 3600 AS median_hours,
       quantileIf(0.5)(lines, files > 0) AS median_lines,
       countIf(merged = 1 AND merged_at IS NOT NULL) AS prs_merged,
       quantileIf(0.5)(dateDiff('second', opened_at, assumeNotNull(merged_at)), merged = 1 AND merged_at IS NOT NULL) / 3600 AS median_hours_to_merge,
       countIf(files > 0) AS sized
FROM
(
    SELECT p.opened_at AS opened_at, p.merged AS merged, p.merged_at AS merged_at, p.lines AS lines, p.files AS files,
           arrayFilter(x -> x.1 != p.author AND x.2 >= p.opened_at, a.later) AS found,
           least(least(coalesce(p.rest_first, toDateTime64('2299-01-01 00:00:00', 3, 'UTC')),
                       coalesce(p.answer_at, toDateTime64('2299-01-01 00:00:00', 3, 'UTC'))),
                 if(empty(found), toDateTime64('2299-01-01 00:00:00', 3, 'UTC'), arrayMin(x -> x.2, found))) AS first_or_none,
           nullIf(first_or_none, toDateTime64('2299-01-01 00:00:00', 3, 'UTC')) AS first_at
    FROM prs AS p
    LEFT JOIN
    (
        SELECT key, groupArrayArray(found) AS later
        FROM
        (
            SELECT key, answers AS found
            FROM answers_rollup
            WHERE src IN ({answers_fresh})
            UNION ALL
            SELECT reinterpretAsUInt128(sipHash128(lower(repo), number)) AS key, [(lower(actor_login), occurred_at)] AS found
            FROM contributions FINAL
            WHERE {answers_stale} AND kind IN ('review', 'comment') AND number > 0 AND occurred_at >= {from} AND NOT endsWith(actor_login, '[bot]')
        )
        GROUP BY key
    ) AS a ON a.key = p.key
)
GROUP BY ROLLUP(month)
ORDER BY month
