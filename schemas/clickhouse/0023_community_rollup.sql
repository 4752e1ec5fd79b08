-- 0023: pre-aggregated community inflow, for the community page (the people outside the roster who
-- contribute to the company's public repositories). Rebuilt with the other rollups, one month
-- partition of contributions at a time, from contributions FINAL (store.RefreshRollups), and read
-- for a month only while rollup_state records that month's parts as rebuilt.

-- community_rollup: per source month (src), grain ('day', and 'month' for whole months), day (the
-- first day of the month at grain 'month') and lower-cased login of someone outside the roster,
-- their contributions to the public repositories of the company's orgs (destination company_oss)
-- and the time of the first of them.
CREATE TABLE IF NOT EXISTS community_rollup
(
    src           UInt32,
    grain         LowCardinality(String),
    day           Date,
    login         String,
    contributions UInt64,
    first_at      DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY src
ORDER BY (grain, day, login);

-- The months rebuilt before this table existed have no rows in it: forget every rebuild, so the
-- next refresh rebuilds every month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
