package metrics

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"

	"giveback.dev/platform/store"
)

// NewcomerMonth is one month of new and returning upstream contributors.
type NewcomerMonth struct {
	Month     string `json:"month"`     // YYYY-MM
	New       int64  `json:"new"`       // employees whose first upstream contribution ever is in the month
	Returning int64  `json:"returning"` // employees active upstream in the month who had contributed upstream before it
}

// Newcomers is CHAOSS New and Returning Contributors for upstream work: the employees active
// upstream in the period, split by whether their first upstream contribution ever falls in the
// period (new) or before it (returning).
type Newcomers struct {
	Filter    Period          `json:"filter"`
	New       int64           `json:"new"`
	Returning int64           `json:"returning"`
	Months    []NewcomerMonth `json:"months"` // every month of the period, empty ones included
	// NewEmployees are the employee ids of the new contributors, sorted, for a caller allowed to
	// name them (a report with people); never served by the API.
	NewEmployees []string `json:"-"`
}

// GetNewcomers computes new and returning upstream contributors. The metric is about upstream
// work by definition: the filter's upstream selection is replaced by upstream only (and echoed
// so). The team selects the contributions of the period; the first contribution ever is looked
// for in every team, so a person who moved teams is not new again.
func GetNewcomers(ctx context.Context, q Querier, f Filter) (Newcomers, error) {
	f.Upstream = UpstreamOnly
	res, err := run(ctx, q, "newcomers", f, 0)
	if err != nil {
		return Newcomers{Filter: period(f), Months: []NewcomerMonth{}}, err
	}
	return newcomersOf(f, res.Rows), nil
}

// GetNewcomersOf computes the newcomers of each period, as GetNewcomers does; periods of whole
// calendar months that differ in the period alone are read by one statement (eachPeriod).
func GetNewcomersOf(ctx context.Context, q Querier, fs []Filter) ([]Newcomers, error) {
	up := make([]Filter, len(fs))
	for i, f := range fs {
		f.Upstream = UpstreamOnly
		up[i] = f
	}
	out := make([]Newcomers, len(fs))
	err := eachPeriod(ctx, q, "newcomers", up, func(i int, f Filter, rows [][]any) { out[i] = newcomersOf(f, rows) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newcomersOf computes the newcomers of f from the rows of the newcomers statement (employee,
// month, contributions, is_new, first_month).
func newcomersOf(f Filter, rows [][]any) Newcomers {
	out := Newcomers{Filter: period(f), Months: []NewcomerMonth{}}
	newPeople, seen := map[string]bool{}, map[string]bool{}
	months := map[string]*NewcomerMonth{}
	for _, r := range rows {
		emp, m, isNew, firstMonth := store.AsString(r[0]), month(r[1]), store.AsInt(r[3]) != 0, month(r[4])
		nm := months[m]
		if nm == nil {
			nm = &NewcomerMonth{Month: m}
			months[m] = nm
		}
		if firstMonth == m {
			nm.New++
		} else {
			nm.Returning++
		}
		seen[emp] = true
		if isNew {
			newPeople[emp] = true
		}
	}
	out.New = int64(len(newPeople))
	out.NewEmployees = slices.Sorted(maps.Keys(newPeople))
	out.Returning = int64(len(seen)) - out.New
	for _, m := range f.Months() {
		k := m.Format("2006-01")
		nm := NewcomerMonth{Month: k}
		if got := months[k]; got != nil {
			nm = *got
		}
		out.Months = append(out.Months, nm)
	}
	return out
}

// OrgReach is one upstream organization (a repository owner) reached.
type OrgReach struct {
	Org           string `json:"org"`
	Foundation    string `json:"foundation"` // of its most contributed repository that has one; "" for none
	Contributions int64  `json:"contributions"`
	Repos         int64  `json:"repos"` // its repositories the employees contributed to
}

// FoundationReach is one foundation reached.
type FoundationReach struct {
	Foundation    string `json:"foundation"`
	Contributions int64  `json:"contributions"`
	Repos         int64  `json:"repos"`
}

// Reach is CHAOSS Organizational Diversity seen from the giving side: how many distinct upstream
// organizations (repository owners) and foundations the employees' upstream contributions reached
// in the period.
type Reach struct {
	Filter       Period            `json:"filter"`
	Orgs         int64             `json:"orgs"`        // distinct owners of the upstream repositories reached
	Foundations  int64             `json:"foundations"` // distinct foundations of those repositories
	TopOrgs      []OrgReach        `json:"top_orgs"`    // by contributions, then name; at most the limit
	ByFoundation []FoundationReach `json:"by_foundation"`
}

// GetReach computes the upstream organizations and foundations reached; limit bounds TopOrgs
// (the totals count every one). ByFoundation lists every foundation reached, by contributions,
// then name. Like GetNewcomers it counts upstream work only, whatever the filter's upstream.
func GetReach(ctx context.Context, q Querier, f Filter, limit int) (Reach, error) {
	f.Upstream = UpstreamOnly
	out := Reach{Filter: period(f), TopOrgs: []OrgReach{}, ByFoundation: []FoundationReach{}}
	res, err := run(ctx, q, "reach", f, 0)
	if err != nil {
		return out, err
	}
	type org struct {
		OrgReach
		best int64 // contributions of the repository that gave Foundation
	}
	orgs := map[string]*org{}
	var order []string
	founds := map[string]*FoundationReach{}
	for _, r := range res.Rows {
		key, name, foundation, n := store.AsString(r[0]), store.AsString(r[1]), store.AsString(r[3]), store.AsInt(r[4])
		o := orgs[key]
		if o == nil {
			o = &org{OrgReach: OrgReach{Org: name}}
			orgs[key] = o
			order = append(order, key)
		}
		o.Contributions += n
		o.Repos++
		if foundation != "" && n > o.best {
			o.Foundation, o.best = foundation, n
		}
		if foundation != "" {
			fr := founds[foundation]
			if fr == nil {
				fr = &FoundationReach{Foundation: foundation}
				founds[foundation] = fr
			}
			fr.Contributions += n
			fr.Repos++
		}
	}
	out.Orgs, out.Foundations = int64(len(orgs)), int64(len(founds))
	all := make([]OrgReach, 0, len(order))
	for _, k := range order {
		all = append(all, orgs[k].OrgReach)
	}
	slices.SortFunc(all, func(a, b OrgReach) int {
		return cmp.Or(cmp.Compare(b.Contributions, a.Contributions), strings.Compare(strings.ToLower(a.Org), strings.ToLower(b.Org)))
	})
	out.TopOrgs = append(out.TopOrgs, all[:min(len(all), max(limit, 0))]...)
	for _, fr := range founds {
		out.ByFoundation = append(out.ByFoundation, *fr)
	}
	slices.SortFunc(out.ByFoundation, func(a, b FoundationReach) int {
		return cmp.Or(cmp.Compare(b.Contributions, a.Contributions), strings.Compare(a.Foundation, b.Foundation))
	})
	return out, nil
}

// Seat is one maintainer seat: an employee who approved or merged other people's pull requests
// in a project during the period.
type Seat struct {
	Repo       string `json:"repo"` // owner/name
	EmployeeID string `json:"employee_id"`
	Login      string `json:"login"` // the login of the latest act
	Team       string `json:"team"`  // the team of the latest act, as currently attributed
	Approvals  int64  `json:"approvals"`
	Merges     int64  `json:"merges"`
	Last       string `json:"last"` // YYYY-MM-DD of the latest act
}

// Seats is the maintainer seats the employees hold: per project, the employees who merged or
// approved pull requests authored by someone else in the period.
type Seats struct {
	Filter Period `json:"filter"`
	Total  int64  `json:"total"` // seats (project and employee pairs) in the period
	Rows   []Seat `json:"rows"`  // by approvals and merges, then project and login; at most the limit
}

// GetSeats computes the maintainer seats of the period; limit bounds Rows.
func GetSeats(ctx context.Context, q Querier, f Filter, limit int) (Seats, error) {
	out := Seats{Filter: period(f), Rows: []Seat{}}
	res, err := run(ctx, q, "seats", f, max(limit, 1))
	if err != nil {
		return out, err
	}
	for i, r := range res.Rows {
		if i == 0 {
			out.Total = store.AsInt(r[7])
		}
		if i >= limit {
			break
		}
		out.Rows = append(out.Rows, Seat{Repo: store.AsString(r[0]), EmployeeID: store.AsString(r[1]), Login: store.AsString(r[2]),
			Team: store.AsString(r[3]), Approvals: store.AsInt(r[4]), Merges: store.AsInt(r[5]), Last: dayOf(r[6])})
	}
	return out, nil
}

// dayOf turns a Date or DateTime value into YYYY-MM-DD; "" for the epoch (an absent value).
func dayOf(v any) string {
	s := store.AsString(v)
	if len(s) < 10 || strings.HasPrefix(s, "1970-01-01") {
		return ""
	}
	return s[:10]
}

// Person is one employee's upstream record.
type Person struct {
	EmployeeID    string `json:"employee_id"`
	Login         string `json:"login"` // the login of the latest contribution
	Team          string `json:"team"`  // the team of the latest contribution, as currently attributed
	Contributions int64  `json:"contributions"`
	PRsMerged     int64  `json:"prs_merged"` // merged in the period
	Repos         int64  `json:"repos"`      // distinct repositories contributed to in the period
	First         string `json:"first"`      // YYYY-MM-DD of the first upstream contribution ever
	Last          string `json:"last"`       // YYYY-MM-DD of the last one up to the period's end
}

// People is every employee's upstream record for the period.
type People struct {
	Filter Period   `json:"filter"`
	Total  int64    `json:"total"` // employees with upstream contributions or merges in the period
	Rows   []Person `json:"rows"`  // the most contributing first, then by employee id; at most the limit
}

// GetPeople computes each employee's upstream record; like GetNewcomers it counts upstream work
// only. skip, when not nil, drops employees (by employee id) from the rows and the total: the
// report service drops those the roster says opted out. limit bounds Rows.
func GetPeople(ctx context.Context, q Querier, f Filter, limit int, skip func(employeeID string) bool) (People, error) {
	f.Upstream = UpstreamOnly
	out := People{Filter: period(f), Rows: []Person{}}
	res, err := run(ctx, q, "people", f, 0)
	if err != nil {
		return out, err
	}
	for _, r := range res.Rows {
		p := Person{EmployeeID: store.AsString(r[0]), Login: store.AsString(r[1]), Team: store.AsString(r[2]),
			Contributions: store.AsInt(r[3]), PRsMerged: store.AsInt(r[4]), Repos: store.AsInt(r[5]), First: dayOf(r[6]), Last: dayOf(r[7])}
		if skip != nil && skip(p.EmployeeID) {
			continue
		}
		out.Total++
		if len(out.Rows) < limit {
			out.Rows = append(out.Rows, p)
		}
	}
	return out, nil
}
