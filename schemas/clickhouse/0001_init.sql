-- 0001: the raw record of everything collected, and the canonical contributions.

-- raw_events keeps every record ingest published, unchanged, so enrich can re-derive
-- contributions (a roster change, a better mapper) without collecting again.
CREATE TABLE IF NOT EXISTS raw_events
(
    source     LowCardinality(String),
    kind       LowCardinality(String),
    id         String,
    fetched_at DateTime64(3, 'UTC'),
    origin     String,
    payload    String CODEC(ZSTD(3)),
    stored_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(stored_at)
PARTITION BY toYYYYMM(fetched_at)
ORDER BY (source, id);

-- contributions holds one row per canonical contribution id. A PR or an issue changes state
-- over time: each state is inserted with a higher version and ReplacingMergeTree keeps the
-- newest, so readers use FINAL (or argMax by version) to be correct with duplicates present.
-- occurred_at is when the contribution was made (a PR's creation), never its last change, so a
-- contribution stays in one partition.
CREATE TABLE IF NOT EXISTS contributions
(
    id          String,
    kind        LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    actor_login String,
    employee_id LowCardinality(String),
    team        LowCardinality(String),
    repo        String,
    repo_owner  LowCardinality(String),
    is_upstream UInt8,
    number      UInt32,
    title       String,
    state       LowCardinality(String),
    merged      UInt8,
    merged_at   Nullable(DateTime64(3, 'UTC')),
    closed_at   Nullable(DateTime64(3, 'UTC')),
    url         String,
    source      LowCardinality(String),
    raw_id      String,
    version     UInt64,
    stored_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (kind, id);
