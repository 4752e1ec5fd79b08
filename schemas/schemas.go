// Package schemas holds the one copy of Giveback's contracts that are not Go code: the ClickHouse
// migrations (clickhouse/NNNN_name.sql), the JSON Schema of every NATS message (events/*.json)
// and of every value kept in NATS KV (kv/*.json).
// The migrator, the services and the tests all read them from here.
package schemas

import "embed"

// ClickHouse holds the migrations, applied in file-name order; each file is one version.
//
//go:embed clickhouse/*.sql
var ClickHouse embed.FS

// Events holds the JSON Schema of each message published on NATS.
//
//go:embed events/*.json
var Events embed.FS

// KV holds the JSON Schema of each value kept in a NATS KV bucket (kv/*.json). Each names its
// bucket (x-giveback-bucket) and key (x-giveback-key, {…} for a part that varies); a value
// that is text, not JSON, says so with contentMediaType.
//
//go:embed kv/*.json
var KV embed.FS

// Foundations maps GitHub owners and repositories to the open source foundations that host
// them (foundations/foundations.yaml), for classifying where contributions go.
//
//go:embed foundations/*.yaml
var Foundations embed.FS
