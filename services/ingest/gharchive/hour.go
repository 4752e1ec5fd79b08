// Package gharchive reads GH Archive hourly dumps (https://www.gharchive.org/): one gzip file of
// newline-delimited JSON events per hour, named YYYY-MM-DD-H.json.gz with the hour not padded,
// from a local directory or an HTTP(S) mirror. Each event becomes one events.Raw with its line
// unchanged as the payload.
package gharchive

import (
	"fmt"
	"time"

	"giveback.dev/platform/events"
)

// Hours returns every hour from from to to, both included, truncated to the hour in UTC.
// It returns nil when to is before from.
func Hours(from, to time.Time) []time.Time {
	from = from.UTC().Truncate(time.Hour)
	to = to.UTC().Truncate(time.Hour)
	if to.Before(from) {
		return nil
	}
	hours := make([]time.Time, 0, int(to.Sub(from)/time.Hour)+1)
	for h := from; !h.After(to); h = h.Add(time.Hour) {
		hours = append(hours, h)
	}
	return hours
}

// FileName returns GH Archive's name for the hour's dump: 2025-01-01-5.json.gz.
func FileName(h time.Time) string {
	h = h.UTC()
	return fmt.Sprintf("%s-%d.json.gz", h.Format(time.DateOnly), h.Hour())
}

// paddedName returns the zero-padded variant some mirrors use: 2025-01-01-05.json.gz.
func paddedName(h time.Time) string {
	h = h.UTC()
	return fmt.Sprintf("%s-%02d.json.gz", h.Format(time.DateOnly), h.Hour())
}

// HourKey returns the hour as GH Archive names it, without extension: 2025-01-01-5
// (events.HourName, which the KV keys of finished hours use too).
func HourKey(h time.Time) string { return events.HourName(h) }
