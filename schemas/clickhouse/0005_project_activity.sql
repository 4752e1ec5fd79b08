-- 0005: project totals. For the repositories the company contributes to or depends on, ingest
-- counts every actor's GH Archive events per day, repository, actor and event type, one hour at
-- a time (source gharchive_totals), so report can tell the company's share of a project's
-- activity. hour_id (2025-01-01-15) is in the key: reading the same hour again replaces its
-- rows rather than adding to them. Read with FINAL and sum(events).
CREATE TABLE IF NOT EXISTS project_activity
(
    day     Date,
    repo    String,
    actor   String,
    type    LowCardinality(String),
    events  UInt64,
    hour_id String
)
ENGINE = ReplacingMergeTree
ORDER BY (repo, day, actor, type, hour_id);
