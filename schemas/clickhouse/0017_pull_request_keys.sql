-- 0017: a fixed-width key for each pull request number, in the two responsiveness rollups (0015).
-- The metric matches the pull requests not answered in their own month with the answers of later
-- months by repository (lower-cased) and number. Compared as a string and a number, that match
-- cost most of the statement at 10M contributions; key is the 128-bit SipHash of the two, which
-- ClickHouse compares as one integer. It is the identity uniqExact already gives strings (the same
-- 128-bit SipHash), so two numbers are taken for one only where that count would be wrong too.
-- MATERIALIZED: computed on insert by the rollup rebuild, which names no column.
ALTER TABLE prs_rollup ADD COLUMN IF NOT EXISTS key UInt128 MATERIALIZED reinterpretAsUInt128(sipHash128(repo_l, number));
ALTER TABLE answers_rollup ADD COLUMN IF NOT EXISTS key UInt128 MATERIALIZED reinterpretAsUInt128(sipHash128(repo_l, number));

-- The months rebuilt before have parts without the key stored (ClickHouse computes it as it reads
-- them): forget every rebuild, so the next refresh rewrites every month with it.
TRUNCATE TABLE IF EXISTS rollup_state;
