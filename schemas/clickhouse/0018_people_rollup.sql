-- 0018: pre-aggregated records per person, for the people page (each employee's upstream record
-- in the period). Rebuilt with the other rollups, one month partition of contributions at a time,
-- from contributions FINAL (store.RefreshRollups), and read for a month only while rollup_state
-- records that month's parts as rebuilt. The first upstream contribution of each person comes
-- from newcomers_rollup, which already holds it.

-- people_rollup: per source month (src), grain ('day', and 'month' for whole months), day (the
-- first day of the month at grain 'month'), employee, team and is_upstream. A row sums two things
-- by their own day: the contributions made that day, with their distinct repositories
-- (lower-cased); and the pull requests of the source month merged that day. Both carry the login
-- of the latest of them (argMax by the time it was made) and that time, as the people statement
-- takes the login, team and last contribution over the period's contributions and the pull
-- requests merged in it. Only rows of people on the roster.
CREATE TABLE IF NOT EXISTS people_rollup
(
    src           UInt32,
    grain         LowCardinality(String),
    day           Date,
    employee_id   String,
    team          LowCardinality(String),
    is_upstream   UInt8,
    contributions SimpleAggregateFunction(sum, UInt64),
    merged        SimpleAggregateFunction(sum, UInt64),
    repos         AggregateFunction(uniqExact, String),
    login         AggregateFunction(argMax, String, DateTime64(3, 'UTC')),
    last_at       SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY src
ORDER BY (grain, day, is_upstream, team, employee_id)
SETTINGS index_granularity = 256;

-- The months rebuilt before this table existed have no rows in it: forget every rebuild, so the
-- next refresh rebuilds every month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
