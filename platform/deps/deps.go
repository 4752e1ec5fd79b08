// Package deps reads what the company's services depend on — CycloneDX SBOMs (JSON or XML),
// SPDX SBOMs (JSON or tag-value), go.mod files and npm package-lock.json files — and maps each
// package to the GitHub repository it is developed in, so contributions can be set against the
// projects the company consumes.
// A package is mapped only where the input says where its source lives (a purl of a forge, a VCS
// reference, a git URL) or where the module path names it (go.mod); the rest are kept as
// unmapped, never guessed.
package deps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Formats of the inputs.
const (
	FormatCycloneDX   = "cyclonedx"
	FormatSPDX        = "spdx"
	FormatGoMod       = "gomod"
	FormatPackageLock = "package-lock"
)

// Package is one package a service uses.
type Package struct {
	Ecosystem string // the purl type: golang, npm, maven, pypi, …; "" when the input gives none
	Name      string // as the ecosystem writes it: golang.org/x/sync, @babel/core, org.slf4j:slf4j-api
	Version   string
	PURL      string // as given, or built for go.mod and package-lock entries
	Repo      string // owner/name on GitHub, lower case; "" when unmapped
}

// Key names the package without its version: "ecosystem:name".
func (p Package) Key() string {
	if p.Ecosystem == "" {
		return p.Name
	}
	return p.Ecosystem + ":" + p.Name
}

// Manifest is what one file says a service uses.
type Manifest struct {
	Path     string // the file read
	Service  string // the consuming service: the SBOM's subject, the go.mod module, the lock's name; else the file's directory name
	Format   string
	Packages []Package
}

// ParseFile reads one file, detecting its format from the content.
func ParseFile(path string) (Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("deps: %w", err)
	}
	m, err := Parse(path, data)
	if err != nil {
		return m, err
	}
	if m.Service == "" {
		if abs, err := filepath.Abs(path); err == nil {
			m.Service = filepath.Base(filepath.Dir(abs))
		}
	}
	return m, nil
}

// Parse reads the content of a file; name is used in errors and, when the content names no
// service, for the service (its directory's name).
func Parse(name string, data []byte) (Manifest, error) {
	m, err := parse(data)
	if err != nil {
		return Manifest{}, fmt.Errorf("deps: %s: %w", name, err)
	}
	m.Path = name
	if m.Service == "" {
		if d := filepath.Base(filepath.Dir(name)); d != "." && d != string(filepath.Separator) {
			m.Service = d
		}
	}
	m.Packages = dedupe(m.Packages)
	return m, nil
}

const expected = "expected a CycloneDX SBOM (JSON or XML), an SPDX SBOM (JSON or tag-value), a go.mod or an npm package-lock.json"

// probe holds the top-level keys that tell the JSON formats apart.
type probe struct {
	BOMFormat       *string         `json:"bomFormat"`
	SPDXVersion     *string         `json:"spdxVersion"`
	LockfileVersion json.RawMessage `json:"lockfileVersion"`
}

func parse(data []byte) (Manifest, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return Manifest{}, fmt.Errorf("empty file: %s", expected)
	}
	switch trimmed[0] {
	case '{':
	case '<':
		if !bytes.Contains(trimmed, []byte(cdxNamespace)) {
			return Manifest{}, fmt.Errorf("unknown XML document (no <bom> in the %s namespace): %s", cdxNamespace, expected)
		}
		return parseCycloneDX(data, cdx.BOMFileFormatXML)
	default:
		switch {
		case looksLikeGoMod(data):
			return parseGoMod(data)
		case looksLikeSPDXTagValue(data):
			return parseSPDX(data, true)
		}
		return Manifest{}, fmt.Errorf("unknown format: %s", expected)
	}
	var p probe
	if err := json.Unmarshal(data, &p); err != nil {
		return Manifest{}, jsonError(data, err)
	}
	switch {
	case p.BOMFormat != nil:
		if *p.BOMFormat != "CycloneDX" {
			return Manifest{}, fmt.Errorf(`bomFormat is %q: expected "CycloneDX"`, *p.BOMFormat)
		}
		return parseCycloneDX(data, cdx.BOMFileFormatJSON)
	case p.SPDXVersion != nil:
		if v := *p.SPDXVersion; v != "SPDX-2.1" && v != "SPDX-2.2" && v != "SPDX-2.3" {
			return Manifest{}, fmt.Errorf(`spdxVersion is %q: expected SPDX-2.1, 2.2 or 2.3 (SPDX 3 is not read)`, *p.SPDXVersion)
		}
		return parseSPDX(data, false)
	case p.LockfileVersion != nil:
		return parsePackageLock(data)
	}
	return Manifest{}, fmt.Errorf("unknown JSON document (no bomFormat, spdxVersion or lockfileVersion): %s", expected)
}

// cdxNamespace begins the XML namespace of every CycloneDX version.
const cdxNamespace = "http://cyclonedx.org/schema/bom/"

// looksLikeSPDXTagValue reports whether the first tag of data, past comments, is SPDXVersion.
func looksLikeSPDXTagValue(data []byte) bool {
	for line := range bytes.Lines(data) {
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		return strings.HasPrefix(s, "SPDXVersion:")
	}
	return false
}

// jsonError describes a JSON error with the line and column where it happened.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		if strings.Contains(se.Error(), "unexpected end") {
			return fmt.Errorf("truncated JSON: the document stops at line %s, before it is complete", lineCol(data, int64(len(data))))
		}
		return fmt.Errorf("invalid JSON at line %s: %v", lineCol(data, se.Offset), se)
	case errors.As(err, &te):
		return fmt.Errorf("unexpected JSON at line %s: field %s is a %s, expected %s", lineCol(data, te.Offset), te.Field, te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated JSON: the document ends before it is complete")
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

func lineCol(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("%d, column %d", line, col)
}

func dedupe(ps []Package) []Package {
	seen := make(map[string]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		k := p.Key() + "@" + p.Version
		if p.Name == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	return out
}

// IsCandidate reports whether a file found while walking a directory is read by Load: by its
// name, or any other .json or .xml file that begins like an SBOM.
func IsCandidate(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case base == "go.mod", base == "package-lock.json", base == "bom.json", base == "sbom.json", base == "bom.xml",
		strings.HasSuffix(base, ".cdx.json"), strings.HasSuffix(base, ".spdx.json"),
		strings.HasSuffix(base, ".cdx.xml"), strings.HasSuffix(base, ".spdx"):
		return true
	case strings.HasSuffix(base, ".json"), strings.HasSuffix(base, ".xml"):
		return sniffSBOM(path)
	}
	return false
}

// sniffSBOM looks for what names an SBOM format near the start of a JSON or XML file: the key
// both JSON specifications put first, or CycloneDX's XML namespace on the root element.
func sniffSBOM(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 8<<10)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	return bytes.Contains(head, []byte(`"bomFormat"`)) || bytes.Contains(head, []byte(`"spdxVersion"`)) ||
		bytes.Contains(head, []byte(cdxNamespace))
}

// skipDir names the directories a walk does not enter: dependencies' own trees, VCS data and
// Go's test data.
func skipDir(name string) bool {
	return name == "node_modules" || name == "vendor" || name == "testdata" || (strings.HasPrefix(name, ".") && len(name) > 1)
}

// Load reads every path: a file is read whatever its name, a directory is walked for the files
// IsCandidate accepts. A file that cannot be read gives an error naming it and does not stop
// the others; a directory with no candidate gives an error too.
func Load(paths []string) ([]Manifest, []error) {
	var ms []Manifest
	var errs []error
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("deps: %w", err))
			continue
		}
		if !st.IsDir() {
			m, err := ParseFile(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ms = append(ms, m)
			continue
		}
		found := 0
		werr := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("deps: %w", err))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if path != p && skipDir(d.Name()) {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || !IsCandidate(path) {
				return nil
			}
			found++
			m, err := ParseFile(path)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			ms = append(ms, m)
			return nil
		})
		if werr != nil {
			errs = append(errs, fmt.Errorf("deps: walk %s: %w", p, werr))
		}
		if found == 0 {
			errs = append(errs, fmt.Errorf("deps: %s: no SBOM or manifest found (looked for *.cdx.json, *.cdx.xml, *.spdx.json, *.spdx, bom.json, bom.xml, sbom.json, go.mod, package-lock.json and .json or .xml SBOMs)", p))
		}
	}
	return ms, errs
}

// Dependency is one repository the company's services depend on.
type Dependency struct {
	Repo        string   // owner/name, lower case
	Packages    []string // the packages built from it, as Package.Key
	Services    []string // the services using it
	Criticality int      // how many distinct services use it
}

// Unmapped is a package whose repository the inputs do not tell, with the service using it.
type Unmapped struct {
	Package
	Service string
}

// Aggregate groups the mapped packages of every manifest by repository, most used first, and
// lists the packages left unmapped (one per service, package and version).
func Aggregate(ms []Manifest) ([]Dependency, []Unmapped) {
	type acc struct {
		packages, services map[string]bool
	}
	byRepo := map[string]*acc{}
	var unmapped []Unmapped
	seenUnmapped := map[string]bool{}
	for _, m := range ms {
		for _, p := range m.Packages {
			if p.Repo == "" {
				k := m.Service + "\x00" + p.Key() + "\x00" + p.Version
				if !seenUnmapped[k] {
					seenUnmapped[k] = true
					unmapped = append(unmapped, Unmapped{Package: p, Service: m.Service})
				}
				continue
			}
			a := byRepo[p.Repo]
			if a == nil {
				a = &acc{packages: map[string]bool{}, services: map[string]bool{}}
				byRepo[p.Repo] = a
			}
			a.packages[p.Key()] = true
			if m.Service != "" {
				a.services[m.Service] = true
			}
		}
	}
	out := make([]Dependency, 0, len(byRepo))
	for repo, a := range byRepo {
		d := Dependency{Repo: repo, Packages: keys(a.packages), Services: keys(a.services)}
		d.Criticality = len(d.Services)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Criticality != out[j].Criticality {
			return out[i].Criticality > out[j].Criticality
		}
		return out[i].Repo < out[j].Repo
	})
	sort.Slice(unmapped, func(i, j int) bool {
		a, b := unmapped[i], unmapped[j]
		if a.Key() != b.Key() {
			return a.Key() < b.Key()
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Service < b.Service
	})
	return out, unmapped
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
