package metrics

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"giveback.dev/platform/store"
)

// The kinds of organization an outside contributor can belong to, as Affiliate answers them.
const (
	AffiliationOrganization = "organization" // an organization the affiliations name
	AffiliationIndependent  = "independent"  // the affiliations call the contributor independent
	AffiliationUnknown      = "unaffiliated" // nothing is known of the contributor's organization
)

// Affiliate tells the organization of a contributor's login on a day: its kind (one of the
// Affiliation constants) and, for AffiliationOrganization, its name. A nil Affiliate leaves
// every contributor unaffiliated.
type Affiliate func(login string, day time.Time) (kind, org string)

// CommunityOrg is one organization behind outside contributors.
type CommunityOrg struct {
	Name          string `json:"name"`
	Contributors  int64  `json:"contributors"`
	Contributions int64  `json:"contributions"`
}

// CommunityMonth is one month of community inflow.
type CommunityMonth struct {
	Month         string `json:"month"`         // YYYY-MM
	Contributors  int64  `json:"contributors"`  // distinct outside contributors active in the month
	New           int64  `json:"new"`           // of which made their first contribution in the month
	Contributions int64  `json:"contributions"` // their contributions in the month
}

// Community is the community inflow of a period: the people outside the roster who contributed
// to the company's own public repositories, how much, whether they are new or returning, and
// the organizations behind them. It holds aggregates only, never a login.
type Community struct {
	Filter        Period `json:"filter"`
	Contributors  int64  `json:"contributors"`  // distinct outside contributors in the period
	Contributions int64  `json:"contributions"` // their contributions in the period
	New           int64  `json:"new"`           // first contribution to the company's open source in the period
	Returning     int64  `json:"returning"`     // contributed before the period too
	// Organizations are the organizations the affiliations name for the contributors (at the
	// period's last day), by contributors, then contributions, then name.
	Organizations []CommunityOrg   `json:"organizations"`
	Independent   int64            `json:"independent"`  // contributors the affiliations call independent
	Unaffiliated  int64            `json:"unaffiliated"` // contributors of unknown organization
	Months        []CommunityMonth `json:"months"`       // every month of the period, empty ones included
}

// GetCommunity computes the community inflow of the period. The filter's team must be empty:
// outside contributors have no team. Its upstream selection does not apply.
func GetCommunity(ctx context.Context, q Querier, f Filter, affiliate Affiliate) (Community, error) {
	cs, err := GetCommunities(ctx, q, []Filter{f}, affiliate)
	return cs[0], err
}

// GetCommunities computes the community inflow of each period, as GetCommunity does; periods of
// whole calendar months are read by one statement (eachPeriod).
func GetCommunities(ctx context.Context, q Querier, fs []Filter, affiliate Affiliate) ([]Community, error) {
	out := make([]Community, len(fs))
	for i, f := range fs {
		out[i] = Community{Filter: period(f), Organizations: []CommunityOrg{}, Months: []CommunityMonth{}}
		if f.Team != "" {
			return out, &FieldError{Field: "team", Reason: "community inflow counts people outside the roster, who have no team; leave team out"}
		}
	}
	err := eachPeriod(ctx, q, "community", fs, func(i int, f Filter, rows [][]any) { out[i] = communityOf(f, rows, affiliate) })
	return out, err
}

// communityOf computes the community inflow of f from the rows of the community statement
// (login, month, contributions, is_new, first_month).
func communityOf(f Filter, rows [][]any, affiliate Affiliate) Community {
	out := Community{Filter: period(f), Organizations: []CommunityOrg{}, Months: []CommunityMonth{}}
	type person struct {
		contributions int64
		isNew         bool
	}
	people := map[string]*person{}
	var order []string
	months := map[string]*CommunityMonth{}
	for _, r := range rows {
		login, m, n := store.AsString(r[0]), month(r[1]), store.AsInt(r[2])
		isNew, first := store.AsInt(r[3]) != 0, month(r[4])
		p := people[login]
		if p == nil {
			p = &person{isNew: isNew}
			people[login] = p
			order = append(order, login)
		}
		p.contributions += n
		cm := months[m]
		if cm == nil {
			cm = &CommunityMonth{Month: m}
			months[m] = cm
		}
		cm.Contributors++
		cm.Contributions += n
		if first == m {
			cm.New++
		}
	}
	orgs := map[string]*CommunityOrg{}
	for _, login := range order {
		p := people[login]
		out.Contributors++
		out.Contributions += p.contributions
		if p.isNew {
			out.New++
		} else {
			out.Returning++
		}
		kind, name := AffiliationUnknown, ""
		if affiliate != nil {
			kind, name = affiliate(login, f.To)
		}
		switch kind {
		case AffiliationOrganization:
			key := strings.ToLower(name)
			o := orgs[key]
			if o == nil {
				o = &CommunityOrg{Name: name}
				orgs[key] = o
			}
			o.Contributors++
			o.Contributions += p.contributions
		case AffiliationIndependent:
			out.Independent++
		default:
			out.Unaffiliated++
		}
	}
	for _, o := range orgs {
		out.Organizations = append(out.Organizations, *o)
	}
	slices.SortFunc(out.Organizations, func(a, b CommunityOrg) int {
		return cmp.Or(cmp.Compare(b.Contributors, a.Contributors), cmp.Compare(b.Contributions, a.Contributions), strings.Compare(a.Name, b.Name))
	})
	for _, m := range f.Months() {
		k := m.Format("2006-01")
		cm := CommunityMonth{Month: k}
		if got := months[k]; got != nil {
			cm = *got
		}
		out.Months = append(out.Months, cm)
	}
	return out
}
