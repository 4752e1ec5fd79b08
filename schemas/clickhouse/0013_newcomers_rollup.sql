-- 0013: pre-aggregated contributions per employee, for the newcomers metric (new and returning
-- upstream contributors), which needs each employee's first upstream contribution ever and
-- each employee's contributions per month of the period. Rebuilt with the rollups of 0011, one
-- month partition of contributions at a time, from contributions FINAL (store.RefreshRollups),
-- and read for a month only while rollup_state records that month's parts as rebuilt.

-- newcomers_rollup: per source month (src), grain ('day', and 'month' for whole months), day
-- (the first day of the month at grain 'month'), employee, team and is_upstream: the
-- contributions made and the time of the first of them. Only rows of people on the roster.
CREATE TABLE IF NOT EXISTS newcomers_rollup
(
    src           UInt32,
    grain         LowCardinality(String),
    day           Date,
    employee_id   String,
    team          LowCardinality(String),
    is_upstream   UInt8,
    contributions UInt64,
    first_at      DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY src
ORDER BY (grain, day, employee_id);

-- The months rebuilt before this table existed have no rows in it: forget every rebuild, so the
-- next refresh rebuilds every month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
