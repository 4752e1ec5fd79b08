-- 0010: the saved queries of the query console. A saved query is a read-only statement with a
-- name, a description and parameters written in ClickHouse's {name:Type} form, each with an
-- optional default (params holds them as a JSON array of {"name", "type", "default"}). Saving
-- under an existing name replaces the query (the highest version wins); deleting writes a row
-- with deleted = 1, which FINAL drops. Read it with FINAL.
CREATE TABLE IF NOT EXISTS saved_queries
(
    name        String,
    description String,
    sql         String,
    params      String,
    author      String,
    updated_at  DateTime64(3, 'UTC'),
    version     UInt64,
    deleted     UInt8
)
ENGINE = ReplacingMergeTree(version, deleted)
ORDER BY name;
