package deps

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// lockEntry is an entry of the "packages" map (lockfile versions 2 and 3).
type lockEntry struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Resolved string `json:"resolved"`
	Link     bool   `json:"link"`
}

// lockV1Entry is an entry of the nested "dependencies" (lockfile version 1).
type lockV1Entry struct {
	Version      string                 `json:"version"`
	Resolved     string                 `json:"resolved"`
	From         string                 `json:"from"`
	Dependencies map[string]lockV1Entry `json:"dependencies"`
}

type lockFile struct {
	Name            string                 `json:"name"`
	LockfileVersion int                    `json:"lockfileVersion"`
	Packages        map[string]lockEntry   `json:"packages"`
	Dependencies    map[string]lockV1Entry `json:"dependencies"`
}

// parsePackageLock reads an npm package-lock.json: the "packages" map of lockfile versions 2
// and 3, or the nested "dependencies" of version 1. A package maps to a repository only when
// the lock resolves it from a git URL (a dependency on github:owner/repo or git+https://…);
// registry packages are left unmapped, as the lock says nothing of their source.
func parsePackageLock(data []byte) (Manifest, error) {
	var lf lockFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return Manifest{}, fmt.Errorf("package-lock.json: %w", jsonError(data, err))
	}
	if lf.LockfileVersion < 1 || lf.LockfileVersion > 3 {
		return Manifest{}, fmt.Errorf("package-lock.json: lockfileVersion %d: expected 1, 2 or 3", lf.LockfileVersion)
	}
	m := Manifest{Format: FormatPackageLock, Service: lf.Name}
	if lf.Packages != nil {
		paths := make([]string, 0, len(lf.Packages))
		for k := range lf.Packages {
			paths = append(paths, k)
		}
		sort.Strings(paths)
		for _, k := range paths {
			e := lf.Packages[k]
			if k == "" {
				if e.Name != "" {
					m.Service = e.Name
				}
				continue
			}
			// Only installed packages: "node_modules/…"; other keys are the workspace's own
			// packages, and links point at them.
			i := strings.LastIndex(k, "node_modules/")
			if i < 0 || e.Link {
				continue
			}
			name := e.Name
			if name == "" {
				name = k[i+len("node_modules/"):]
			}
			m.Packages = append(m.Packages, npmPackage(name, e.Version, e.Resolved))
		}
		return m, nil
	}
	var walk func(deps map[string]lockV1Entry)
	walk = func(deps map[string]lockV1Entry) {
		names := make([]string, 0, len(deps))
		for k := range deps {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			e := deps[name]
			src := e.Resolved
			if src == "" || RepoFromURL(src) == "" {
				if RepoFromURL(e.Version) != "" {
					src = e.Version // v1 writes a git dependency's version as its URL
				} else if RepoFromURL(e.From) != "" {
					src = e.From
				}
			}
			m.Packages = append(m.Packages, npmPackage(name, e.Version, src))
			walk(e.Dependencies)
		}
	}
	walk(lf.Dependencies)
	return m, nil
}

func npmPackage(name, version, resolved string) Package {
	p := Package{Ecosystem: "npm", Name: name, Version: version, Repo: RepoFromURL(resolved)}
	if p.Repo == "" {
		p.Repo = RepoFromURL(version)
	}
	if strings.Contains(version, "://") || strings.HasPrefix(version, "github:") || strings.HasPrefix(version, "git@") {
		// A git dependency's version is its URL: the version kept is the ref after "#", if any.
		p.Version = ""
		if _, ref, ok := strings.Cut(version, "#"); ok {
			p.Version = ref
		}
	}
	p.PURL = npmPURL(name, p.Version)
	return p
}
