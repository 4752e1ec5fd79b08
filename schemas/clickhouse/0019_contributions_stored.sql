-- 0019: the time of the newest contribution stored, kept apart so that every page can show it
-- without reading the stored_at of every row (the newest made, max(occurred_at), ClickHouse
-- answers from the parts' min-max index of the partition key; stored_at has no such index).
-- contributions_stored_mv adds, for every block inserted into contributions, the newest stored_at
-- of the block; readers take max(stored_at). A forget or a retention drop deletes rows but not
-- the time they were stored at: it stays the time of the last write that added data.
CREATE TABLE IF NOT EXISTS contributions_stored
(
    stored_at SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY tuple();

CREATE MATERIALIZED VIEW IF NOT EXISTS contributions_stored_mv TO contributions_stored
AS SELECT max(stored_at) AS stored_at FROM contributions;

-- The rows stored before the view existed.
INSERT INTO contributions_stored SELECT max(stored_at) AS stored_at FROM contributions HAVING count() > 0;
