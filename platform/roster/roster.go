// Package roster reads the company's roster: who works here, under which GitHub logins and
// e-mail addresses, in which team, from when to when, and who opted out. A person may have
// several rows with the same employee_id, one per period (a team move closes one row and opens
// the next), so a contribution is attributed to the team of its day.
package roster

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Header is the roster's CSV header, in this order.
var Header = []string{"employee_id", "name", "team", "github_logins", "emails", "start_date", "end_date", "opt_out"}

// Period is one row of the roster: a person in a team between two dates.
type Period struct {
	EmployeeID string
	Name       string
	Team       string
	Logins     []string // lower-case
	Emails     []string // lower-case
	Start      time.Time
	End        time.Time // zero: still employed
	OptOut     bool
	Line       int
}

// Contains reports whether t falls in the period: on or after Start, and before the day after End.
func (p *Period) Contains(t time.Time) bool {
	if t.Before(p.Start) {
		return false
	}
	return p.End.IsZero() || t.Before(p.End.AddDate(0, 0, 1))
}

// Roster is a loaded roster, indexed by login and e-mail.
type Roster struct {
	Periods []Period
	Digest  string // sha256 of the file
	byLogin map[string][]int
	byEmail map[string][]int
	optOut  map[string]bool // logins and e-mails of people who opted out
}

// Match is the attribution of one identity at one time.
type Match struct {
	EmployeeID string
	Team       string
}

// Load reads a roster file.
func Load(path string) (*Roster, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	defer f.Close()
	r, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("roster %s: %w", path, err)
	}
	return r, nil
}

// Parse reads a roster CSV. Every bad row is reported with its line and column; a roster with
// any bad row is refused whole, so a half-read roster never attributes anything.
func Parse(rd io.Reader) (*Roster, error) {
	h := sha256.New()
	cr := csv.NewReader(io.TeeReader(rd, h))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: header: %w", err)
	}
	for i, col := range head {
		col = strings.TrimSpace(strings.TrimPrefix(col, "\ufeff"))
		if i >= len(Header) || col != Header[i] {
			return nil, fmt.Errorf("line 1: header must be %s (column %d is %q)", strings.Join(Header, ","), i+1, col)
		}
	}
	if len(head) != len(Header) {
		return nil, fmt.Errorf("line 1: header must be %s", strings.Join(Header, ","))
	}
	r := &Roster{byLogin: map[string][]int{}, byEmail: map[string][]int{}, optOut: map[string]bool{}}
	var errs []error
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", line, err))
			continue
		}
		p, err := parseRow(rec)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", line, err))
			continue
		}
		p.Line = line
		r.Periods = append(r.Periods, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.SliceStable(r.Periods, func(i, j int) bool { return r.Periods[i].Start.Before(r.Periods[j].Start) })
	for i, p := range r.Periods {
		for _, l := range p.Logins {
			r.byLogin[l] = append(r.byLogin[l], i)
			if p.OptOut {
				r.optOut[l] = true
			}
		}
		for _, e := range p.Emails {
			r.byEmail[e] = append(r.byEmail[e], i)
			if p.OptOut {
				r.optOut[e] = true
			}
		}
	}
	r.Digest = hex.EncodeToString(h.Sum(nil))
	return r, nil
}

func parseRow(rec []string) (Period, error) {
	if len(rec) != len(Header) {
		return Period{}, fmt.Errorf("%d columns, want %d (%s)", len(rec), len(Header), strings.Join(Header, ","))
	}
	p := Period{
		EmployeeID: strings.TrimSpace(rec[0]),
		Name:       strings.TrimSpace(rec[1]),
		Team:       strings.TrimSpace(rec[2]),
		Logins:     splitList(rec[3]),
		Emails:     splitList(rec[4]),
	}
	if p.EmployeeID == "" {
		return p, errors.New("employee_id is empty")
	}
	if len(p.Logins) == 0 && len(p.Emails) == 0 {
		return p, errors.New("github_logins and emails are both empty: give at least one")
	}
	var err error
	if p.Start, err = parseDate(rec[5]); err != nil || p.Start.IsZero() {
		return p, fmt.Errorf("start_date %q: want YYYY-MM-DD", rec[5])
	}
	if p.End, err = parseDate(rec[6]); err != nil {
		return p, fmt.Errorf("end_date %q: want YYYY-MM-DD or empty", rec[6])
	}
	if !p.End.IsZero() && p.End.Before(p.Start) {
		return p, fmt.Errorf("end_date %s is before start_date %s", rec[6], rec[5])
	}
	switch strings.ToLower(strings.TrimSpace(rec[7])) {
	case "", "false", "no", "0":
	case "true", "yes", "1":
		p.OptOut = true
	default:
		return p, fmt.Errorf("opt_out %q: want true or false", rec[7])
	}
	return p, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		if part = strings.ToLower(strings.TrimSpace(part)); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

// ByLogin attributes a GitHub login at time t. ok is false when no period of the login covers t.
func (r *Roster) ByLogin(login string, t time.Time) (Match, bool) {
	return r.find(r.byLogin[strings.ToLower(login)], t)
}

// ByEmail attributes a commit e-mail at time t.
func (r *Roster) ByEmail(email string, t time.Time) (Match, bool) {
	return r.find(r.byEmail[strings.ToLower(email)], t)
}

func (r *Roster) find(idx []int, t time.Time) (Match, bool) {
	for _, i := range idx {
		p := &r.Periods[i]
		if p.Contains(t) {
			return Match{EmployeeID: p.EmployeeID, Team: p.Team}, true
		}
	}
	return Match{}, false
}

// OptedOut reports whether the login or e-mail belongs to someone who opted out. Their activity
// is never stored, whatever the date.
func (r *Roster) OptedOut(identity string) bool { return r.optOut[strings.ToLower(identity)] }

// Logins returns every login on the roster, opted-out ones included, sorted.
func (r *Roster) Logins() []string {
	out := make([]string, 0, len(r.byLogin))
	for l := range r.byLogin {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Teams returns the distinct teams, sorted.
func (r *Roster) Teams() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range r.Periods {
		if p.Team != "" && !seen[p.Team] {
			seen[p.Team] = true
			out = append(out, p.Team)
		}
	}
	sort.Strings(out)
	return out
}
