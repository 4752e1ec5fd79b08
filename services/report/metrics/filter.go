package metrics

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"giveback.dev/platform/store"
)

// Upstream selects contributions by where they went.
type Upstream string

// The values of Upstream, as written in the query string.
const (
	UpstreamAll      Upstream = "all" // every contribution
	UpstreamOnly     Upstream = "1"   // contributions to third-party repositories (is_upstream = 1)
	UpstreamInternal Upstream = "0"   // everything else: the company's, personal and fork repositories
)

// ParseUpstream reads 1, 0 or all (also true/false, yes/no); "" is all.
func ParseUpstream(s string) (Upstream, error) {
	switch strings.ToLower(s) {
	case "", "all":
		return UpstreamAll, nil
	case "1", "true", "yes":
		return UpstreamOnly, nil
	case "0", "false", "no":
		return UpstreamInternal, nil
	}
	return "", fmt.Errorf("%q must be 1, 0 or all", s)
}

// MaxSpan is the longest period a filter may cover.
const MaxSpan = 20 * 366 * 24 * time.Hour

// MaxTeamLen is the longest team name a filter accepts.
const MaxTeamLen = 200

// Filter selects the contributions a metric counts. Days are UTC; both ends are inclusive: From
// 2025-01-01 and To 2025-03-31 is the first quarter.
type Filter struct {
	From     time.Time // first day, midnight UTC
	To       time.Time // last day, midnight UTC
	Team     string    // "" for every team
	Upstream Upstream
	Repo     string // one repository, owner/name compared case-insensitively; "" for every one
}

// Validate checks the filter and returns an error naming the bad field as in the query string.
func (f Filter) Validate() error {
	if f.From.IsZero() || f.To.IsZero() {
		return &FieldError{Field: "from", Reason: "the period needs a start and an end"}
	}
	if f.To.Before(f.From) {
		return &FieldError{Field: "to", Reason: fmt.Sprintf("%s is before from %s", day(f.To), day(f.From))}
	}
	if f.To.Sub(f.From) > MaxSpan {
		return &FieldError{Field: "from", Reason: "the period may span 20 years at most"}
	}
	if len(f.Team) > MaxTeamLen {
		return &FieldError{Field: "team", Reason: fmt.Sprintf("longer than %d bytes", MaxTeamLen)}
	}
	for _, r := range f.Team {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return &FieldError{Field: "team", Reason: "contains a control character or invalid UTF-8"}
		}
	}
	if f.Repo != "" {
		owner, name, ok := strings.Cut(f.Repo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") || len(f.Repo) > MaxTeamLen ||
			strings.IndexFunc(f.Repo, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) || r == unicode.ReplacementChar }) >= 0 {
			return &FieldError{Field: "repo", Reason: fmt.Sprintf("%q is not a repository; use owner/name", f.Repo)}
		}
	}
	switch f.Upstream {
	case UpstreamAll, UpstreamOnly, UpstreamInternal:
	default:
		return &FieldError{Field: "upstream", Reason: fmt.Sprintf("%q must be 1, 0 or all", f.Upstream)}
	}
	return nil
}

// FieldError is an invalid filter field.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// end is the first instant after the period.
func (f Filter) end() time.Time { return f.To.AddDate(0, 0, 1) }

// CalendarMonth reports whether the period is one whole calendar month.
func (f Filter) CalendarMonth() bool {
	return f.From.Day() == 1 && f.end().Equal(f.From.AddDate(0, 1, 0))
}

// Months returns the first day of every month the period touches, in order.
func (f Filter) Months() []time.Time {
	var out []time.Time
	m := time.Date(f.From.Year(), f.From.Month(), 1, 0, 0, 0, 0, time.UTC)
	for !m.After(f.To) {
		out = append(out, m)
		m = m.AddDate(0, 1, 0)
	}
	return out
}

// bind fills a statement's placeholders from the filter: {from} and {to} (the period as
// [from, to) DateTime64 literals), {filter} (the team, repository and upstream conditions, each starting with
// AND, or nothing) and {limit}. Every value is produced here from validated data: dates are
// formatted by Go and the team and repository are quoted literals, so nothing from a request reaches the SQL as
// text of its own.
func (f Filter) bind(sql string, limit int) string {
	var cond strings.Builder
	// Giving is what the company's people did: rows of people not on the roster (outside
	// contributors in the company's repositories) are kept in the table but never counted here.
	cond.WriteString(" AND employee_id != ''")
	if f.Team != "" {
		cond.WriteString(" AND team = " + store.Quote(f.Team))
	}
	if f.Repo != "" {
		cond.WriteString(" AND lower(repo) = " + store.Quote(strings.ToLower(f.Repo)))
	}
	switch f.Upstream {
	case UpstreamOnly:
		cond.WriteString(" AND is_upstream = 1")
	case UpstreamInternal:
		cond.WriteString(" AND is_upstream = 0")
	}
	return strings.NewReplacer(
		"{from}", ts(f.From),
		"{to}", ts(f.end()),
		"{filter}", cond.String(),
		"{limit}", fmt.Sprint(limit),
	).Replace(sql)
}

func ts(t time.Time) string {
	return "toDateTime64(" + store.Quote(t.UTC().Format("2006-01-02 15:04:05")) + ", 3, 'UTC')"
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// monthSpan returns the period from the first of the filters to the last, and whether one
// statement over it can answer for each of them: every one is whole calendar months (it starts
// on the first of a month and ends on the last day of one), and they differ in the period alone.
func monthSpan(fs []Filter) (Filter, bool) {
	if len(fs) == 0 {
		return Filter{}, false
	}
	span := fs[0]
	for _, f := range fs {
		same := f
		same.From, same.To = span.From, span.To
		if same != span || f.From.Day() != 1 || f.end().Day() != 1 {
			return span, false
		}
		if f.From.Before(span.From) {
			span.From = f.From
		}
		if f.To.After(span.To) {
			span.To = f.To
		}
	}
	return span, true
}

// eachPeriod runs the named statement for each filter and hands use the filter's rows, as the
// statement gives them for that filter alone. The statement is one of those that tell, per
// month, whether someone's first contribution falls in the period: column 1 the month, column 3
// is_new (the first contribution not before the period's first instant), column 4 the month of
// that first contribution. When the filters are whole calendar months that differ in the period
// alone (monthSpan), one statement over their span answers for all: a filter's rows are the
// span's rows of its months, and is_new against its first day is whether the first month is
// not before its first month. The first contribution is the same for every period it is looked
// for from, being looked for before the span's end and in a month of the period. Otherwise
// each filter has its own statement.
func eachPeriod(ctx context.Context, q Querier, name string, fs []Filter, use func(i int, f Filter, rows [][]any)) error {
	span, whole := monthSpan(fs)
	if !whole || len(fs) == 1 {
		for i, f := range fs {
			res, err := run(ctx, q, name, f, 0)
			if err != nil {
				return err
			}
			use(i, f, res.Rows)
		}
		return nil
	}
	res, err := run(ctx, q, name, span, 0)
	if err != nil {
		return err
	}
	for i, f := range fs {
		from, to := f.From.Format("2006-01"), f.To.Format("2006-01")
		var rows [][]any
		for _, r := range res.Rows {
			if m := month(r[1]); m >= from && m <= to {
				isNew := int64(0)
				if month(r[4]) >= from {
					isNew = 1
				}
				rows = append(rows, []any{r[0], r[1], r[2], isNew, r[4]})
			}
		}
		use(i, f, rows)
	}
	return nil
}
