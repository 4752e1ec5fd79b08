// Package schemas holds the one copy of Giveback's contracts that are not Go code: the ClickHouse
// migrations (clickhouse/NNNN_name.sql) and the JSON Schema of every NATS message (events/*.json).
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

// Foundations maps GitHub owners and repositories to the open source foundations that host
// them (foundations/foundations.yaml), for classifying where contributions go.
//
//go:embed foundations/*.yaml
var Foundations embed.FS
