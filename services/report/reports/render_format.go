package reports

import (
	"math"
	"strconv"
	"strings"
	"time"

	"giveback.dev/services/report/chart"
)

// The formatting of numbers, shared by every format so a number reads the same in the mail, the
// PDF, the Markdown and the CSV appendix's "shown" column.

// count formats an integer with thousands separators: 12,345, as the charts' axes do.
func count(v int64) string { return chart.Thousands(v) }

// value formats a figure's value in its unit; "n/a" when it cannot be computed.
func value(v *float64, unit string) string {
	if v == nil || math.IsNaN(*v) {
		return "n/a"
	}
	switch unit {
	case UnitRatio:
		return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
	case UnitHours:
		return strconv.FormatFloat(*v, 'f', 1, 64) + " h"
	}
	if *v == math.Trunc(*v) && math.Abs(*v) < 1e15 {
		return count(int64(*v))
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// signed formats a change with its sign in the unit of the value: +12, -3.5 h, +4.0 pp (a
// ratio's change is in percentage points).
func signed(d *float64, unit string) string {
	if d == nil {
		return "n/a"
	}
	v := *d
	sign := "+"
	if v < 0 {
		sign, v = "-", -v
	}
	if v == 0 {
		sign = "±"
	}
	switch unit {
	case UnitRatio:
		return sign + strconv.FormatFloat(v*100, 'f', 1, 64) + " pp"
	case UnitHours:
		return sign + strconv.FormatFloat(v, 'f', 1, 64) + " h"
	}
	return sign + value(&v, unit)
}

// percent formats a relative change: +8.3%.
func percent(p *float64) string {
	if p == nil {
		return "n/a"
	}
	if *p >= 0 {
		return "+" + strconv.FormatFloat(*p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64) + "%"
}

// money formats an amount with its currency: 12,400 EUR.
func money(v float64, currency string) string {
	s := count(int64(math.Round(v)))
	if currency != "" {
		s += " " + currency
	}
	return s
}

// change formats a figure's change against the previous period: "+12 (+8.3%)".
func change(f Figure) string {
	if f.Delta == nil {
		return "n/a"
	}
	s := signed(f.Delta, f.Unit)
	if f.DeltaPct != nil && f.Unit == UnitCount {
		s += " (" + percent(f.DeltaPct) + ")"
	}
	return s
}

// status formats a figure against its target: "met, +20", "not met, -40", or "" without target.
func status(f Figure) string {
	if f.Target == nil {
		return ""
	}
	if f.Met == nil {
		return "unknown"
	}
	if *f.Met {
		return "met (" + signed(f.Gap, f.Unit) + ")"
	}
	return "not met (" + signed(f.Gap, f.Unit) + ")"
}

// when formats an instant in the report's time zone, or "unknown" for the zero time.
func when(t time.Time, tz string) string {
	if t.IsZero() {
		return "unknown"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// longDate formats a YYYY-MM-DD day as 1 Oct 2026.
func longDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("2 Jan 2006")
}

// periodText names a period in words: "1 Oct 2026 – 31 Oct 2026".
func periodText(p PeriodInfo) string {
	return longDate(p.From) + " – " + longDate(p.To)
}

// plural returns "1 project" or "3 projects".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return count(n) + " " + many
}

// listWords joins words as "a, b and c".
func listWords(ws []string) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

// FormatValue formats a number in its unit as every format of a report shows it: 1,234, 66.7%,
// 10.0 h, or n/a for nil.
func FormatValue(v *float64, unit string) string { return value(v, unit) }

// FormatChange formats a figure's change against the previous period as reports show it.
func FormatChange(f Figure) string { return change(f) }

// FormatStatus formats a figure against its target ("met (+20)", "not met (-1)"); "" without a
// target.
func FormatStatus(f Figure) string { return status(f) }
