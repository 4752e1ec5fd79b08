-- 0011: pre-aggregated contributions for the dashboard's metrics. Both tables are rebuilt, one
-- month partition of contributions at a time, from contributions FINAL (store.RefreshRollups),
-- never filled by a materialized view on insert: an insert-time view would count every version
-- of a contribution and keep a row's old team after a re-attribution or an opt-out. A metric
-- reads a month from them only while rollup_state records the exact parts of that month of
-- contributions (the highest block number and data version of its active parts); any later
-- insert or mutation in the month makes the metric read that month from contributions FINAL
-- until the next rebuild. Only rows of people on the roster (employee_id != '') are kept, as
-- every metric of the period counts them alone.

-- contributions_rollup: per source month (src, the partition of contributions the rows come
-- from), grain ('day', and 'month' for the distinct counts over whole months), day (the first
-- day of the month at grain 'month'), team (all_teams = 1: every team together, team empty),
-- is_upstream, destination and kind: the contributions made, and on rows with kind empty the
-- distinct employees, repositories and repository owners.
CREATE TABLE IF NOT EXISTS contributions_rollup
(
    src           UInt32,
    grain         LowCardinality(String),
    day           Date,
    all_teams     UInt8,
    team          LowCardinality(String),
    is_upstream   UInt8,
    destination   LowCardinality(String),
    kind          LowCardinality(String),
    contributions SimpleAggregateFunction(sum, UInt64),
    employees     AggregateFunction(uniqExact, String),
    repos         AggregateFunction(uniqExact, String),
    owners        AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY src
ORDER BY (grain, all_teams, team, kind, day, is_upstream, destination);

-- decisions_rollup: pull requests decided (merged, or closed without merge) per source month,
-- day of the decision, team (all_teams as above), is_upstream and destination.
CREATE TABLE IF NOT EXISTS decisions_rollup
(
    src         UInt32,
    day         Date,
    all_teams   UInt8,
    team        LowCardinality(String),
    is_upstream UInt8,
    destination LowCardinality(String),
    closed      SimpleAggregateFunction(sum, UInt64),
    merged      SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY src
ORDER BY (all_teams, team, day, is_upstream, destination);

-- rollup_state: for each rebuilt month, the parts of contributions it was rebuilt from.
CREATE TABLE IF NOT EXISTS rollup_state
(
    src          UInt32,
    max_block    Int64,
    data_version Int64,
    built_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(built_at)
ORDER BY src;
