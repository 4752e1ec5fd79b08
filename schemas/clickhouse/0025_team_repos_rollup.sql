-- 0025: the distinct employees of each team in each repository, sorted by repository, for the
-- teams page's top projects. Rebuilt with the other rollups, one month partition of
-- contributions at a time (store.RefreshRollups), and read for a month only while rollup_state
-- records that month's parts as rebuilt.

-- team_repos_rollup: the rows of one team of repos_rollup (all_teams = 0), their employees only,
-- sorted by team and repository and in small granules: the employees of a few repositories of
-- each team are read without decoding those of the others, which is most of the cost of
-- reading them from repos_rollup.
CREATE TABLE IF NOT EXISTS team_repos_rollup
(
    src         UInt32,
    grain       LowCardinality(String),
    day         Date,
    all_teams   UInt8,
    team        LowCardinality(String),
    is_upstream UInt8,
    repo        String,
    repo_owner  String,
    employees   AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY src
ORDER BY (grain, all_teams, team, is_upstream, repo, repo_owner, day)
SETTINGS index_granularity = 256;

-- The months rebuilt before this table existed have no rows in it: forget every rebuild, so the
-- next refresh rebuilds every month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
