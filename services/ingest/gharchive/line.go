package gharchive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrMalformed marks a line that is not a GH Archive event: not JSON, not an object, or without
// a string "type" and a string or numeric "id".
var ErrMalformed = errors.New("malformed event")

// ParseLine validates one line as JSON and returns the event's top-level "id" and "type" without
// decoding the rest. A numeric id is returned as written. When a key repeats, the last one wins,
// as with encoding/json. The error wraps ErrMalformed.
func ParseLine(line []byte) (id, kind string, err error) {
	line = bytes.TrimSpace(line)
	if !json.Valid(line) {
		return "", "", fmt.Errorf("%w: not JSON", ErrMalformed)
	}
	if len(line) == 0 || line[0] != '{' {
		return "", "", fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	var idVal, typeVal []byte
	for m := newMembers(line); m.next(); {
		switch {
		case keyIs(m.key, "id"):
			idVal = m.value()
		case keyIs(m.key, "type"):
			typeVal = m.value()
		}
	}
	if len(idVal) > 0 {
		switch c := idVal[0]; {
		case c == '"':
			id = stringValue(idVal)
		case c == '-' || (c >= '0' && c <= '9'):
			id = string(idVal)
		}
	}
	if len(typeVal) > 0 && typeVal[0] == '"' {
		kind = stringValue(typeVal)
	}
	if id == "" {
		return "", "", fmt.Errorf("%w: no string or numeric \"id\"", ErrMalformed)
	}
	if kind == "" {
		return "", "", fmt.Errorf("%w: no string \"type\"", ErrMalformed)
	}
	return id, kind, nil
}

// members walks the members of the JSON object at the start of b without decoding them: next
// moves to the following key, value returns the current member's raw value. A value that is
// never asked for is still skipped when moving on, but not when the walk is abandoned, which is
// what makes reading the first members of a big event cheap. The walk follows the structure
// only and ends quietly at anything it cannot follow, so on invalid JSON it may see fewer
// members; callers that need validity check it themselves.
type members struct {
	b      []byte
	i      int // where the next member starts, before next
	key    []byte
	vs, ve int // current value's start and end; ve < 0 until skipped
	done   bool
}

func newMembers(b []byte) members {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return members{done: true}
	}
	return members{b: b, i: i + 1, vs: -1, ve: -1}
}

// next moves to the next member and reports whether there is one.
func (m *members) next() bool {
	if m.done {
		return false
	}
	b := m.b
	i := m.i
	if m.vs >= 0 {
		if m.ve < 0 {
			m.ve = skipValue(b, m.vs)
		}
		if m.ve < 0 {
			m.done = true
			return false
		}
		i = skipWS(b, m.ve)
		if i >= len(b) || b[i] != ',' {
			m.done = true
			return false
		}
		i++
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != '"' {
		m.done = true
		return false
	}
	ke := skipString(b, i)
	if ke < 0 {
		m.done = true
		return false
	}
	m.key = b[i:ke]
	i = skipWS(b, ke)
	if i >= len(b) || b[i] != ':' {
		m.done = true
		return false
	}
	m.vs = skipWS(b, i+1)
	m.ve = -1
	return true
}

// open returns the input from the current member's value on, without finding where the value
// ends: a look into the first members of a big object then costs only those members.
func (m *members) open() []byte { return m.b[m.vs:] }

// value returns the current member's raw value, or nil when it does not end.
func (m *members) value() []byte {
	if m.ve < 0 {
		m.ve = skipValue(m.b, m.vs)
	}
	if m.ve < 0 {
		return nil
	}
	return m.b[m.vs:m.ve]
}

// keyIs reports whether the raw quoted key equals name, unescaping only when the key has escapes.
func keyIs(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return len(raw) == len(name)+2 && string(raw[1:len(raw)-1]) == name
	}
	return stringValue(raw) == name
}

// stringValue returns the text of a raw JSON string, decoding it fully only when it has escapes
// or bytes that are not valid UTF-8 (which encoding/json replaces). It returns "" on error.
func stringValue(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return ""
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return s
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just after the string starting at b[i] ('"'), or -1 when the
// string does not end.
func skipString(b []byte, i int) int {
	i++
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		end := i + j
		// The quote is escaped when an odd number of backslashes precedes it.
		n := 0
		for k := end - 1; k >= i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return end + 1
		}
		i = end + 1
	}
}

// skipValue returns the index just after the value starting at b[i], or -1 when it does not end.
// Objects and arrays are skipped by depth, strings by their quotes, scalars up to a delimiter.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}
