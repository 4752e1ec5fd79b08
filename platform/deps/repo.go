package deps

import (
	"net/url"
	"regexp"
	"strings"
)

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
