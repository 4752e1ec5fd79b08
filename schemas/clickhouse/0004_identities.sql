-- 0004: identities. A commit carries its author e-mail; identities that look like the
-- company's (activity in a company org, a company e-mail domain) but are not on the roster are
-- kept for the OSPO to resolve; raw_events keeps the envelope's meta so REST records can be
-- re-derived after a roster change.
ALTER TABLE contributions ADD COLUMN IF NOT EXISTS author_email String DEFAULT '';
ALTER TABLE raw_events ADD COLUMN IF NOT EXISTS meta String DEFAULT '';

-- version became (state time in ms) << 20 | roster generation (events.StoredVersion), so a
-- re-derivation after a roster change replaces the rows it re-attributes. Rows stored before
-- carry the bare ms (below 2^42 until the year 2109; shifted ones are far above). ClickHouse
-- cannot UPDATE a version column, so they are copied once with the shifted version, which
-- replaces them: an older state arriving late can then never beat them. Running it again only
-- copies the same rows with the same version, which collapse.
INSERT INTO contributions (id, kind, occurred_at, actor_login, employee_id, team, repo, repo_owner, is_upstream, number, title, state, merged, merged_at, closed_at, url, source, raw_id, destination, foundation, is_dependency, dependency_criticality, author_email, stored_at, version)
SELECT id, kind, occurred_at, actor_login, employee_id, team, repo, repo_owner, is_upstream, number, title, state, merged, merged_at, closed_at, url, source, raw_id, destination, foundation, is_dependency, dependency_criticality, author_email, stored_at, version * 1048576
FROM contributions FINAL WHERE version > 0 AND version < 4398046511104;

-- unmatched_identities aggregates, per identity, reason and repository, when it was first and
-- last seen and which contributions it made. A contribution seen again (a redelivery, a later
-- state of a PR, a re-derivation) is counted once: contributions holds the uniqExact state of
-- the contribution ids. Read it through current_unmatched_identities, or with
-- min(first_seen), max(last_seen), uniqExactMerge(contributions) GROUP BY identity, kind,
-- reason, repo.
CREATE TABLE IF NOT EXISTS unmatched_identities
(
    identity      String,
    kind          LowCardinality(String),
    reason        LowCardinality(String),
    repo          String,
    first_seen    SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen     SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    contributions AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
ORDER BY (identity, reason, repo, kind);

CREATE VIEW IF NOT EXISTS current_unmatched_identities AS
SELECT identity, kind, reason, repo, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
       uniqExactMerge(contributions) AS contributions
FROM unmatched_identities
GROUP BY identity, kind, reason, repo;
