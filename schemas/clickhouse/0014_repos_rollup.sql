-- 0014: pre-aggregated contributions per repository, for the repositories reached and their top
-- list (the overview, each team on the teams page). Rebuilt with the rollups of 0011 and 0013,
-- one month partition of contributions at a time, from contributions FINAL
-- (store.RefreshRollups), and read for a month only while rollup_state records that month's
-- parts as rebuilt.

-- repos_rollup: per source month (src), grain ('day', and 'month' for whole months), day (the
-- first day of the month at grain 'month'), team (all_teams = 1: every team together, team
-- empty), is_upstream, repository and its owner: the contributions made and the distinct
-- employees who made them. Only rows of people on the roster.
CREATE TABLE IF NOT EXISTS repos_rollup
(
    src           UInt32,
    grain         LowCardinality(String),
    day           Date,
    all_teams     UInt8,
    team          LowCardinality(String),
    is_upstream   UInt8,
    repo          String,
    repo_owner    String,
    contributions SimpleAggregateFunction(sum, UInt64),
    employees     AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY src
ORDER BY (grain, all_teams, team, day, is_upstream, repo, repo_owner);

-- The months rebuilt before this table existed have no rows in it: forget every rebuild, so the
-- next refresh rebuilds every month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
