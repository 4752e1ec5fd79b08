package enrich

import (
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/repoclass"
	"giveback.dev/platform/roster"
)

// identities is how enrich resolves who made a contribution beyond the roster: bots, aliases and
// the company's e-mail domains.
type identities struct {
	bots    map[string]bool
	aliases map[string]string // lower-cased login or e-mail → lower-cased roster login
	domains []string          // "@example.com", lower-cased
	bot     *prometheus.CounterVec
}

func newIdentities(company config.Company, cfg config.Identities) *identities {
	id := &identities{
		bot: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "giveback_enrich_bot_contributions_total", Help: "Contributions by bots (logins ending in [bot], identities.bots), never attributed, by kind.",
		}, []string{"kind"}),
	}
	id.configure(company, cfg)
	return id
}

func (id *identities) configure(company config.Company, cfg config.Identities) {
	id.bots = map[string]bool{}
	for _, b := range cfg.Bots {
		id.bots[strings.ToLower(strings.TrimSpace(b))] = true
	}
	id.aliases = map[string]string{}
	for k, v := range cfg.Aliases {
		id.aliases[strings.ToLower(strings.TrimSpace(k))] = strings.ToLower(strings.TrimSpace(v))
	}
	id.domains = nil
	for _, d := range company.EmailDomains {
		id.domains = append(id.domains, "@"+strings.ToLower(d))
	}
}

// isBot reports whether a login is a bot's.
func (id *identities) isBot(login string) bool {
	l := strings.ToLower(login)
	return strings.HasSuffix(l, "[bot]") || id.bots[l]
}

// login returns the roster login an identity stands for: its alias, or itself.
func (id *identities) login(identity string) string {
	l := strings.ToLower(identity)
	if a, ok := id.aliases[l]; ok {
		return a
	}
	return l
}

// companyEmail reports whether an e-mail is of one of the company's domains.
func (id *identities) companyEmail(email string) bool {
	for _, d := range id.domains {
		if strings.HasSuffix(email, d) {
			return true
		}
	}
	return false
}

// optedOut reports whether the contribution belongs to someone who opted out, by its login or
// its author e-mail, directly or through an alias.
func (id *identities) optedOut(ro *roster.Roster, c *events.Contribution) bool {
	if ro.OptedOut(c.ActorLogin) || ro.OptedOut(id.login(c.ActorLogin)) {
		return true
	}
	if c.AuthorEmail != "" {
		if a, ok := id.aliases[c.AuthorEmail]; ok {
			return ro.OptedOut(a)
		}
		return ro.OptedOut(c.AuthorEmail)
	}
	return false
}

// match attributes a contribution: a commit by its author e-mail first (directly, or an alias
// of it), then by its actor login (the author's login GitHub linked, the login of a noreply
// e-mail, or the pusher as the last resort), directly or through an alias. Bots never match.
func (id *identities) match(ro *roster.Roster, c *events.Contribution) (roster.Match, bool) {
	if id.isBot(c.ActorLogin) {
		return roster.Match{}, false
	}
	if c.AuthorEmail != "" {
		if a, ok := id.aliases[c.AuthorEmail]; ok {
			if m, ok := ro.ByLogin(a, c.OccurredAt); ok {
				return m, true
			}
		} else if m, ok := ro.ByEmail(c.AuthorEmail, c.OccurredAt); ok {
			return m, true
		}
	}
	return ro.ByLogin(id.login(c.ActorLogin), c.OccurredAt)
}

// unmatched returns the unmatched-identity records of an unattributed contribution: its author
// e-mail when of a company domain, its login when it was made in a company org. Bots and
// attributed contributions give none.
func (id *identities) unmatched(c *events.Contribution) []events.Unmatched {
	if c.EmployeeID != "" || id.isBot(c.ActorLogin) {
		return nil
	}
	var out []events.Unmatched
	u := events.Unmatched{Repo: strings.ToLower(c.Repo), At: c.OccurredAt, ContributionID: c.ID}
	if c.AuthorEmail != "" && id.companyEmail(c.AuthorEmail) {
		u.Identity, u.Kind, u.Reason = c.AuthorEmail, events.IdentityEmail, events.UnmatchedCompanyEmail
		out = append(out, u)
	}
	if (c.Destination == repoclass.Internal || c.Destination == repoclass.CompanyOSS) && c.ActorLogin != "" {
		u.Identity, u.Kind, u.Reason = strings.ToLower(c.ActorLogin), events.IdentityLogin, events.UnmatchedCompanyOrg
		out = append(out, u)
	}
	return out
}

// needles returns what a raw payload that concerns the identities contains, lower-cased: the
// quoted login or e-mail, a noreply address of the login, and the same for every alias of them.
func (id *identities) needles(idents []string) []string {
	set := map[string]bool{}
	for _, i := range idents {
		set[strings.ToLower(i)] = true
	}
	for from, to := range id.aliases {
		if set[to] || set[from] {
			set[from], set[to] = true, true
		}
	}
	var out []string
	for i := range set {
		out = append(out, `"`+i+`"`)
		if !strings.Contains(i, "@") {
			out = append(out, "+"+i+"@users.noreply.github.com", `"`+i+"@users.noreply.github.com")
		}
	}
	return out
}

// personLogins gives the logins of a roster person, indexed once per roster: a repository owned
// by any of them is the person's own.
type personLogins struct {
	idx atomic.Pointer[loginIndex]
}

type loginIndex struct {
	ro         *roster.Roster
	byEmployee map[string][]string
}

// of returns every login the roster gives the employee, in any period.
func (p *personLogins) of(ro *roster.Roster, employeeID string) []string {
	if ro == nil {
		return nil
	}
	x := p.idx.Load()
	if x == nil || x.ro != ro {
		x = &loginIndex{ro: ro, byEmployee: map[string][]string{}}
		for _, per := range ro.Periods {
			x.byEmployee[per.EmployeeID] = append(x.byEmployee[per.EmployeeID], per.Logins...)
		}
		p.idx.Store(x)
	}
	return x.byEmployee[employeeID]
}
