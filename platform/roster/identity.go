package roster

import (
	"fmt"
	"sort"
	"strings"
)

// noreplyDomain is the domain of GitHub's private commit e-mail addresses.
const noreplyDomain = "@users.noreply.github.com"

// LoginFromNoreply returns the GitHub login of a noreply commit e-mail, ID+login@ or login@
// users.noreply.github.com, as the address spells it (logins compare case-insensitively). ok is
// false for any other address.
func LoginFromNoreply(email string) (string, bool) {
	e := strings.TrimSpace(email)
	if len(e) <= len(noreplyDomain) || !strings.EqualFold(e[len(e)-len(noreplyDomain):], noreplyDomain) {
		return "", false
	}
	local := e[:len(e)-len(noreplyDomain)]
	if id, login, plus := strings.Cut(local, "+"); plus {
		if id == "" || strings.Trim(id, "0123456789") != "" {
			return "", false
		}
		local = login
	}
	if local == "" || strings.ContainsAny(local, "@+ ") {
		return "", false
	}
	return local, true
}

// Changed returns the logins and e-mails (lower-cased, sorted) whose attribution differs between
// two rosters: added, removed, or with other periods, employee, team or opt-out. A nil old
// roster is empty: every identity of cur is new.
func Changed(old, cur *Roster) []string {
	before, after := old.signatures(), cur.signatures()
	var out []string
	for id, sig := range after {
		if before[id] != sig {
			out = append(out, id)
		}
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Identities returns every login and e-mail on the roster, sorted.
func (r *Roster) Identities() []string {
	out := make([]string, 0, len(r.byLogin)+len(r.byEmail))
	for l := range r.byLogin {
		out = append(out, l)
	}
	for e := range r.byEmail {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// signatures renders, per identity, everything that decides its attribution.
func (r *Roster) signatures() map[string]string {
	out := map[string]string{}
	if r == nil {
		return out
	}
	sig := func(idx []int) string {
		parts := make([]string, 0, len(idx))
		for _, i := range idx {
			p := &r.Periods[i]
			parts = append(parts, fmt.Sprintf("%s|%s|%s|%s|%t", p.EmployeeID, p.Team, p.Start.Format("2006-01-02"), p.End.Format("2006-01-02"), p.OptOut))
		}
		sort.Strings(parts)
		return strings.Join(parts, ";")
	}
	for l, idx := range r.byLogin {
		out[l] = sig(idx) + "|opt=" + fmt.Sprint(r.optOut[l])
	}
	for e, idx := range r.byEmail {
		out[e] = sig(idx) + "|opt=" + fmt.Sprint(r.optOut[e])
	}
	return out
}
