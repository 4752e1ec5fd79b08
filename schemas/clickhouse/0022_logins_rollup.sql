-- 0022: the logins of the people on the roster, per month, for the share of a project's activity
-- that is the company's (the projects page, the risk list): an actor of the project totals is the
-- company's when a contribution of someone on the roster was made under that login. Rebuilt with
-- the other rollups, one month partition of contributions at a time, from contributions FINAL
-- (store.RefreshRollups), and read for a month only while rollup_state records that month's parts
-- as rebuilt.

-- logins_rollup: per source month (src), each lower-cased login under which someone on the roster
-- made a contribution that month, once.
CREATE TABLE IF NOT EXISTS logins_rollup
(
    src   UInt32,
    login String
)
ENGINE = MergeTree
PARTITION BY src
ORDER BY login;

-- The months rebuilt before this table existed have no rows in it: forget every rebuild, so the
-- next refresh rebuilds every month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
