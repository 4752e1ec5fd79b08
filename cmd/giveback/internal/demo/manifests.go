package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// demoService is one of the demo company's services and the Go modules it requires: some are
// projects the company contributes to, others are not, so the demo's give-back coverage is
// neither nothing nor everything.
type demoService struct {
	name     string
	requires []string // module@version
}

var demoServices = []demoService{
	{"platform-api", []string{"github.com/spf13/cobra@v1.8.1", "k8s.io/client-go@v0.31.2", "go.etcd.io/etcd/client/v3@v3.5.16",
		"github.com/containerd/containerd@v1.7.23", "github.com/prometheus/client_golang@v1.20.5", "go.opentelemetry.io/otel@v1.31.0",
		"google.golang.org/grpc@v1.67.1", "github.com/stretchr/testify@v1.9.0"}},
	{"data-pipeline", []string{"github.com/nats-io/nats.go@v1.37.0", "github.com/ClickHouse/clickhouse-go/v2@v2.30.0",
		"github.com/prometheus/client_golang@v1.20.5", "go.opentelemetry.io/otel@v1.31.0", "github.com/google/uuid@v1.6.0",
		"github.com/stretchr/testify@v1.9.0"}},
	{"observability-stack", []string{"github.com/prometheus/client_golang@v1.20.5", "go.opentelemetry.io/otel@v1.31.0",
		"go.opentelemetry.io/collector/pdata@v1.18.0", "google.golang.org/grpc@v1.67.1", "golang.org/x/net@v0.30.0"}},
	{"edge-gateway", []string{"github.com/envoyproxy/go-control-plane@v0.13.1", "github.com/cilium/ebpf@v0.16.0",
		"google.golang.org/grpc@v1.67.1", "golang.org/x/net@v0.30.0", "github.com/prometheus/client_golang@v1.20.5"}},
	{"nwctl", []string{"github.com/spf13/cobra@v1.8.1", "k8s.io/client-go@v0.31.2", "helm.sh/helm/v3@v3.16.2",
		"github.com/stretchr/testify@v1.9.0"}},
	{"checkout-api", []string{"github.com/nats-io/nats.go@v1.37.0", "github.com/nats-io/nats-server/v2@v2.10.22",
		"github.com/google/uuid@v1.6.0", "go.opentelemetry.io/otel@v1.31.0", "github.com/prometheus/client_golang@v1.20.5"}},
}

// WriteManifests writes the go.mod of each of the demo company's services under dir, one
// directory per service, for `giveback deps import`, and returns how many it wrote.
func (g *Generator) WriteManifests(dir string) (int, error) {
	for _, s := range demoServices {
		var b strings.Builder
		fmt.Fprintf(&b, "module github.com/%s/%s\n\ngo 1.24\n\nrequire (\n", orgLabs, s.name)
		for _, r := range s.requires {
			mod, version, _ := strings.Cut(r, "@")
			fmt.Fprintf(&b, "\t%s %s\n", mod, version)
		}
		b.WriteString(")\n")
		sd := filepath.Join(dir, s.name)
		if err := os.MkdirAll(sd, 0o750); err != nil {
			return 0, fmt.Errorf("demo: manifests: %w", err)
		}
		if err := os.WriteFile(filepath.Join(sd, "go.mod"), []byte(b.String()), 0o640); err != nil {
			return 0, fmt.Errorf("demo: manifests: %w", err)
		}
	}
	return len(demoServices), nil
}
