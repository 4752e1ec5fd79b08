-- teams, from the rollups: the same answer as sql/teams.sql. The contributions of each team from
-- contributions_rollup's rows of one team at grain month (one kind each: the rows with kind
-- empty hold the distinct counts) of the months whose rollup is current, and from contributions
-- FINAL for the others. The rollups keep the rows of people on the roster only, the ones a team
-- is attributed to.
SELECT team, sum(n) AS contributions
FROM
(
    SELECT CAST(team AS String) AS team, sum(contributions) AS n
    FROM contributions_rollup
    WHERE src IN ({fresh}) AND grain = 'month' AND all_teams = 0 AND team != '' AND kind != ''
    GROUP BY team
    UNION ALL
    SELECT CAST(team AS String) AS team, count() AS n
    FROM contributions FINAL
    WHERE {stale} AND team != ''
    GROUP BY team
)
GROUP BY team
ORDER BY team
