-- 0020: contributions_rollup and decisions_rollup are rebuilt with index marks every 256 rows
-- instead of 8,192. A page reads a few of their rows (a year's months for every team, say), but
-- ClickHouse reads whole granules, and every row of contributions_rollup carries sets of
-- employees, repositories and owners (uniqExact states) that it must read and decode: at 10M
-- contributions, the 55 rows of a year's distinct contributors took 33 ms in granules of 8,192
-- rows and 8 ms in granules of 256. The tables that pages scan at length (repos_rollup,
-- prs_rollup, answers_rollup) keep the default: smaller granules made those scans slower.
-- people_rollup is created with the setting (0018). The setting cannot be changed on a table, so
-- each table is created anew with the same columns and swapped in (EXCHANGE TABLES); its rows are
-- rebuilt by the next refresh, as every month is forgotten below, and until then the metrics read
-- contributions FINAL.

DROP TABLE IF EXISTS contributions_rollup_regranulated;

CREATE TABLE contributions_rollup_regranulated AS contributions_rollup
ENGINE = AggregatingMergeTree
PARTITION BY src
ORDER BY (grain, all_teams, team, kind, day, is_upstream, destination)
SETTINGS index_granularity = 256;

EXCHANGE TABLES contributions_rollup AND contributions_rollup_regranulated;

DROP TABLE contributions_rollup_regranulated;

DROP TABLE IF EXISTS decisions_rollup_regranulated;

CREATE TABLE decisions_rollup_regranulated AS decisions_rollup
ENGINE = AggregatingMergeTree
PARTITION BY src
ORDER BY (all_teams, team, day, is_upstream, destination)
SETTINGS index_granularity = 256;

EXCHANGE TABLES decisions_rollup AND decisions_rollup_regranulated;

DROP TABLE decisions_rollup_regranulated;

TRUNCATE TABLE IF EXISTS rollup_state;
