-- 0002: the repositories the company's services depend on, imported from SBOMs and manifests
-- (giveback deps import). An import replaces the previous one as a whole: its rows are written
-- under a new import_id, then the import is recorded in dependency_imports, and readers see only
-- the latest recorded import through the current_* views. An import that fails half-way is
-- never recorded, so readers keep the previous one; older imports stay as history.

-- dependencies holds one row per repository and import. A retried import (same import_id)
-- collapses under FINAL; rows of different imports never do.
CREATE TABLE IF NOT EXISTS dependencies
(
    repo        String,
    packages    Array(String),
    services    Array(String),
    criticality UInt32,
    imported_at DateTime64(3, 'UTC'),
    import_id   String
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (import_id, repo);

-- dependency_imports records each finished import; the newest is the current one.
CREATE TABLE IF NOT EXISTS dependency_imports
(
    import_id   String,
    imported_at DateTime64(3, 'UTC'),
    files       UInt32,
    packages    UInt32,
    unmapped    UInt32
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY import_id;

-- unmapped_packages lists, per import, the packages whose repository the inputs do not tell.
CREATE TABLE IF NOT EXISTS unmapped_packages
(
    import_id   String,
    ecosystem   LowCardinality(String),
    name        String,
    version     String,
    service     String
)
ENGINE = ReplacingMergeTree
ORDER BY (import_id, ecosystem, name, version, service);

CREATE VIEW IF NOT EXISTS current_dependencies AS
SELECT repo, packages, services, criticality, imported_at, import_id
FROM dependencies FINAL
WHERE import_id = (SELECT argMax(import_id, (imported_at, import_id)) FROM dependency_imports);

CREATE VIEW IF NOT EXISTS current_unmapped_packages AS
SELECT ecosystem, name, version, service, import_id
FROM unmapped_packages FINAL
WHERE import_id = (SELECT argMax(import_id, (imported_at, import_id)) FROM dependency_imports);
