-- 0009: an identity is unmatched, for the OSPO to resolve, only when it looks like one of the
-- company's people: it carries a company e-mail domain (reason company_email), or it acted in a
-- private repository of a company org (reason company_org in a repository whose contributions
-- go to the internal destination). People outside the roster who contribute to the company's
-- public repositories are its community inflow (GET /api/v1/metrics/community), not identities
-- to resolve. unmatched_identities keeps recording every company_org identity, so a repository
-- that becomes private or public moves its identities in or out of the view without new data.
CREATE OR REPLACE VIEW current_unmatched_identities AS
SELECT identity, kind, reason, repo, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
       uniqExactMerge(contributions) AS contributions
FROM unmatched_identities
WHERE reason = 'company_email'
   OR repo IN (SELECT DISTINCT lower(repo) FROM contributions FINAL WHERE destination = 'internal')
GROUP BY identity, kind, reason, repo;
