package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"giveback.dev/platform/config"
)

type cronSchedule = cron.Schedule

// PeriodFor returns the period a report of the given kind covers when it is due at the instant
// due: the calendar week (Monday to Sunday), month, quarter or year before the one holding due,
// or the N whole days before due's day, with every boundary at midnight in loc. Across a
// daylight-saving change a day is 23 or 25 hours long, as the calendar has it.
func PeriodFor(kind string, due time.Time, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	t := due.In(loc)
	y, m, d := t.Date()
	var from, to time.Time
	var label string
	switch kind {
	case PeriodPreviousWeek:
		monday := time.Date(y, m, d-(int(t.Weekday())+6)%7, 0, 0, 0, 0, loc)
		to, from = monday, time.Date(y, m, d-(int(t.Weekday())+6)%7-7, 0, 0, 0, 0, loc)
		wy, w := from.ISOWeek()
		label = fmt.Sprintf("%d-W%02d", wy, w)
	case PeriodPreviousMonth:
		to = time.Date(y, m, 1, 0, 0, 0, 0, loc)
		from = time.Date(y, m-1, 1, 0, 0, 0, 0, loc)
		label = from.Format("2006-01")
	case PeriodPreviousQuarter:
		q := (int(m) - 1) / 3
		to = time.Date(y, time.Month(q*3+1), 1, 0, 0, 0, 0, loc)
		from = time.Date(y, time.Month(q*3-2), 1, 0, 0, 0, 0, loc)
		label = fmt.Sprintf("%d-Q%d", from.Year(), (int(from.Month())-1)/3+1)
	case PeriodPreviousYear:
		to = time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		from = time.Date(y-1, 1, 1, 0, 0, 0, 0, loc)
		label = strconv.Itoa(y - 1)
	default:
		n, ok := config.TrailingDays(kind)
		if !ok {
			return Period{}, fmt.Errorf("period %q must be previous_week, previous_month, previous_quarter, previous_year or trailing_Nd", kind)
		}
		to = time.Date(y, m, d, 0, 0, 0, 0, loc)
		from = time.Date(y, m, d-n, 0, 0, 0, 0, loc)
		label = from.Format(time.DateOnly) + ".." + time.Date(y, m, d-1, 0, 0, 0, 0, loc).Format(time.DateOnly)
	}
	return Period{From: from, To: to, Label: label, TZ: loc}, nil
}

// ParsePeriod reads the label of a period of the given kind, as PeriodFor writes it (2026-10,
// 2026-W42, 2026-Q3, 2026, or 2026-10-01..2026-10-30), and returns that period in loc. A
// month, quarter or year label is also accepted for any kind whose unit it is not, as the span
// it names: `giveback reports run monthly --period 2026-Q3` covers the quarter.
func ParsePeriod(kind, label string, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	bad := fmt.Errorf("period %q must be a month (2026-10), an ISO week (2026-W42), a quarter (2026-Q3), a year (2026) or days (2026-10-01..2026-10-30)", label)
	var from, to time.Time
	switch {
	case strings.Contains(label, ".."):
		a, b, _ := strings.Cut(label, "..")
		f, err1 := time.ParseInLocation(time.DateOnly, a, loc)
		l, err2 := time.ParseInLocation(time.DateOnly, b, loc)
		if err1 != nil || err2 != nil || l.Before(f) || l.Sub(f) > 366*24*time.Hour*20 {
			return Period{}, bad
		}
		from, to = f, time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
	case strings.Contains(label, "-W"):
		a, b, _ := strings.Cut(label, "-W")
		y, err1 := strconv.Atoi(a)
		w, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || y < 1970 || y > 9999 || w < 1 || w > 53 {
			return Period{}, bad
		}
		// The Monday of ISO week 1 is the Monday of the week holding 4 January.
		jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, loc)
		from = time.Date(y, 1, 4-(int(jan4.Weekday())+6)%7+7*(w-1), 0, 0, 0, 0, loc)
		if wy, ww := from.ISOWeek(); wy != y || ww != w {
			return Period{}, bad
		}
		to = time.Date(from.Year(), from.Month(), from.Day()+7, 0, 0, 0, 0, loc)
	case strings.Contains(label, "-Q"):
		a, b, _ := strings.Cut(label, "-Q")
		y, err1 := strconv.Atoi(a)
		q, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || y < 1970 || y > 9999 || q < 1 || q > 4 {
			return Period{}, bad
		}
		from = time.Date(y, time.Month(3*q-2), 1, 0, 0, 0, 0, loc)
		to = from.AddDate(0, 3, 0)
	case len(label) == 7:
		f, err := time.ParseInLocation("2006-01", label, loc)
		if err != nil {
			return Period{}, bad
		}
		from, to = f, f.AddDate(0, 1, 0)
	case len(label) == 4:
		y, err := strconv.Atoi(label)
		if err != nil || y < 1970 {
			return Period{}, bad
		}
		from = time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		to = from.AddDate(1, 0, 0)
	default:
		return Period{}, bad
	}
	if from.Year() < 1970 || to.Year() > 9999 {
		return Period{}, bad
	}
	return Period{From: from, To: to, Label: label, TZ: loc}, nil
}

// lookbacks are the windows LastDue searches, shortest first, so that a schedule of every
// minute and one of every year are both found in a few steps.
var lookbacks = []time.Duration{2 * time.Hour, 26 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour,
	93 * 24 * time.Hour, 367 * 24 * time.Hour, 4 * 367 * 24 * time.Hour}

// LastDue returns the latest instant at or before now at which the schedule fires, or the zero
// time when it has not fired in the last four years. When the clocks go back, cron/v3 fires a
// second time in the repeated hour (01:30 EDT, then 01:30 EST); that second activation, with
// the same wall-clock time as the one before, is not a new due time.
func LastDue(s cron.Schedule, now time.Time) time.Time {
	loc := time.UTC
	if ss, ok := s.(*cron.SpecSchedule); ok && ss.Location != nil {
		loc = ss.Location
	}
	for _, back := range lookbacks {
		var last time.Time
		// cron/v3 answers the first activation strictly after its argument.
		for t := s.Next(now.Add(-back)); !t.IsZero() && !t.After(now); t = s.Next(t) {
			if !last.IsZero() && t.In(loc).Format(time.DateTime) == last.In(loc).Format(time.DateTime) {
				continue
			}
			last = t
		}
		if !last.IsZero() {
			// The window may start between the two activations of a repeated hour.
			if first := s.Next(last.Add(-61 * time.Minute)); first.Before(last) && first.In(loc).Format(time.DateTime) == last.In(loc).Format(time.DateTime) {
				return first
			}
			return last
		}
	}
	return time.Time{}
}

// NextRuns returns the next n instants the definition's schedule fires after from, in the
// report's time zone.
func (d Definition) NextRuns(from time.Time, n int) ([]time.Time, error) {
	s, loc, err := d.schedule()
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, 0, n)
	for t := from; len(out) < n; {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t.In(loc))
	}
	return out, nil
}

// LastDue returns the latest instant at or before now at which the definition's schedule fires
// (LastDue), zero when none in four years or when the schedule does not parse.
func (d Definition) LastDue(now time.Time) time.Time {
	s, _, err := d.schedule()
	if err != nil {
		return time.Time{}
	}
	return LastDue(s, now)
}

// Location returns the report's time zone (the schedule's CRON_TZ, else UTC).
func (d Definition) Location() *time.Location {
	if _, loc, err := d.schedule(); err == nil {
		return loc
	}
	return time.UTC
}
