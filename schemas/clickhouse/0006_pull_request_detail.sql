-- 0006: a pull request's size (lines added and deleted, files changed) and when someone other
-- than its author first answered it (a comment or a review), from the pull request's details
-- (REST API, webhooks, GH Archive before 2025-10-07). Zero and NULL where no source said.
ALTER TABLE contributions ADD COLUMN IF NOT EXISTS additions UInt32 DEFAULT 0;
ALTER TABLE contributions ADD COLUMN IF NOT EXISTS deletions UInt32 DEFAULT 0;
ALTER TABLE contributions ADD COLUMN IF NOT EXISTS changed_files UInt32 DEFAULT 0;
ALTER TABLE contributions ADD COLUMN IF NOT EXISTS first_response_at Nullable(DateTime64(3, 'UTC'));
