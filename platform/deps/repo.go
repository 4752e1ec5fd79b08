package deps

import (
	"net/url"
	"regexp"
	"strings"
)

// purl is a parsed package URL (https://github.com/package-url/purl-spec).
type purl struct {
	Type, Namespace, Name, Version string
	Qualifiers                     url.Values
}

// parsePURL parses "pkg:type/namespace/name@version?qualifiers#subpath"; ok is false when s is
// not a package URL.
func parsePURL(s string) (purl, bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(s), "pkg:")
	if !found {
		return purl{}, false
	}
	if i := strings.LastIndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	var p purl
	if i := strings.LastIndexByte(rest, '?'); i >= 0 {
		q, err := url.ParseQuery(rest[i+1:])
		if err == nil {
			p.Qualifiers = q
		}
		rest = rest[:i]
	}
	rest = strings.TrimLeft(rest, "/")
	typ, rest, found := strings.Cut(rest, "/")
	if !found || typ == "" {
		return purl{}, false
	}
	p.Type = strings.ToLower(typ)
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		p.Version = unescape(rest[i+1:])
		rest = rest[:i]
	}
	rest = strings.Trim(rest, "/")
	segs := strings.Split(rest, "/")
	for i := range segs {
		segs[i] = unescape(segs[i])
	}
	p.Name = segs[len(segs)-1]
	p.Namespace = strings.Join(segs[:len(segs)-1], "/")
	if p.Name == "" {
		return purl{}, false
	}
	return p, true
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// packageName is the name as the ecosystem writes it.
func (p purl) packageName() string {
	if p.Namespace == "" {
		return p.Name
	}
	if p.Type == "maven" {
		return p.Namespace + ":" + p.Name
	}
	return p.Namespace + "/" + p.Name
}

// repo maps the package URL to a GitHub repository: a github purl names it, a golang purl is a
// module path, and a vcs_url qualifier points at it.
func (p purl) repo() string {
	switch p.Type {
	case "github":
		if p.Namespace != "" && !strings.Contains(p.Namespace, "/") {
			return normRepo(p.Namespace, p.Name)
		}
	case "golang":
		if r := GoModuleRepo(p.packageName()); r != "" {
			return r
		}
	}
	if v := p.Qualifiers.Get("vcs_url"); v != "" {
		return RepoFromURL(v)
	}
	return ""
}

var ghName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`)
var ghRepo = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// normRepo returns "owner/name" in lower case, or "" when either part is not a GitHub name.
func normRepo(owner, name string) string {
	name = strings.TrimSuffix(name, ".git")
	if !ghName.MatchString(owner) || !ghRepo.MatchString(name) || name == "." || name == ".." {
		return ""
	}
	return strings.ToLower(owner + "/" + name)
}

// RepoFromURL maps a URL of a GitHub repository, in any of the forms package metadata uses, to
// owner/name: https://github.com/o/r(.git)(/tree/…), git+https://…, git+ssh://git@github.com/o/r,
// git://github.com/o/r, git@github.com:o/r.git, github:o/r, with any @ref or #ref. Other hosts
// give "".
func RepoFromURL(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "github:"); ok {
		s = "https://github.com/" + rest
	}
	if rest, ok := strings.CutPrefix(s, "git@github.com:"); ok {
		s = "ssh://git@github.com/" + rest
	}
	if i := strings.Index(s, "+"); i >= 0 && i < strings.Index(s, "://") {
		s = s[i+1:] // git+https:// → https://
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if host != "github.com" && host != "www.github.com" {
		return ""
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) < 2 {
		return ""
	}
	name, _, _ := strings.Cut(segs[1], "@") // SPDX's git+https://github.com/o/r.git@v1.2.3
	return normRepo(segs[0], name)
}

// GoModuleRepo maps a Go module path to the GitHub repository it is developed in, where the
// path says so: github.com/o/r[/…], and the vanity paths of well-known projects. Others give "".
func GoModuleRepo(path string) string {
	segs := strings.Split(path, "/")
	at := func(i int) string {
		if i < len(segs) {
			return segs[i]
		}
		return ""
	}
	switch segs[0] {
	case "github.com":
		return normRepo(at(1), at(2))
	case "golang.org":
		if at(1) == "x" {
			return normRepo("golang", at(2))
		}
	case "k8s.io":
		return normRepo("kubernetes", at(1))
	case "sigs.k8s.io":
		return normRepo("kubernetes-sigs", at(1))
	case "google.golang.org":
		switch at(1) {
		case "grpc":
			return "grpc/grpc-go"
		case "protobuf":
			return "protocolbuffers/protobuf-go"
		case "genproto":
			return "googleapis/go-genproto"
		case "api":
			return "googleapis/google-api-go-client"
		}
	case "cloud.google.com":
		if at(1) == "go" {
			return "googleapis/google-cloud-go"
		}
	case "go.opentelemetry.io":
		switch at(1) {
		case "otel":
			return "open-telemetry/opentelemetry-go"
		case "contrib":
			return "open-telemetry/opentelemetry-go-contrib"
		case "collector":
			return "open-telemetry/opentelemetry-collector"
		}
	case "go.etcd.io":
		switch at(1) {
		case "etcd":
			return "etcd-io/etcd"
		case "bbolt":
			return "etcd-io/bbolt"
		}
	case "go.uber.org":
		return normRepo("uber-go", at(1))
	case "gopkg.in":
		// gopkg.in/pkg.vN is github.com/go-pkg/pkg; gopkg.in/user/pkg.vN is github.com/user/pkg.
		if name, ok := gopkgName(at(1)); ok {
			return normRepo("go-"+name, name)
		}
		if name, ok := gopkgName(at(2)); ok {
			return normRepo(at(1), name)
		}
	}
	return ""
}

var gopkgVersion = regexp.MustCompile(`^(.+)\.v[0-9]+$`)

func gopkgName(seg string) (string, bool) {
	m := gopkgVersion.FindStringSubmatch(seg)
	if m == nil {
		return "", false
	}
	return m[1], true
}
