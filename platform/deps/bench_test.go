package deps

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse reads real files of each format: the go.mod of Kubernetes (about 250
// requirements and 30 replacements) and the SBOMs `npm sbom` writes for npm's 190 bundled
// packages, from the cache directory scripts/setup.sh fills.
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ name, file string }{
		{"gomod", "gomod/k8s.io/kubernetes@v1.37.2/go.mod"},
		{"cyclonedx-json", "sbom/npm@11.6.2/npm.cdx.json"},
		{"spdx-json", "sbom/npm@11.6.2/npm.spdx.json"},
		{"cyclonedx-xml", "sbom/cyclonedx-gomod@v1.10.0/cyclonedx-gomod.cdx.xml"},
		{"spdx-tagvalue", "sbom/spdx-examples/SPDXTagExample-v2.3.spdx"},
	} {
		b.Run(c.name, func(b *testing.B) {
			data, err := os.ReadFile(filepath.Join(cacheDir(), c.file))
			if err != nil {
				b.Skipf("%v; run scripts/setup.sh fixtures", err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(c.file, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
