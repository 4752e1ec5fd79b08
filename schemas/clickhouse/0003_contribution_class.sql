-- 0003: where a contribution went, beyond upstream or not: the destination (internal,
-- company_oss, upstream, fork, personal), the foundation of the repository, and whether the
-- repository is one the company's services depend on, with how many services use it, as enrich
-- saw them when it stored the contribution.
ALTER TABLE contributions ADD COLUMN IF NOT EXISTS destination LowCardinality(String) DEFAULT '';
ALTER TABLE contributions ADD COLUMN IF NOT EXISTS foundation LowCardinality(String) DEFAULT '';
ALTER TABLE contributions ADD COLUMN IF NOT EXISTS is_dependency UInt8 DEFAULT 0;
ALTER TABLE contributions ADD COLUMN IF NOT EXISTS dependency_criticality UInt32 DEFAULT 0;
