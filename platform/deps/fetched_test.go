package deps

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// These tests read real files written by the tools people use, which scripts/setup.sh fetches
// or generates into the cache directory at pinned versions: go.mod files of published modules,
// the SBOMs npm's own `npm sbom` writes for npm's bundled dependency tree, the SBOMs
// cyclonedx-gomod writes for its own binary, and the SPDX project's example documents. Where they are absent the tests skip, except under CI, where they fail.

// cacheDir is the directory scripts/setup.sh fetches into.
func cacheDir() string {
	if d := os.Getenv("GIVEBACK_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "giveback-cache")
	}
	return filepath.Join(home, ".cache", "giveback")
}

// fetched returns the path of rel in the cache directory, skipping the test when it is absent
// (failing it when CI is set: there setup must have fetched it).
func fetched(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(cacheDir(), rel)
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("%s is not fetched; run scripts/setup.sh fixtures (make test does)", p)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so a missing fixture is a failure")
		}
		t.Skip(msg)
	}
	return p
}

// goModEdit is what `go mod edit -json` says of a go.mod: the go command's own reading.
type goModEdit struct {
	Module    struct{ Path string }
	Toolchain string
	Godebug   []struct{ Key, Value string }
	Require   []struct{ Path, Version string }
	Exclude   []struct{ Path, Version string }
	Replace   []struct {
		Old, New struct{ Path, Version string }
	}
	Retract []struct{ Low, High, Rationale string }
	Tool    []struct{ Path string }
	Ignore  []struct{ Path string }
}

func goModEditJSON(t *testing.T, file string) goModEdit {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to compare with")
	}
	cmd := exec.Command(goBin, "mod", "edit", "-json", file)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod edit -json %s: %v", file, err)
	}
	var gm goModEdit
	if err := json.Unmarshal(out, &gm); err != nil {
		t.Fatal(err)
	}
	return gm
}

// checkAgainstGoCommand holds a parsed go.mod against the go command's reading of it: the
// module path, and every requirement not replaced by a local directory.
func checkAgainstGoCommand(t *testing.T, file string, m Manifest, gm goModEdit) {
	t.Helper()
	local := map[string]bool{}
	for _, r := range gm.Replace {
		if r.New.Version == "" {
			local[r.Old.Path] = true
		}
	}
	want := map[string]string{}
	for _, r := range gm.Require {
		if !local[r.Path] {
			want[r.Path] = r.Version
		}
	}
	got := map[string]string{}
	for _, p := range m.Packages {
		got[p.Name] = p.Version
		if p.Ecosystem != "golang" || p.PURL != goPURL(p.Name, p.Version) || p.Repo != GoModuleRepo(p.Name) {
			t.Errorf("%s: package %+v", file, p)
		}
	}
	if m.Format != FormatGoMod || m.Service != gm.Module.Path || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: module %q requires %d modules; go mod edit says %q, %d modules", file, m.Service, len(got), gm.Module.Path, len(want))
		for p, v := range want {
			if got[p] != v {
				t.Errorf("  %s: %q, want %q", p, got[p], v)
			}
		}
	}
}

// TestFetchedGoMods reads go.mod files of published modules that, together, use every directive
// (replace to a module and to a directory, exclude, retract, toolchain, godebug, tool, ignore)
// and holds each against the go command.
func TestFetchedGoMods(t *testing.T) {
	root := fetched(t, "gomod")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == "go.mod" {
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), ".verified")); err == nil {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("%d verified go.mod files under %s, want the 6 scripts/setup.sh fetches: %v", len(files), root, files)
	}
	seen := map[string]int{}
	for _, f := range files {
		m, err := ParseFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		gm := goModEditJSON(t, f)
		checkAgainstGoCommand(t, f, m, gm)
		for d, n := range map[string]int{"require": len(gm.Require), "exclude": len(gm.Exclude), "retract": len(gm.Retract),
			"godebug": len(gm.Godebug), "tool": len(gm.Tool), "ignore": len(gm.Ignore)} {
			seen[d] += n
		}
		if gm.Toolchain != "" {
			seen["toolchain"]++
		}
		for _, r := range gm.Replace {
			if r.New.Version == "" {
				seen["replace by a directory"]++
			} else {
				seen["replace by a module"]++
			}
		}
	}
	for _, d := range []string{"require", "exclude", "retract", "toolchain", "godebug", "tool", "ignore", "replace by a directory", "replace by a module"} {
		if seen[d] == 0 {
			t.Errorf("no fetched go.mod uses %s", d)
		}
	}
	t.Logf("%d go.mod files; directives used: %v", len(files), seen)
}

// npmTree lists the packages installed in the node_modules tree of a package, as
// npm:name@version.
func npmTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "package.json" {
			return nil
		}
		rel, _ := filepath.Rel(dir, filepath.Dir(path))
		// A package's own directory is node_modules/name or node_modules/@scope/name.
		i := strings.LastIndex(rel, "node_modules"+string(filepath.Separator))
		if i < 0 {
			return nil
		}
		name := filepath.ToSlash(rel[i+len("node_modules/"):])
		if n := strings.Count(name, "/"); n > 1 || (n == 1 && !strings.HasPrefix(name, "@")) {
			return nil
		}
		var pj struct{ Name, Version string }
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &pj); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		// An alias (node_modules/string-width-cjs holding string-width) is the package it holds.
		out = append(out, "npm:"+pj.Name+"@"+pj.Version)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func keyVersions(ps []Package) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Key() + "@" + p.Version
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestNpmSBOMs reads the SPDX and CycloneDX SBOMs `npm sbom` writes for npm's own bundled
// dependencies and holds both against the node_modules tree they describe.
func TestNpmSBOMs(t *testing.T) {
	dir := fetched(t, "sbom/npm@11.6.2")
	want := npmTree(t, fetched(t, "npm/npm@11.6.2"))
	if len(want) < 100 {
		t.Fatalf("npm's tree has only %d packages", len(want))
	}
	for _, c := range []struct{ file, format string }{{"npm.spdx.json", FormatSPDX}, {"npm.cdx.json", FormatCycloneDX}} {
		m, err := ParseFile(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		if m.Format != c.format || m.Service != "npm" {
			t.Errorf("%s: format %q service %q, want %q and npm", c.file, m.Format, m.Service, c.format)
		}
		if got := keyVersions(m.Packages); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d packages, the tree has %d", c.file, len(got), len(want))
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("  missing %s", w)
				}
			}
			for _, g := range got {
				if !slices.Contains(want, g) {
					t.Errorf("  not in the tree: %s", g)
				}
			}
		}
		for _, p := range m.Packages {
			if !strings.HasPrefix(p.PURL, "pkg:npm/") {
				t.Errorf("%s: %s has purl %q", c.file, p.Name, p.PURL)
			}
		}
	}
}

// buildInfo lists the modules `go version -m` reads from a Go binary, as path@version.
func buildInfo(t *testing.T, bin string) (main string, deps []string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to compare with")
	}
	out, err := exec.Command(goBin, "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m %s: %v", bin, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "mod":
			main = f[1]
		case len(f) >= 3 && f[0] == "dep":
			deps = append(deps, "golang:"+f[1]+"@"+f[2])
		}
	}
	slices.Sort(deps)
	return main, deps
}

// TestCycloneDXGoMod reads the CycloneDX SBOM cyclonedx-gomod writes for its own binary, in JSON
// and in XML: both say the same, and list the modules the go command reads from the binary.
func TestCycloneDXGoMod(t *testing.T) {
	dir := fetched(t, "sbom/cyclonedx-gomod@v1.10.0")
	mainMod, want := buildInfo(t, fetched(t, "go/bin/cyclonedx-gomod"))
	js, err := ParseFile(filepath.Join(dir, "cyclonedx-gomod.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := ParseFile(filepath.Join(dir, "cyclonedx-gomod.cdx.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if js.Format != FormatCycloneDX || x.Format != FormatCycloneDX || js.Service != mainMod || x.Service != mainMod {
		t.Errorf("formats %q, %q; services %q (JSON) and %q (XML), want %q", js.Format, x.Format, js.Service, x.Service, mainMod)
	}
	if !reflect.DeepEqual(pkgs(js.Packages), pkgs(x.Packages)) {
		t.Errorf("JSON and XML differ:\n%q\n%q", pkgs(js.Packages), pkgs(x.Packages))
	}
	if got := keyVersions(js.Packages); !reflect.DeepEqual(got, want) || len(want) < 20 {
		t.Errorf("the SBOM lists %d modules, the binary has %d:\n%q\n%q", len(got), len(want), got, want)
	}
	repos := map[string]string{}
	for _, p := range js.Packages {
		repos[p.Name] = p.Repo
	}
	// The module paths keep their case although the purls are lower case.
	for mod, repo := range map[string]string{"github.com/CycloneDX/cyclonedx-go": "cyclonedx/cyclonedx-go", "golang.org/x/mod": "golang/mod"} {
		if repos[mod] != repo {
			t.Errorf("%s maps to %q, want %q", mod, repos[mod], repo)
		}
	}
}

// TestSPDXExamples reads the SPDX project's example documents, the same document in tag-value
// and in JSON, and holds the two readings against each other.
func TestSPDXExamples(t *testing.T) {
	dir := fetched(t, "sbom/spdx-examples")
	for _, v := range []string{"v2.3"} {
		tv, err := ParseFile(filepath.Join(dir, "SPDXTagExample-"+v+".spdx"))
		if err != nil {
			t.Fatal(err)
		}
		js, err := ParseFile(filepath.Join(dir, "SPDXJSONExample-"+v+".spdx.json"))
		if err != nil {
			t.Fatal(err)
		}
		if tv.Format != FormatSPDX || tv.Service != js.Service || tv.Service == "" {
			t.Errorf("%s: format %q, services %q (tag-value) and %q (JSON)", v, tv.Format, tv.Service, js.Service)
		}
		if !reflect.DeepEqual(pkgs(tv.Packages), pkgs(js.Packages)) || len(tv.Packages) == 0 {
			t.Errorf("%s: tag-value and JSON differ:\n%q\n%q", v, pkgs(tv.Packages), pkgs(js.Packages))
		}
		t.Logf("%s: service %q, packages %q", v, tv.Service, pkgs(tv.Packages))
	}
}
