package repoclass

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"giveback.dev/schemas"
)

// foundationMap holds owner and owner/repo entries (lower case) and owner prefixes ("eclipse-").
type foundationMap struct {
	exact    map[string]string
	prefixes []prefix // longest first
}

type prefix struct{ prefix, foundation string }

var (
	ownerRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,38}$`)
	repoRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,38}/[a-z0-9._-]{1,100}$`)
	glob    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,38}\*$`)
)

// ValidKey reports whether k is a GitHub owner, owner/repo, or owner prefix ending in *.
func ValidKey(k string) bool {
	k = strings.ToLower(k)
	return ownerRe.MatchString(k) || repoRe.MatchString(k) || glob.MatchString(k)
}

func (fm *foundationMap) set(key, foundation, where string) error {
	k := strings.ToLower(strings.TrimSpace(key))
	if !ValidKey(k) {
		return fmt.Errorf("repoclass: %s: %q is not a GitHub owner, owner/repo or owner prefix ending in *", where, key)
	}
	foundation = strings.TrimSpace(foundation)
	if p, ok := strings.CutSuffix(k, "*"); ok {
		kept := fm.prefixes[:0]
		for _, x := range fm.prefixes {
			if x.prefix != p {
				kept = append(kept, x)
			}
		}
		fm.prefixes = kept
		if foundation != "" {
			fm.prefixes = append(fm.prefixes, prefix{p, foundation})
		}
		sort.SliceStable(fm.prefixes, func(i, j int) bool { return len(fm.prefixes[i].prefix) > len(fm.prefixes[j].prefix) })
		return nil
	}
	fm.exact[k] = foundation // "" keeps the key so it hides a prefix match
	return nil
}

func (fm *foundationMap) lookup(repo string) string {
	if f, ok := fm.exact[repo]; ok {
		return f
	}
	owner, _, _ := strings.Cut(repo, "/")
	if f, ok := fm.exact[owner]; ok {
		return f
	}
	for _, p := range fm.prefixes {
		if strings.HasPrefix(owner, p.prefix) {
			return p.foundation
		}
	}
	return ""
}

// defaultFoundations reads the embedded schemas/foundations/foundations.yaml.
func defaultFoundations() (foundationMap, error) {
	data, err := fs.ReadFile(schemas.Foundations, "foundations/foundations.yaml")
	if err != nil {
		return foundationMap{}, fmt.Errorf("repoclass: %w", err)
	}
	return parseFoundations(data, "foundations.yaml")
}

// parseFoundations reads "foundation: [owner or owner/repo, …]"; an entry listed twice is an
// error, as it would hide which foundation is meant.
func parseFoundations(data []byte, name string) (foundationMap, error) {
	var doc map[string][]string
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return foundationMap{}, fmt.Errorf("repoclass: %s: %w", name, err)
	}
	fm := foundationMap{exact: map[string]string{}}
	seen := map[string]string{}
	names := make([]string, 0, len(doc))
	for f := range doc {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if strings.TrimSpace(f) == "" {
			return fm, fmt.Errorf("repoclass: %s: a foundation without a name", name)
		}
		for _, k := range doc[f] {
			lk := strings.ToLower(k)
			if prev, dup := seen[lk]; dup {
				return fm, fmt.Errorf("repoclass: %s: %s is listed under both %s and %s", name, k, prev, f)
			}
			seen[lk] = f
			if err := fm.set(k, f, name); err != nil {
				return fm, err
			}
		}
	}
	return fm, nil
}
