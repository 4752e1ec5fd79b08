-- 0024: pre-aggregated last merge or release of each repository, for the projects' health (the
-- projects page, its risk list and a project's page). Rebuilt with the other rollups, one month
-- partition of contributions at a time, from contributions FINAL (store.RefreshRollups), and read
-- for a month only while rollup_state records that month's parts as rebuilt.

-- merge_days_rollup: per source month (src: the month the contribution was made, so a pull
-- request's by its opening), lower-cased repository and day, the days on which a pull request
-- of the month was merged or a merge or release of the month was made, whoever made it, with the
-- earliest such time of the day: a day counts for a period ending at t when its first_at < t.
CREATE TABLE IF NOT EXISTS merge_days_rollup
(
    src      UInt32,
    repo_key String,
    day      Date,
    first_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY src
ORDER BY (repo_key, day);

-- The months rebuilt before this table existed have no rows in it: forget every rebuild, so the
-- next refresh rebuilds every month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
