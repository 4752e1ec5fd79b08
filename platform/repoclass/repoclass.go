// Package repoclass classifies the repository a contribution went to: the company's own
// (internal, or company open source when it is public), a contributor's personal repository, a
// fork, or upstream; the foundation that hosts it; and whether the company's services depend on
// it (from the dependency list of giveback deps import), with how many services use it.
package repoclass

import (
	"strings"
	"sync"
	"sync/atomic"
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
	watching    sync.WaitGroup // the goroutine of Watch, joined by Wait
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

// Classify says where a contribution to r went, made by the person with the given logins (the
// login that acted, and every other login the roster gives that person). The company's orgs
// come first (internal, or company_oss when r is public), then the contributor's own
// repositories (personal: owned by any of the logins), then forks, and everything else is
// upstream: a third-party repository.
func (c *Classifier) Classify(r Repo, logins ...string) Class {
	name := Key(r.Name)
	owner, _, _ := strings.Cut(name, "/")
	var cl Class
	switch {
	case c.orgs[owner]:
		cl.Destination = Internal
		if r.Public {
			cl.Destination = CompanyOSS
		}
	case owner != "" && ownedBy(owner, logins):
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

// ownedBy reports whether owner (lower case) is one of the logins.
func ownedBy(owner string, logins []string) bool {
	for _, l := range logins {
		if strings.EqualFold(owner, strings.TrimSpace(l)) {
			return true
		}
	}
	return false
}

// Foundation returns the foundation hosting repo (owner/name), or "".
func (c *Classifier) Foundation(repo string) string {
	return c.foundations.lookup(Key(repo))
}
