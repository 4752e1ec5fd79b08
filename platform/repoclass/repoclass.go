// Package repoclass classifies the repository a contribution went to: the company's own
// (internal, or company open source when it is public), a contributor's personal repository, a
// fork, or upstream; the foundation that hosts it; and whether the company's services depend on
// it (from the dependency list of giveback deps import), with how many services use it.
package repoclass

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"giveback.dev/schemas"
)

// Destinations.
const (
	Internal   = "internal"    // a private repository of a company org
	CompanyOSS = "company_oss" // a public repository of a company org: the company's own open source
	Upstream   = "upstream"    // someone else's project
	Fork       = "fork"        // a fork owned by someone other than the contributor
	Personal   = "personal"    // the contributor's own repository
)

// Destinations lists every destination, in display order.
var Destinations = []string{Upstream, CompanyOSS, Internal, Personal, Fork}

// Class is what Classify says of a repository.
type Class struct {
	Destination  string
	Foundation   string // "" when no foundation hosts it
	IsDependency bool   // the company's services depend on it
	Criticality  int    // how many of the company's services use it; 0 when not a dependency
}

// Repo is what the caller knows of the repository.
type Repo struct {
	Name   string // owner/name
	Public bool   // known to be public: any repository GH Archive shows is
	Fork   bool   // known to be a fork
}

// Classifier classifies repositories. It is safe for concurrent use; SetDependencies swaps the
// dependency list in while others classify.
type Classifier struct {
	orgs        map[string]bool
	foundations foundationMap
	deps        atomic.Pointer[map[string]int]
}

// New builds a classifier from the company's GitHub orgs, the foundations of
// schemas/foundations/foundations.yaml with overrides applied (owner or owner/repo →
// foundation; "" removes an entry), and the dependency list (repo → criticality; may be nil).
func New(companyOrgs []string, overrides map[string]string, dependencies map[string]int) (*Classifier, error) {
	fm, err := defaultFoundations()
	if err != nil {
		return nil, err
	}
	for k, v := range overrides {
		if err := fm.set(k, v, "dependencies.foundations"); err != nil {
			return nil, err
		}
	}
	c := &Classifier{orgs: map[string]bool{}, foundations: fm}
	for _, o := range companyOrgs {
		c.orgs[strings.ToLower(o)] = true
	}
	c.SetDependencies(dependencies)
	return c, nil
}

// SetDependencies replaces the dependency list (repository owner/name → criticality) used from
// now on. Names are matched case-insensitively.
func (c *Classifier) SetDependencies(m map[string]int) {
	low := NormalizeDependencies(m)
	c.deps.Store(&low)
}

// NormalizeDependencies returns a dependency list as Classify looks names up in it: keys lower
// case; of names that differ only in case, the highest criticality is kept.
func NormalizeDependencies(m map[string]int) map[string]int {
	low := make(map[string]int, len(m))
	for k, v := range m {
		k = strings.ToLower(k)
		if prev, ok := low[k]; !ok || v > prev {
			low[k] = v
		}
	}
	return low
}

// Key is the form of a repository name (owner/name) that Classify looks up in the dependency
// list (see NormalizeDependencies) and the foundations: trimmed and lower case.
func Key(repo string) string { return strings.ToLower(strings.TrimSpace(repo)) }

// Dependencies returns how many repositories the current dependency list holds.
func (c *Classifier) Dependencies() int { return len(*c.deps.Load()) }

// Classify says where a contribution by actorLogin to r went. The company's orgs come first
// (internal, or company_oss when r is public), then the contributor's own repositories
// (personal), then forks, and everything else is upstream.
func (c *Classifier) Classify(r Repo, actorLogin string) Class {
	name := Key(r.Name)
	owner, _, _ := strings.Cut(name, "/")
	var cl Class
	switch {
	case c.orgs[owner]:
		cl.Destination = Internal
		if r.Public {
			cl.Destination = CompanyOSS
		}
	case owner != "" && strings.EqualFold(owner, actorLogin):
		cl.Destination = Personal
	case r.Fork:
		cl.Destination = Fork
	default:
		cl.Destination = Upstream
	}
	cl.Foundation = c.foundations.lookup(name)
	if n, ok := (*c.deps.Load())[name]; ok {
		cl.IsDependency, cl.Criticality = true, n
	}
	return cl
}

// Foundation returns the foundation hosting repo (owner/name), or "".
func (c *Classifier) Foundation(repo string) string {
	return c.foundations.lookup(Key(repo))
}

// Watch loads the dependency list now and then every interval until ctx ends, swapping each
// one in; a failed load keeps the list in use and is logged. It returns the first load's error
// and keeps watching in the background either way.
func (c *Classifier) Watch(ctx context.Context, load func(context.Context) (map[string]int, error), every time.Duration, log *slog.Logger) error {
	return c.WatchFunc(ctx, load, every, log, nil)
}

// WatchFunc is Watch that also hands the list to changed (when not nil): after the first load
// that succeeds, whatever it holds (what was classified before the process started may have
// used another list), and after every later load that changed the list. changed runs in the
// background, one call at a time, once the list is swapped in, so contributions classified
// from then on already use it; it gets the list as Classify looks it up (NormalizeDependencies)
// and must not modify it. When changed returns an error it is called again after the next load
// that succeeds, changed or not; it logs its own errors.
func (c *Classifier) WatchFunc(ctx context.Context, load func(context.Context) (map[string]int, error), every time.Duration, log *slog.Logger,
	changed func(context.Context, map[string]int) error) error {
	pending := changed != nil // touched by the first load, then only by the watching goroutine
	refresh := func() error {
		m, err := load(ctx)
		if err != nil {
			return err
		}
		low := NormalizeDependencies(m)
		if maps.Equal(low, *c.deps.Load()) {
			return nil
		}
		if log != nil {
			log.Info("dependency list loaded", slog.Int("repositories", len(low)))
		}
		c.deps.Store(&low)
		pending = changed != nil
		return nil
	}
	notify := func() {
		if pending && ctx.Err() == nil && changed(ctx, *c.deps.Load()) == nil {
			pending = false
		}
	}
	first := refresh()
	go func() {
		if first == nil {
			notify()
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := refresh(); err != nil {
					if ctx.Err() == nil && log != nil {
						log.Warn("dependency list not refreshed", slog.Any("err", err))
					}
					continue
				}
				notify()
			}
		}
	}()
	return first
}

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
