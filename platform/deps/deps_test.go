package deps

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// pkgs renders packages as "key@version → repo" lines, sorted, for comparison.
func pkgs(ps []Package) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Key() + "@" + p.Version + " → " + p.Repo
	}
	sort.Strings(out)
	return out
}

func TestParseFormats(t *testing.T) {
	cases := []struct {
		file, format, service string
		want                  []string
	}{
		{"testdata/good/checkout/checkout.cdx.json", FormatCycloneDX, "checkout-api", []string{
			"checkout-worker@2.4.0 → ",
			"github:actions/checkout@v4 → actions/checkout",
			"golang:github.com/nats-io/nats.go@v1.37.0 → nats-io/nats.go",
			"golang:github.com/prometheus/client_golang@v1.20.5 → prometheus/client_golang",
			"golang:golang.org/x/sync@v0.10.0 → golang/sync",
			"golang:google.golang.org/grpc@v1.68.1 → grpc/grpc-go",
			"golang:k8s.io/client-go@v0.31.3 → kubernetes/client-go",
			"maven:org.apache.commons:commons-lang3@3.14.0 → apache/commons-lang",
			"npm:@babel/core@7.26.0 → ",
			"pypi:urllib3@2.2.3 → urllib3/urllib3",
		}},
		{"testdata/good/billing/billing.spdx.json", FormatSPDX, "billing-service", []string{
			"golang:github.com/nats-io/nats.go@v1.37.0 → nats-io/nats.go",
			"libpq@16.6 → ",
			"pypi:django@5.1.4 → ",
			"pypi:requests@2.32.3 → psf/requests",
		}},
		{"testdata/good/web/package-lock.json", FormatPackageLock, "storefront-web", []string{
			"npm:@babel/core@7.26.0 → ",
			"npm:debug@2.6.9 → ",
			"npm:express@4.21.2 → ",
			"npm:left-pad@1.3.0 → stevemao/left-pad",
		}},
		{"testdata/good/admin/package-lock.json", FormatPackageLock, "admin-console", []string{
			"npm:acorn@6.4.2 → ",
			"npm:lodash@4.17.21 → ",
			"npm:react-table@0b3c2f1 → example-corp/react-table",
			"npm:webpack@4.47.0 → ",
		}},
		{"testdata/good/ledger/go.mod", FormatGoMod, "github.com/example-corp/ledger", []string{
			"golang:example.com/internal/ledgerkit@v0.3.0 → ",
			"golang:github.com/ClickHouse/clickhouse-go/v2@v2.30.0 → clickhouse/clickhouse-go",
			"golang:github.com/klauspost/compress@v1.17.11 → klauspost/compress",
			"golang:github.com/nats-io/nats.go@v1.37.0 → nats-io/nats.go",
			"golang:go.uber.org/zap@v1.27.0 → uber-go/zap",
			"golang:golang.org/x/sync@v0.10.0 → golang/sync",
			"golang:golang.org/x/sys@v0.28.0 → golang/sys",
			"golang:google.golang.org/grpc@v1.68.1 → grpc/grpc-go",
			"golang:gopkg.in/yaml.v3@v3.0.1 → go-yaml/yaml",
			"golang:sigs.k8s.io/yaml@v1.4.0 → kubernetes-sigs/yaml",
		}},
	}
	for _, c := range cases {
		t.Run(filepath.Base(filepath.Dir(c.file)), func(t *testing.T) {
			m, err := ParseFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != c.format || m.Service != c.service || m.Path != c.file {
				t.Errorf("format %q service %q path %q, want %q %q %q", m.Format, m.Service, m.Path, c.format, c.service, c.file)
			}
			if got := pkgs(m.Packages); !reflect.DeepEqual(got, c.want) {
				t.Errorf("packages:\n got %q\nwant %q", got, c.want)
			}
			for _, p := range m.Packages {
				if p.PURL != "" && !strings.HasPrefix(p.PURL, "pkg:") {
					t.Errorf("%s: purl %q", p.Name, p.PURL)
				}
			}
		})
	}
}

func TestPURLs(t *testing.T) {
	m, err := ParseFile("testdata/good/web/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range m.Packages {
		got[p.Name] = p.PURL
	}
	if got["@babel/core"] != "pkg:npm/%40babel/core@7.26.0" || got["express"] != "pkg:npm/express@4.21.2" {
		t.Errorf("npm purls: %v", got)
	}
	p, ok := parsePURL("pkg:maven/org.apache.commons/commons-lang3@3.14.0?type=jar#sub/path")
	if !ok || p.Type != "maven" || p.packageName() != "org.apache.commons:commons-lang3" || p.Version != "3.14.0" || p.qualifier("type") != "jar" {
		t.Errorf("maven purl: %+v", p)
	}
	for _, bad := range []string{"", "npm/express", "pkg:", "pkg:npm", "pkg:npm/"} {
		if p, ok := parsePURL(bad); ok {
			t.Errorf("parsePURL(%q) = %+v, want not ok", bad, p)
		}
	}
}

func TestRepoFromURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/Apache/Commons-Lang.git":              "apache/commons-lang",
		"https://github.com/psf/requests/tree/main/src":           "psf/requests",
		"git+https://github.com/psf/requests.git@v2.32.3":         "psf/requests",
		"git+ssh://git@github.com/stevemao/left-pad.git#5f0ca15":  "stevemao/left-pad",
		"git://github.com/isaacs/node-glob.git":                   "isaacs/node-glob",
		"git@github.com:nodejs/node.git":                          "nodejs/node",
		"github:expressjs/express#4.x":                            "expressjs/express",
		"https://www.github.com/kubernetes/kubernetes":            "kubernetes/kubernetes",
		"https://gitlab.com/gitlab-org/gitlab":                    "",
		"https://registry.npmjs.org/express/-/express-4.21.2.tgz": "",
		"https://github.com/sponsors":                             "",
		"NOASSERTION":                                             "",
		"https://github.com/-bad/name":                            "",
		"https://github.com/o/..":                                 "",
	} {
		if got := RepoFromURL(in); got != want {
			t.Errorf("RepoFromURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGoModuleRepo(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/nats-io/nats.go":       "nats-io/nats.go",
		"github.com/google/go-github/v60":  "google/go-github",
		"github.com/onlyowner":             "",
		"golang.org/x/net":                 "golang/net",
		"golang.org/toolchain":             "",
		"k8s.io/apimachinery":              "kubernetes/apimachinery",
		"sigs.k8s.io/controller-runtime":   "kubernetes-sigs/controller-runtime",
		"google.golang.org/grpc":           "grpc/grpc-go",
		"google.golang.org/protobuf":       "protocolbuffers/protobuf-go",
		"gopkg.in/yaml.v2":                 "go-yaml/yaml",
		"gopkg.in/check.v1":                "go-check/check",
		"gopkg.in/natefinch/lumberjack.v2": "natefinch/lumberjack",
		"go.opentelemetry.io/otel/trace":   "open-telemetry/opentelemetry-go",
		"go.etcd.io/etcd/client/v3":        "etcd-io/etcd",
		"go.uber.org/zap":                  "uber-go/zap",
		"giveback.dev/platform":            "",
		"example.com/internal/ledgerkit":   "",
	} {
		if got := GoModuleRepo(in); got != want {
			t.Errorf("GoModuleRepo(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOwnGoMods reads this repository's go.mod files in place and checks the requirements
// against the go command's own parser (go mod edit -json).
func TestOwnGoMods(t *testing.T) {
	files, err := filepath.Glob("../../*/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../../*/*/go.mod")
	files = append(files, more...)
	if len(files) < 4 {
		t.Fatalf("found only %v", files)
	}
	goBin, goErr := exec.LookPath("go")
	for _, f := range files {
		m, err := ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m.Format != FormatGoMod || !strings.HasPrefix(m.Service, "giveback.dev/") {
			t.Errorf("%s: format %q service %q", f, m.Format, m.Service)
		}
		got := map[string]string{}
		for _, p := range m.Packages {
			got[p.Name] = p.Version
			if strings.HasPrefix(p.Name, "giveback.dev/") {
				t.Errorf("%s: the workspace's own module %s is listed as a dependency", f, p.Name)
			}
		}
		if f == "../../platform/go.mod" {
			repos := map[string]string{}
			for _, p := range m.Packages {
				repos[p.Name] = p.Repo
			}
			if repos["github.com/nats-io/nats.go"] != "nats-io/nats.go" || repos["gopkg.in/yaml.v3"] != "go-yaml/yaml" || repos["golang.org/x/sys"] != "golang/sys" {
				t.Errorf("platform go.mod repos: %v", repos)
			}
		}
		if goErr != nil {
			continue
		}
		out, err := exec.Command(goBin, "mod", "edit", "-json", f).Output()
		if err != nil {
			t.Fatalf("go mod edit -json %s: %v", f, err)
		}
		var gm struct {
			Module  struct{ Path string }
			Require []struct{ Path, Version string }
			Replace []struct{ Old, New struct{ Path string } }
		}
		if err := json.Unmarshal(out, &gm); err != nil {
			t.Fatal(err)
		}
		local := map[string]bool{}
		for _, r := range gm.Replace {
			if strings.HasPrefix(r.New.Path, ".") || strings.HasPrefix(r.New.Path, "/") {
				local[r.Old.Path] = true
			}
		}
		want := map[string]string{}
		for _, r := range gm.Require {
			if !local[r.Path] {
				want[r.Path] = r.Version
			}
		}
		if m.Service != gm.Module.Path || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: module %q requires %v; go mod edit says %q %v", f, m.Service, got, gm.Module.Path, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct{ file, want string }{
		{"testdata/bad/sbom.json", "unknown JSON document (no bomFormat, spdxVersion or lockfileVersion): expected a CycloneDX SBOM (JSON or XML), an SPDX SBOM"},
		{"testdata/bad/truncated.cdx.json", "truncated JSON: the document stops at line"},
		{"testdata/bad/gomod/go.mod", `go.mod line 7: usage: require module/path v1.2.3`},
		{"testdata/bad/notes.txt", "unknown format: expected a CycloneDX SBOM (JSON or XML), an SPDX SBOM (JSON or tag-value), a go.mod or an npm package-lock.json"},
		{"testdata/missing.json", "no such file"},
	}
	for _, c := range cases {
		_, err := ParseFile(c.file)
		if err == nil || !strings.Contains(err.Error(), c.file) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseFile(%s) = %v, want an error naming the file and %q", c.file, err, c.want)
		}
	}
	for name, doc := range map[string]string{
		"unclosed block": "module m\nrequire (\n\tgolang.org/x/sync v0.1.0\n",
		"unknown verb":   "module m\nrequires golang.org/x/sync v0.1.0\n",
		"bad version":    "module m\nrequire golang.org/x/sync 0.1.0\n",
		"bad replace":    "module m\nreplace golang.org/x/sync\n",
		"unterminated":   "module \"m\n",
		"bad bomFormat":  `{"bomFormat": "SWID"}`,
		"spdx 3":         `{"spdxVersion": "SPDX-3.0"}`,
		"spdx 2.0":       `{"spdxVersion": "SPDX-2.0"}`,
		"lock version":   `{"lockfileVersion": 7}`,
		"wrong type":     `{"bomFormat": "CycloneDX", "components": {"name": "x"}}`,
		"invalid json":   `{"bomFormat": "CycloneDX",, }`,
		"empty":          "  \n",
	} {
		if _, err := Parse("x/in", []byte(doc)); err == nil || !strings.HasPrefix(err.Error(), "deps: x/in: ") {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestLoadAndAggregate(t *testing.T) {
	ms, errs := Load([]string{"testdata/good", "testdata/bad", "testdata/good/ledger/go.mod", "testdata/nowhere", "testdata/empty-dir-that-is-missing"})
	if len(ms) != 6 {
		t.Errorf("%d manifests, want 6 (5 in good, ledger/go.mod again)", len(ms))
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{"testdata/bad/sbom.json", "testdata/bad/truncated.cdx.json", "testdata/bad/gomod/go.mod", "testdata/nowhere"} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors do not name %s:\n%s", want, joined)
		}
	}
	if len(errs) != 5 || strings.Contains(joined, "notes.txt") {
		t.Errorf("%d errors, want 5 (notes.txt is not a candidate):\n%s", len(errs), joined)
	}

	ds, unmapped := Aggregate(ms)
	byRepo := map[string]Dependency{}
	for _, d := range ds {
		byRepo[d.Repo] = d
	}
	nats := byRepo["nats-io/nats.go"]
	if nats.Criticality != 3 || !reflect.DeepEqual(nats.Services, []string{"billing-service", "checkout-api", "github.com/example-corp/ledger"}) ||
		!reflect.DeepEqual(nats.Packages, []string{"golang:github.com/nats-io/nats.go"}) {
		t.Errorf("nats-io/nats.go: %+v", nats)
	}
	if ds[0].Repo != "nats-io/nats.go" || byRepo["golang/sync"].Criticality != 2 || byRepo["psf/requests"].Criticality != 1 {
		t.Errorf("order or criticality: %+v", ds[:3])
	}
	for i := 1; i < len(ds); i++ {
		if ds[i-1].Criticality < ds[i].Criticality {
			t.Errorf("not sorted by criticality at %d", i)
		}
	}
	// checkout 2, billing 2, web 3, admin 3, ledger 1: the ledger's go.mod read twice counts once.
	if len(unmapped) != 11 {
		t.Errorf("%d unmapped, want 11: %+v", len(unmapped), unmapped)
	}
	for _, u := range unmapped {
		if u.Repo != "" || u.Service == "" {
			t.Errorf("unmapped %+v", u)
		}
	}
}

func TestServiceFallback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "orders")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "bom.json")
	if err := os.WriteFile(f, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","purl":"pkg:github/o/x@1"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ParseFile(f)
	if err != nil || m.Service != "orders" || len(m.Packages) != 1 || m.Packages[0].Repo != "o/x" {
		t.Fatalf("%+v %v", m, err)
	}
	// A .json with an SBOM's key is found by content; another .json is not.
	if err := os.WriteFile(filepath.Join(dir, "inventory.json"), []byte(`{"spdxVersion":"SPDX-2.3","name":"inv","packages":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tsconfig.json"), []byte(`{"compilerOptions":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, errs := Load([]string{dir})
	if len(ms) != 2 || len(errs) != 0 {
		t.Fatalf("%d manifests, errors %v", len(ms), errs)
	}
}

var repoShape = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*/[a-z0-9._-]+$`)

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*/*")
	more, _ := filepath.Glob("testdata/*/*.*")
	for _, s := range append(seeds, more...) {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"bomFormat":"CycloneDX","components":[{"purl":"pkg:github/%2F/x"},{"purl":"pkg:golang/gopkg.in/.v1"}]}`))
	f.Add([]byte("module m\nrequire (\n\tx v1 // (\n)\nreplace x => ../x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz/input", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "deps: fuzz/input: ") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		for _, p := range m.Packages {
			if p.Name == "" {
				t.Fatalf("package without a name: %+v", p)
			}
			if p.Repo != "" && !repoShape.MatchString(p.Repo) {
				t.Fatalf("repo %q of %+v is not owner/name", p.Repo, p)
			}
		}
		ds, _ := Aggregate([]Manifest{m})
		for _, d := range ds {
			if d.Criticality != len(d.Services) {
				t.Fatalf("criticality %d with services %v", d.Criticality, d.Services)
			}
		}
	})
}

// The XML encoding of a CycloneDX BOM and the tag-value encoding of an SPDX document read as
// their JSON twins do.
func TestOtherEncodings(t *testing.T) {
	for _, c := range []struct{ json, other string }{
		{"testdata/good/checkout/checkout.cdx.json", "testdata/formats/checkout.cdx.xml"},
		{"testdata/good/billing/billing.spdx.json", "testdata/formats/billing.spdx"},
	} {
		want, err := ParseFile(c.json)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseFile(c.other)
		if err != nil {
			t.Fatal(err)
		}
		if got.Format != want.Format || got.Service != want.Service || !reflect.DeepEqual(pkgs(got.Packages), pkgs(want.Packages)) {
			t.Errorf("%s reads as %s %q %q,\nits JSON twin as %s %q %q", c.other, got.Format, got.Service, pkgs(got.Packages), want.Format, want.Service, pkgs(want.Packages))
		}
		if !IsCandidate(c.other) {
			t.Errorf("%s is not a candidate", c.other)
		}
	}
	ms, errs := Load([]string{"testdata/formats"})
	if len(ms) != 2 || len(errs) != 0 {
		t.Errorf("Load(testdata/formats): %d manifests, errors %v", len(ms), errs)
	}
	for name, c := range map[string]struct{ doc, want string }{
		"truncated XML":  {`<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component type="library">`, "CycloneDX: truncated XML: the document stops at line 1"},
		"invalid XML":    {"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">\n<components></bom>", "CycloneDX: invalid XML at line 2: element <components> closed by </bom>"},
		"other XML":      {`<?xml version="1.0"?><project><modelVersion>4.0.0</modelVersion></project>`, "unknown XML document (no <bom> in the http://cyclonedx.org/schema/bom/ namespace)"},
		"tag-value 2.0":  {"SPDXVersion: SPDX-2.0\nDataLicense: CC0-1.0\n", "SPDX tag-value: unsupported SPDX version: 'SPDX-2.0'"},
		"bad tag-value":  {"# a comment\nSPDXVersion: SPDX-2.3\nPackageName\n", "SPDX tag-value: "},
		"no SPDXVersion": {"DataLicense: CC0-1.0\nSPDXVersion: SPDX-2.3\n", "unknown format"},
	} {
		_, err := Parse("x/in", []byte(c.doc))
		if err == nil || !strings.HasPrefix(err.Error(), "deps: x/in: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one naming the file and %q", name, err, c.want)
		}
	}
}
