// The ledger service.
module github.com/example-corp/ledger

go 1.23.0

toolchain go1.23.4

require (
	github.com/ClickHouse/clickhouse-go/v2 v2.30.0
	github.com/nats-io/nats.go v1.37.0 // a comment
	golang.org/x/sync v0.10.0
	google.golang.org/grpc v1.68.1
	gopkg.in/yaml.v3 v3.0.1
	sigs.k8s.io/yaml v1.4.0
	"go.uber.org/zap" v1.27.0
	example.com/internal/ledgerkit v0.3.0
)

require github.com/example-corp/shared v0.0.0

require (
	github.com/klauspost/compress v1.17.11 // indirect
	golang.org/x/sys v0.28.0 // indirect
)

replace github.com/example-corp/shared => ../shared

exclude golang.org/x/sys v0.27.0

retract v1.0.1 // published by mistake
