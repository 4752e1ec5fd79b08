// Package web renders the report pages: server-side HTML with inline CSS and server-drawn SVG
// charts, embedded in the binary, in one layout (navigation, filter bar, time of the newest
// data). A page reaches nothing outside itself (no script, font or CDN), so it works on a closed
// network, under a script-free Content-Security-Policy and as a saved file.
package web

import (
	_ "embed"
	"strconv"
	"time"

	"giveback.dev/services/report/metrics"
)

//go:embed assets/style.css
var styleCSS string

// KindNames are the display names of the contribution kinds.
var KindNames = map[string]string{
	"pull_request": "Pull requests opened", "review": "Reviews", "merge": "Merges of others' PRs", "issue": "Issues opened",
	"comment": "Comments", "commit": "Commits", "release": "Releases",
}

// hours shows a median duration in hours, in days from two days on; "—" when there is none.
func hours(h *float64) string {
	switch {
	case h == nil:
		return "—"
	case *h >= 48:
		return strconv.FormatFloat(*h/24, 'f', 1, 64) + " d"
	default:
		return strconv.FormatFloat(*h, 'f', 1, 64) + " h"
	}
}

// percent shows a share as a whole percentage; "—" when there is none.
func percent(r *float64) string {
	if r == nil {
		return "—"
	}
	return strconv.FormatFloat(*r*100, 'f', 0, 64) + "%"
}

func periodText(p metrics.Period) string {
	from, err1 := time.Parse(time.DateOnly, p.From)
	to, err2 := time.Parse(time.DateOnly, p.To)
	if err1 != nil || err2 != nil {
		return p.From + " – " + p.To
	}
	return from.Format("2 Jan 2006") + " – " + to.Format("2 Jan 2006")
}

// monthLabel turns "2025-01" into "Jan 25".
func monthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 06")
}

// count formats an integer with thousands separators: 12,345.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ","...)
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
