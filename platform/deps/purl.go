package deps

import (
	"strings"

	"github.com/package-url/packageurl-go"
)

// purl is a package URL (https://github.com/package-url/purl-spec) as the specification's own
// library parses it.
type purl struct {
	packageurl.PackageURL
}

// parsePURL parses "pkg:type/namespace/name@version?qualifiers#subpath"; ok is false when s is
// not a valid package URL.
func parsePURL(s string) (purl, bool) {
	p, err := packageurl.FromString(strings.TrimSpace(s))
	if err != nil || p.Type == "" || p.Name == "" {
		return purl{}, false
	}
	return purl{p}, true
}

// packageName is the name as the ecosystem writes it.
func (p purl) packageName() string {
	if p.Namespace == "" {
		return p.Name
	}
	if p.Type == packageurl.TypeMaven {
		return p.Namespace + ":" + p.Name
	}
	return p.Namespace + "/" + p.Name
}

// nameAs is the package's name, spelt as the document spells it where the two differ only in
// case: the specification lowercases some types' names (a Go module path among them), while
// the ecosystem's own spelling is the one the other inputs use.
func (p purl) nameAs(given string) string {
	name := p.packageName()
	if given != name && strings.EqualFold(given, name) {
		return given
	}
	return name
}

// qualifier returns the value of the qualifier key, or "".
func (p purl) qualifier(key string) string {
	for _, q := range p.Qualifiers {
		if q.Key == key {
			return q.Value
		}
	}
	return ""
}

// repo maps the package URL to a GitHub repository: a github purl names it, a golang purl is a
// module path, and a vcs_url qualifier points at it.
func (p purl) repo() string {
	switch p.Type {
	case packageurl.TypeGithub:
		if p.Namespace != "" && !strings.Contains(p.Namespace, "/") {
			return normRepo(p.Namespace, p.Name)
		}
	case packageurl.TypeGolang:
		if r := GoModuleRepo(p.packageName()); r != "" {
			return r
		}
	}
	if v := p.qualifier("vcs_url"); v != "" {
		return RepoFromURL(v)
	}
	return ""
}

// goPURL is the package URL of a Go module.
func goPURL(path, version string) string {
	ns, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		ns, name = path[:i], path[i+1:]
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, nil, "").ToString()
}

// npmPURL is the package URL of an npm package; a scoped name's scope is its namespace.
func npmPURL(name, version string) string {
	ns := ""
	if scope, rest, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(scope, "@") {
		ns, name = scope, rest
	}
	return packageurl.NewPackageURL(packageurl.TypeNPM, ns, name, version, nil, "").ToString()
}
