package demo

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// HourFile returns the GH Archive name of the file for an hour: 2025-01-01-15.json.gz, the hour
// not zero-padded (2025-01-01-0.json.gz).
func HourFile(hour time.Time) string {
	hour = hour.UTC()
	return fmt.Sprintf("%04d-%02d-%02d-%d.json.gz", hour.Year(), int(hour.Month()), hour.Day(), hour.Hour())
}

// WriteHours writes the events into dir as GH Archive hour files, one per hour from the first
// event to the last (an hour without events gets an empty file),
// each line an event followed by a newline. A file is written under a temporary name and renamed
// when complete, so a reader never sees half an hour. It returns how many files and events it wrote.
func (g *Generator) WriteHours(dir string) (files int, events int, err error) {
	var (
		f    *os.File
		bw   *bufio.Writer
		zw   *gzip.Writer
		cur  time.Time
		name string
	)
	closeFile := func() error {
		if f == nil {
			return nil
		}
		err := errors.Join(zw.Close(), bw.Flush())
		err = errors.Join(err, f.Close())
		if err == nil {
			err = os.Rename(name+".tmp", name)
		} else {
			os.Remove(name + ".tmp")
		}
		f = nil
		if err == nil {
			files++
		}
		return err
	}
	err = g.Events(func(hour time.Time, line []byte) error {
		if f == nil || !hour.Equal(cur) {
			if err := closeFile(); err != nil {
				return err
			}
			// A quiet hour still gets its (empty) file, as GH Archive publishes every hour, so
			// a reader tells a quiet hour from a missing one.
			if !cur.IsZero() {
				for h := cur.Add(time.Hour); h.Before(hour); h = h.Add(time.Hour) {
					if err := writeEmptyHour(filepath.Join(dir, HourFile(h))); err != nil {
						return err
					}
					files++
				}
			}
			cur = hour
			name = filepath.Join(dir, HourFile(hour))
			var err error
			if f, err = os.Create(name + ".tmp"); err != nil {
				return err
			}
			if bw == nil {
				bw = bufio.NewWriterSize(f, 256<<10)
				if zw, err = gzip.NewWriterLevel(bw, gzip.BestSpeed); err != nil {
					return err
				}
			} else {
				bw.Reset(f)
				zw.Reset(bw)
			}
		}
		events++
		if _, err := zw.Write(line); err != nil {
			return err
		}
		_, err := zw.Write(newline)
		return err
	})
	if err == nil {
		err = closeFile()
	} else if f != nil {
		f.Close()
		os.Remove(name + ".tmp")
	}
	if err != nil {
		return files, events, fmt.Errorf("demo: write hours: %w", err)
	}
	return files, events, nil
}

var newline = []byte{'\n'}

// writeEmptyHour writes an hour file with no events.
func writeEmptyHour(name string) error {
	f, err := os.Create(name + ".tmp")
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	if err := errors.Join(zw.Close(), f.Close()); err != nil {
		os.Remove(name + ".tmp")
		return err
	}
	return os.Rename(name+".tmp", name)
}

// HoursIn lists the hours of the GH Archive files (YYYY-MM-DD-H.json.gz) in dir, in order; a
// file of another name there is an error.
func HoursIn(dir string) ([]time.Time, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json.gz"))
	if err != nil {
		return nil, err
	}
	var hours []time.Time
	for _, n := range names {
		h, err := time.Parse("2006-01-02-15", strings.TrimSuffix(filepath.Base(n), ".json.gz"))
		if err != nil {
			return nil, fmt.Errorf("%s is not a GH Archive hour file name (YYYY-MM-DD-H.json.gz): %w", n, err)
		}
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	return hours, nil
}
