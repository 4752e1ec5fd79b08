-- 0016: pre-aggregated merges per repository, for the give-back cycle (contributions, merged pull
-- requests and contributors per dependency in the period, and the pull requests merged in the
-- twelve months before its end). Rebuilt with the other rollups, one month partition of
-- contributions at a time, from contributions FINAL (store.RefreshRollups), and read for a month
-- only while rollup_state records that month's parts as rebuilt.

-- repos_rollup gains the pull requests merged among each day's (or month's) contributions to a
-- repository, counted by the day the pull request was opened, as the cycle counts them.
ALTER TABLE repos_rollup ADD COLUMN IF NOT EXISTS merged_prs SimpleAggregateFunction(sum, UInt64) DEFAULT 0;

-- merges_rollup: the pull requests opened in the source month (src) by people on the roster and
-- merged, per day of the merge, team (all_teams = 1: every team together, team empty),
-- is_upstream and repository.
CREATE TABLE IF NOT EXISTS merges_rollup
(
    src         UInt32,
    day         Date,
    all_teams   UInt8,
    team        LowCardinality(String),
    is_upstream UInt8,
    repo        String,
    merged      SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY src
ORDER BY (all_teams, team, day, is_upstream, repo);

-- The months rebuilt before: their repos_rollup rows have no merged pull requests and
-- merges_rollup has no rows of them; forget every rebuild, so the next refresh rebuilds every
-- month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
