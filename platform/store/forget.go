package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Person names one person by every identity they have. Build it with NewPerson, which
// lower-cases logins and e-mails and drops empty values: an empty identity would match every
// row without one.
type Person struct {
	Logins      []string // GitHub logins, lower-cased
	Emails      []string // e-mails, lower-cased
	EmployeeIDs []string // roster employee ids, as the roster spells them
}

// noreplyDomain is the domain of GitHub's private commit e-mail addresses.
const noreplyDomain = "@users.noreply.github.com"

// NewPerson returns the person with the given identities, lower-cased (employee ids kept as
// they are), without empty values or repeats, sorted.
func NewPerson(logins, emails, employeeIDs []string) Person {
	return Person{Logins: identitySet(logins, true), Emails: identitySet(emails, true), EmployeeIDs: identitySet(employeeIDs, false)}
}

func identitySet(in []string, lower bool) []string {
	set := map[string]bool{}
	for _, v := range in {
		v = strings.TrimSpace(v)
		if lower {
			v = strings.ToLower(v)
		}
		if v != "" {
			set[v] = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Empty reports whether the person has no identity at all.
func (p Person) Empty() bool { return len(p.Logins)+len(p.Emails)+len(p.EmployeeIDs) == 0 }

// addresses returns the person's e-mails and the noreply address of each login
// (login@users.noreply.github.com; GitHub may prefix it with a numeric id and a plus).
func (p Person) addresses() []string {
	out := append([]string(nil), p.Emails...)
	for _, l := range p.Logins {
		out = append(out, l+noreplyDomain)
	}
	return out
}

// Mentions reports whether a JSON document names the person: a string (value or key) that is
// one of the logins, whatever its case, or a string that holds one of the e-mails or a noreply
// address of a login as a whole address ("Ann <ann@example.com>" does, "joann@example.com"
// does not). A login is only ever matched as a whole string, so a one-letter login matches
// nothing but itself. A document that is not JSON is searched as text (MentionsText).
func (p Person) Mentions(doc []byte) bool {
	if p.Empty() || !p.mayMention(doc) {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	found := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return found
		}
		if err != nil {
			return found || p.MentionsText(string(doc))
		}
		if s, ok := tok.(string); ok && !found && p.namedBy(s) {
			found = true // read on: a document broken further on is searched as text too
		}
	}
}

// mayMention reports whether a document holds one of the identities anywhere, in any case,
// or a JSON escape (\u…) that may hide one: a document without either cannot mention the
// person, and most do not, so this spares them the decoding. An identity JSON would escape
// (no login or e-mail has such characters) is always looked for by decoding.
func (p Person) mayMention(doc []byte) bool {
	if bytes.Contains(doc, []byte(`\u`)) {
		return true
	}
	lower := bytes.ToLower(doc)
	for _, v := range append(append([]string(nil), p.Logins...), p.Emails...) {
		if bytes.Contains(lower, []byte(v)) || strings.IndexFunc(v, escaped) >= 0 {
			return true
		}
	}
	return false
}

// escaped reports whether JSON writes r escaped.
func escaped(r rune) bool {
	return r < 0x20 || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// namedBy reports whether one JSON string names the person.
func (p Person) namedBy(s string) bool {
	l := strings.ToLower(s)
	for _, login := range p.Logins {
		if l == login {
			return true
		}
	}
	if !strings.Contains(l, "@") {
		return false
	}
	for _, a := range p.addresses() {
		if containsAddress(l, a) {
			return true
		}
	}
	return false
}

// MentionsText reports whether a text (a request URL, a message id) names the person: one of
// the logins as a word of its own (between characters that cannot be in a login), or one of the
// e-mails as a whole address. Percent-encoding is undone first.
func (p Person) MentionsText(text string) bool {
	if p.Empty() {
		return false
	}
	l := strings.ToLower(text)
	if u, err := url.QueryUnescape(l); err == nil {
		l = u
	}
	for _, login := range p.Logins {
		for i := 0; ; {
			j := strings.Index(l[i:], login)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(login)
			if (start == 0 || !loginChar(l[start-1])) && (end == len(l) || !loginChar(l[end])) {
				return true
			}
			i = start + 1
		}
	}
	for _, a := range p.addresses() {
		if containsAddress(l, a) {
			return true
		}
	}
	return false
}

func loginChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func addressChar(c byte) bool {
	return loginChar(c) || c == '.' || c == '+' || c == '%' || c == '@'
}

// containsAddress reports whether lower-cased text holds the address a as a whole: not preceded
// by a character of an address (except the + of a noreply id prefix) nor followed by one (a
// full stop that ends a sentence is fine).
func containsAddress(text, a string) bool {
	noreply := strings.HasSuffix(a, noreplyDomain)
	for i := 0; ; {
		j := strings.Index(text[i:], a)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(a)
		before := start == 0 || !addressChar(text[start-1]) || (noreply && text[start-1] == '+')
		after := end == len(text) || !addressChar(text[end]) || (text[end] == '.' && (end+1 == len(text) || !addressChar(text[end+1])))
		if before && after {
			return true
		}
		i = start + 1
	}
}

// Tables Forget removes rows from, in the order it does.
var forgetTables = []string{"raw_events", "contributions", "project_activity", "unmatched_identities", "report_runs"}

// forgetPage is how many candidate raw records Forget reads at a time.
const forgetPage = 2000

// Forget removes the person from every table that holds people: their contributions (by login,
// author e-mail or a noreply address of a login, or employee id), the raw records that mention
// them (Mentions on the payload and meta, MentionsText on the origin), their project activity
// their unmatched identities, and the archived executive reports whose numbers name them (a
// report shows people only where its definition allows; such a run is removed whole, and a
// forced re-run of its period renders it again without them). It returns how many rows it removed per table, counted before
// the removal; the rollups of the months that held their contributions are then rebuilt without
// them. Statements that change data carry salted hashes of the identities, never the
// identities, so the mutation log (system.mutations) and any query log keep none; the one read
// that must name them (finding candidate raw records) runs with log_queries = 0.
func (s *Store) Forget(ctx context.Context, p Person) (map[string]int64, error) {
	removed := map[string]int64{}
	if p.Empty() {
		return removed, errors.New("store: forget: the person has no login, e-mail or employee id")
	}
	h, err := newHasher()
	if err != nil {
		return removed, err
	}
	logins := p.Logins
	addrs := p.addresses()
	conds := map[string][]string{
		"contributions": {
			h.in("lower(actor_login)", logins),
			h.in(`replaceRegexpOne(lower(author_email), '^[0-9]+\\+', '')`, addrs),
			h.in("employee_id", p.EmployeeIDs),
		},
		"project_activity":     {h.in("lower(actor)", logins)},
		"unmatched_identities": {h.in(`replaceRegexpOne(identity, '^[0-9]+\\+', '')`, append(append([]string(nil), logins...), addrs...))},
	}
	keys, err := s.rawMentioning(ctx, p)
	if err != nil {
		return removed, err
	}
	var rawConds []string
	for chunk := range slices.Chunk(keys, storedLookupChunk) {
		rawConds = append(rawConds, h.in("concat(source, ':', id)", chunk))
	}
	conds["raw_events"] = rawConds
	runs, err := s.reportRunsMentioning(ctx, p)
	if err != nil {
		return removed, err
	}
	conds["report_runs"] = runs
	for _, table := range forgetTables {
		for _, cond := range conds[table] {
			if cond == "" {
				continue
			}
			res, err := s.conn.Query(ctx, "SELECT count() FROM "+table+" WHERE "+cond, nil)
			if err != nil {
				return removed, fmt.Errorf("store: forget: count %s: %w", table, err)
			}
			n := AsInt(res.Rows[0][0])
			if n == 0 {
				continue
			}
			if err := s.mutate(ctx, "ALTER TABLE "+table+" DELETE WHERE "+cond); err != nil {
				return removed, fmt.Errorf("store: forget: delete from %s: %w", table, err)
			}
			removed[table] += n
		}
	}
	if removed["contributions"] > 0 {
		// The rollups of the months the person's rows were in are out of date (no metric reads
		// them any more) but still hold the person (employee ids, logins): rebuild them.
		if _, err := s.RefreshRollups(ctx); err != nil {
			return removed, fmt.Errorf("store: forget: rebuild the rollups: %w", err)
		}
	}
	return removed, nil
}

// reportRunsMentioning returns the conditions that select the archived report runs whose
// numbers name the person: a coarse search finds the candidates, Mentions decides. A run is
// named by its report, period and generation time, none of which identifies the person.
func (s *Store) reportRunsMentioning(ctx context.Context, p Person) ([]string, error) {
	var needles []string
	for _, l := range p.Logins {
		needles = append(needles, `"`+l+`"`, "/"+l)
	}
	needles = append(needles, p.addresses()...)
	if len(needles) == 0 {
		return nil, nil
	}
	var conds []string
	for _, list := range needleLists(needles) {
		conds = append(conds, "multiSearchAnyCaseInsensitive(numbers, "+list+")")
	}
	res, err := s.conn.Query(ctx, "SELECT name, period, toString(generated_at), numbers FROM report_runs WHERE "+strings.Join(conds, " OR "), Settings{"log_queries": 0})
	if err != nil {
		return nil, fmt.Errorf("store: forget: find archived reports: %w", err)
	}
	var keys []string
	for _, r := range res.Rows {
		if p.Mentions([]byte(AsString(r[3]))) {
			keys = append(keys, "("+Quote(AsString(r[0]))+", "+Quote(AsString(r[1]))+", "+Quote(AsString(r[2]))+")")
		}
	}
	var out []string
	for chunk := range slices.Chunk(keys, storedLookupChunk) {
		out = append(out, "(name, period, toString(generated_at)) IN ("+strings.Join(chunk, ", ")+")")
	}
	return out, nil
}

// rawMentioning returns the keys (source:id) of the raw records that mention the person. A
// coarse search in ClickHouse finds the candidates (a login in quotes, an address anywhere);
// Mentions and MentionsText decide.
func (s *Store) rawMentioning(ctx context.Context, p Person) ([]string, error) {
	var needles []string
	for _, l := range p.Logins {
		needles = append(needles, `"`+l+`"`, "/"+l, ":"+l, "="+l)
	}
	needles = append(needles, p.addresses()...)
	if len(needles) == 0 {
		return nil, nil
	}
	var conds []string
	for _, list := range needleLists(needles) {
		conds = append(conds, "multiSearchAnyCaseInsensitive(payload, "+list+")", "multiSearchAnyCaseInsensitive(meta, "+list+")",
			"multiSearchAnyCaseInsensitive(decodeURLComponent(origin), "+list+")")
	}
	var keys []string
	after := RawKey{}
	for {
		q := "SELECT DISTINCT source, id, payload, meta, origin FROM raw_events WHERE (" + strings.Join(conds, " OR ") + ")" +
			" AND (source, id) > (" + Quote(after.Source) + ", " + Quote(after.ID) + ")" +
			" ORDER BY source, id LIMIT " + strconv.Itoa(forgetPage)
		res, err := s.conn.Query(ctx, q, Settings{"log_queries": 0})
		if err != nil {
			return nil, fmt.Errorf("store: forget: find raw records: %w", err)
		}
		for _, r := range res.Rows {
			payload, meta, origin := AsString(r[2]), AsString(r[3]), AsString(r[4])
			if p.Mentions([]byte(payload)) || (meta != "" && p.Mentions([]byte(meta))) || p.MentionsText(origin) {
				keys = append(keys, AsString(r[0])+":"+AsString(r[1]))
			}
		}
		if len(res.Rows) < forgetPage {
			return dedupe(keys), nil
		}
		last := res.Rows[len(res.Rows)-1]
		after = RawKey{Source: AsString(last[0]), ID: AsString(last[1])}
	}
}

func dedupe(ss []string) []string {
	sort.Strings(ss)
	out := ss[:0]
	for i, v := range ss {
		if i == 0 || v != ss[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// hasher writes conditions that compare a column with values through a salted SHA-256, so the
// statement carries no value. The salt is random per Forget and never kept.
type hasher struct{ salt string }

func newHasher() (hasher, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return hasher{}, fmt.Errorf("store: forget: salt: %w", err)
	}
	return hasher{salt: hex.EncodeToString(b)}, nil
}

// in returns "hex(SHA256(concat(salt, expr))) IN (…)" for the values, or "" when there are none.
func (h hasher) in(expr string, values []string) string {
	if len(values) == 0 {
		return ""
	}
	q := make([]string, len(values))
	for i, v := range values {
		sum := sha256.Sum256([]byte(h.salt + v))
		q[i] = "'" + strings.ToUpper(hex.EncodeToString(sum[:])) + "'"
	}
	return "hex(SHA256(concat(" + Quote(h.salt) + ", " + expr + "))) IN (" + strings.Join(q, ", ") + ")"
}

// ForgetAudit is one row of forget_audit: who ran a forget and what it removed, never whom.
type ForgetAudit struct {
	RequestID  string
	At         time.Time
	Actor      string           // the OS user or token name that ran it
	NamedBy    string           // login, email, employee_id
	OnRoster   bool             // the roster knew the person
	Identities int              // logins and e-mails forgotten
	Removed    map[string]int64 // per place: clickhouse.<table>, stream.<name>, kv.<bucket>
	Error      string           // empty when it finished
}

// RecordForget writes one row of forget_audit.
func (s *Store) RecordForget(ctx context.Context, a ForgetAudit) error {
	places := make([]string, 0, len(a.Removed))
	for k := range a.Removed {
		places = append(places, k)
	}
	sort.Strings(places)
	m := make([]string, len(places))
	for i, k := range places {
		m[i] = Quote(k) + ", " + strconv.FormatInt(max(a.Removed[k], 0), 10)
	}
	onRoster := 0
	if a.OnRoster {
		onRoster = 1
	}
	q := "INSERT INTO forget_audit (request_id, at, actor, named_by, on_roster, identities, removed, error) VALUES (" +
		Quote(a.RequestID) + ", " + Quote(a.At.UTC().Format(timeLayout)) + ", " + Quote(a.Actor) + ", " + Quote(a.NamedBy) + ", " +
		strconv.Itoa(onRoster) + ", " + strconv.Itoa(a.Identities) + ", map(" + strings.Join(m, ", ") + "), " + Quote(a.Error) + ")"
	if err := s.conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("store: record forget: %w", err)
	}
	return nil
}
