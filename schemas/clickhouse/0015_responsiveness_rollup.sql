-- 0015: pre-aggregated pull requests and their answers, for the responsiveness metric (time to
-- first response and to merge of the company's pull requests). A pull request's first answer
-- may come in any later month, so the rollup keeps the two apart, each per source month, and the
-- metric joins them at query time: a pull request with the first answer found in its own month,
-- and for every month the earliest answers to each pull request number. Rebuilt with the other
-- rollups, one month partition of contributions at a time, from contributions FINAL
-- (store.RefreshRollups), and read for a month only while rollup_state records that month's
-- parts as rebuilt.

-- prs_rollup: the pull requests opened in the source month (src) by people on the roster, one
-- row each, with the fields the metric reads and the earliest answer in the same month by
-- someone other than the author at or after the opening (bots excluded): answer_actor (the
-- lower-cased login, empty when there is none) and answer_at.
CREATE TABLE IF NOT EXISTS prs_rollup
(
    src          UInt32,
    opened_at    DateTime64(3, 'UTC'),
    repo_l       String,
    number       UInt32,
    employee_id  LowCardinality(String),
    team         LowCardinality(String),
    is_upstream  UInt8,
    author       String,
    rest_first   Nullable(DateTime64(3, 'UTC')),
    merged       UInt8,
    merged_at    Nullable(DateTime64(3, 'UTC')),
    lines        UInt64,
    files        UInt32,
    answer_actor String,
    answer_at    Nullable(DateTime64(3, 'UTC'))
)
ENGINE = MergeTree
PARTITION BY src
ORDER BY (opened_at, repo_l, number);

-- answers_rollup: for each repository (lower-cased) and number that had reviews or comments in
-- the source month (src), bots excluded, the earliest answers of the two people who answered
-- first (login lower-cased, time; one when only one person answered): whoever the author of the
-- pull request, one of the two is someone else, so the first answer by someone else in a month
-- after the pull request's own is among them.
CREATE TABLE IF NOT EXISTS answers_rollup
(
    src     UInt32,
    repo_l  String,
    number  UInt32,
    answers Array(Tuple(String, DateTime64(3, 'UTC')))
)
ENGINE = MergeTree
PARTITION BY src
ORDER BY (repo_l, number);

-- The months rebuilt before these tables existed have no rows in them: forget every rebuild, so
-- the next refresh rebuilds every month and no metric reads a month from the rollups until then.
TRUNCATE TABLE IF EXISTS rollup_state;
