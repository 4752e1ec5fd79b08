package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Organization kinds, as the influence answer names them.
const (
	OrgCompany      = "company"      // the company: its employees (and actors the file gives its name)
	OrgOrganization = "organization" // an organization named by the affiliations file
	OrgIndependent  = "independent"  // one actor the file calls independent: an organization of one
	OrgUnaffiliated = "unaffiliated" // one actor of unknown organization: an organization of one
)

// Affiliations are the organizations GitHub logins belong to over time, read from a JSON array
// of objects with at least "login" and "affiliation" (the github_users.json format of gitdm).
//
// An affiliation is a comma-separated list of organizations, oldest first; every one but the
// last ends at a date, "Org < YYYY-MM-DD" meaning Org until the day before that date:
// "Red Hat < 2019-01-01, Google" is Red Hat until 2018-12-31 and Google from 2019-01-01. When the
// last one has a date too, the login's organization is unknown after it. "NotFound",
// "(Unknown)", "Unknown", "?", "-" and "" are an unknown organization; "Independent" and "Self"
// make the actor an organization of its own. Names compare case-insensitively.
//
// A login listed several times (the format has one entry per login and e-mail) keeps its first
// entry that names an organization.
type Affiliations struct {
	logins map[string][]affiliation // lower-case login → periods, oldest first
}

// affiliation is one period of a login's affiliation.
type affiliation struct {
	org   string    // display name; "" unless kind is OrgOrganization
	kind  string    // OrgOrganization, OrgIndependent or OrgUnaffiliated
	until time.Time // the first day after the period; zero for an open end
}

// LoadAffiliations reads an affiliations file (see Affiliations).
func LoadAffiliations(path string) (*Affiliations, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("affiliations: %w", err)
	}
	defer f.Close()
	return ParseAffiliations(f, path)
}

// ParseAffiliations reads the JSON array of an affiliations file from r; name is the file's
// name in errors, which give the index of the bad entry (counting from 0) and the bad field.
func ParseAffiliations(r io.Reader, name string) (*Affiliations, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("affiliations %s: "+format, append([]any{name}, args...)...)
	}
	dec := json.NewDecoder(bufio.NewReader(r))
	tok, err := dec.Token()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fail("%v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fail(`want a JSON array of {"login": …, "affiliation": …} objects`)
	}
	a := &Affiliations{logins: make(map[string][]affiliation)}
	for i := 0; dec.More(); i++ {
		var e struct {
			Login       *string `json:"login"`
			Affiliation *string `json:"affiliation"`
		}
		if err := dec.Decode(&e); err != nil {
			return nil, fail("entry %d: %v", i, err)
		}
		if e.Login == nil || strings.TrimSpace(*e.Login) == "" {
			return nil, fail(`entry %d: "login" is missing or empty`, i)
		}
		login := strings.ToLower(strings.TrimSpace(*e.Login))
		if e.Affiliation == nil {
			return nil, fail(`entry %d (login %q): "affiliation" is missing`, i, *e.Login)
		}
		periods, err := parseAffiliation(*e.Affiliation)
		if err != nil {
			return nil, fail(`entry %d (login %q): "affiliation" %q: %v`, i, *e.Login, *e.Affiliation, err)
		}
		if known(a.logins[login]) {
			continue
		}
		a.logins[login] = periods
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail("%v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fail("data after the array")
	}
	return a, nil
}

// Len returns how many logins have an affiliation.
func (a *Affiliations) Len() int {
	if a == nil {
		return 0
	}
	return len(a.logins)
}

// known reports whether some period names an organization or independence.
func known(ps []affiliation) bool {
	for _, p := range ps {
		if p.kind != OrgUnaffiliated {
			return true
		}
	}
	return false
}

// parseAffiliation parses one "affiliation" value; nil means unknown throughout.
func parseAffiliation(s string) ([]affiliation, error) {
	if kindOf(strings.TrimSpace(s)) == OrgUnaffiliated {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]affiliation, 0, len(parts))
	var prev time.Time
	for i, part := range parts {
		org, date, dated := strings.Cut(part, "<")
		org = strings.TrimSpace(org)
		if org == "" {
			return nil, fmt.Errorf("organization %d is empty", i+1)
		}
		p := affiliation{kind: kindOf(org)}
		if p.kind == OrgOrganization {
			p.org = org
		}
		if dated {
			date = strings.TrimSpace(date)
			t, err := time.Parse(time.DateOnly, date)
			if err != nil {
				return nil, fmt.Errorf("bad date %q (want YYYY-MM-DD)", date)
			}
			if !prev.IsZero() && !t.After(prev) {
				return nil, fmt.Errorf("date %s is not after %s (oldest first)", date, prev.Format(time.DateOnly))
			}
			p.until, prev = t, t
		} else if i != len(parts)-1 {
			return nil, fmt.Errorf("%q has no end date (\"%s < YYYY-MM-DD\"); only the last organization may omit it", org, org)
		}
		out = append(out, p)
	}
	return out, nil
}

// kindOf classifies one organization name of an affiliation.
func kindOf(org string) string {
	switch strings.ToLower(org) {
	case "", "?", "-", "notfound", "unknown", "(unknown)":
		return OrgUnaffiliated
	case "independent", "self":
		return OrgIndependent
	}
	return OrgOrganization
}

// at returns the affiliation of login on day; an unlisted login is unaffiliated.
func (a *Affiliations) at(login string, day time.Time) affiliation {
	if a != nil {
		for _, p := range a.logins[strings.ToLower(login)] {
			if p.until.IsZero() || day.Before(p.until) {
				return p
			}
		}
	}
	return affiliation{kind: OrgUnaffiliated}
}

// changes reports whether login's affiliation changes between the days from and to.
func (a *Affiliations) changes(login string, from, to time.Time) bool {
	if a == nil {
		return false
	}
	for _, p := range a.logins[strings.ToLower(login)] {
		if !p.until.IsZero() && p.until.After(from) && !p.until.After(to) {
			return true
		}
	}
	return false
}
