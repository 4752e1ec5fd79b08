package store

import (
	"strconv"
	"time"
)

// tsv builds rows of ClickHouse's TabSeparated format, the cheapest text format to write and
// to parse: only backslash, tab, newline, carriage return and NUL are escaped, so a JSON
// payload goes in nearly as it is.
type tsv struct {
	b []byte
}

func (w *tsv) str(s string) { escape(w, s) }

func (w *tsv) bytes(s []byte) { escape(w, s) }

// escape writes one field and its tab.
func escape[T string | []byte](w *tsv, s T) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			w.b = append(w.b, '\\', '\\')
		case '\t':
			w.b = append(w.b, '\\', 't')
		case '\n':
			w.b = append(w.b, '\\', 'n')
		case '\r':
			w.b = append(w.b, '\\', 'r')
		case 0:
			w.b = append(w.b, '\\', '0')
		default:
			w.b = append(w.b, c)
		}
	}
	w.b = append(w.b, '\t')
}

func (w *tsv) uint(u uint64) {
	w.b = strconv.AppendUint(w.b, u, 10)
	w.b = append(w.b, '\t')
}

func (w *tsv) bool(v bool) {
	if v {
		w.b = append(w.b, '1', '\t')
	} else {
		w.b = append(w.b, '0', '\t')
	}
}

func (w *tsv) time(t time.Time) {
	w.b = t.UTC().AppendFormat(w.b, timeLayout)
	w.b = append(w.b, '\t')
}

// optTime writes a nullable time: \N for nil.
func (w *tsv) optTime(t *time.Time) {
	if t == nil || t.IsZero() {
		w.b = append(w.b, '\\', 'N', '\t')
		return
	}
	w.time(*t)
}

// end replaces the last field's tab with the row's newline.
func (w *tsv) end() {
	w.b[len(w.b)-1] = '\n'
}
