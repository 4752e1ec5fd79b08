-- 0021: what the projects statement needs from the rollups, so that the projects page reads whole
-- months from them instead of contributions FINAL. Rebuilt with the other rollups, one month
-- partition of contributions at a time (store.RefreshRollups).

-- repos_rollup gains, per day (or month) and repository: the time of the latest contribution, the
-- employees who approved a pull request or merged one (maintainer seats), and the dependency flags
-- enrich gave the contributions (every row of a repository carries the same flags once
-- store.ReclassifyDependencies has run).
ALTER TABLE repos_rollup ADD COLUMN IF NOT EXISTS last_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')) DEFAULT toDateTime64(0, 3, 'UTC');
ALTER TABLE repos_rollup ADD COLUMN IF NOT EXISTS seats AggregateFunction(uniqExact, String);
ALTER TABLE repos_rollup ADD COLUMN IF NOT EXISTS is_dependency SimpleAggregateFunction(max, UInt8) DEFAULT 0;
ALTER TABLE repos_rollup ADD COLUMN IF NOT EXISTS criticality SimpleAggregateFunction(max, UInt32) DEFAULT 0;

-- prs_rollup gains, per pull request: its repository as spelt, when it was decided (merged_at,
-- else closed_at, for one merged or closed; NULL while open) and its dependency flags.
ALTER TABLE prs_rollup ADD COLUMN IF NOT EXISTS repo String DEFAULT '';
ALTER TABLE prs_rollup ADD COLUMN IF NOT EXISTS decided_at Nullable(DateTime64(3, 'UTC'));
ALTER TABLE prs_rollup ADD COLUMN IF NOT EXISTS is_dependency UInt8 DEFAULT 0;
ALTER TABLE prs_rollup ADD COLUMN IF NOT EXISTS criticality UInt32 DEFAULT 0;

-- The months rebuilt before have none of these: forget every rebuild, so the next refresh rebuilds
-- every month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
