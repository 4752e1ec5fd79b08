package report

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"

	"giveback.dev/services/report/metrics"
)

// paramError is a bad query-string parameter; the API answers 400 naming it.
type paramError struct {
	param string
	err   error
}

func (e *paramError) Error() string { return e.param + ": " + e.err.Error() }

func badParam(param, format string, args ...any) *paramError {
	return &paramError{param: param, err: fmt.Errorf(format, args...)}
}

// filterParams are the parameters every metric accepts.
var filterParams = []string{"from", "to", "team", "upstream"}

// checkParams refuses parameters other than the allowed ones, and repeated ones, so a typo
// (tema=core) is an error rather than a silently wider answer.
func checkParams(q url.Values, allowed ...string) error {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return badParam(k, "unknown parameter; this endpoint takes %v", allowed)
		}
		if len(q[k]) > 1 {
			return badParam(k, "given %d times; give it once", len(q[k]))
		}
	}
	return nil
}

// parseFilter reads from, to, team and upstream.
//
//	from      first day, YYYY-MM-DD, inclusive (UTC). Default: the first day of the month eleven
//	          months before to, so the default period is twelve calendar months.
//	to        last day, YYYY-MM-DD, inclusive (UTC). Default: today.
//	team      a team name as listed by /api/v1/teams; empty or absent for every team.
//	upstream  1 (upstream repositories only), 0 (internal only) or all. Default: def.
func parseFilter(q url.Values, now time.Time, def metrics.Upstream) (metrics.Filter, error) {
	var f metrics.Filter
	var err error
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	f.To = today
	if v := q.Get("to"); v != "" {
		if f.To, err = parseDay(v); err != nil {
			return f, &paramError{param: "to", err: err}
		}
	}
	f.From = time.Date(f.To.Year(), f.To.Month()-11, 1, 0, 0, 0, 0, time.UTC)
	if v := q.Get("from"); v != "" {
		if f.From, err = parseDay(v); err != nil {
			return f, &paramError{param: "from", err: err}
		}
	}
	f.Team = q.Get("team")
	f.Upstream = def
	if v := q.Get("upstream"); v != "" {
		if f.Upstream, err = metrics.ParseUpstream(v); err != nil {
			return f, &paramError{param: "upstream", err: err}
		}
	}
	if err := f.Validate(); err != nil {
		var fe *metrics.FieldError
		if errors.As(err, &fe) {
			return f, badParam(fe.Field, "%s", fe.Reason)
		}
		return f, err
	}
	return f, nil
}

func parseDay(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, fmt.Errorf("%q is not a date; use YYYY-MM-DD", s)
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		return t, fmt.Errorf("%q is out of range (1970–2200)", s)
	}
	return t, nil
}

// parseLimit reads a positive integer no larger than max; def when absent.
func parseLimit(q url.Values, name string, def, max int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, badParam(name, "%q must be a whole number from 1 to %d", v, max)
	}
	return n, nil
}
