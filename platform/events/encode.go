package events

import (
	"time"
	"unicode/utf8"
)

// AppendRaw appends the JSON encoding of r to b. It writes the payload as it is, without the
// re-validation encoding/json would do: the payload is the source's JSON, unchanged. Decoding
// the result with encoding/json gives r back.
func AppendRaw(b []byte, r *Raw) []byte {
	schema := r.Schema
	if schema == "" {
		schema = SchemaRaw
	}
	b = append(b, `{"schema":`...)
	b = appendString(b, schema)
	b = append(b, `,"source":`...)
	b = appendString(b, r.Source)
	b = append(b, `,"kind":`...)
	b = appendString(b, r.Kind)
	b = append(b, `,"id":`...)
	b = appendString(b, r.ID)
	b = append(b, `,"fetched_at":"`...)
	b = r.FetchedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if r.Origin != "" {
		b = append(b, `,"origin":`...)
		b = appendString(b, r.Origin)
	}
	if len(r.Meta) > 0 {
		b = append(b, `,"meta":{`...)
		first := true
		for k, v := range r.Meta {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, v)
		}
		b = append(b, '}')
	}
	b = append(b, `,"payload":`...)
	if len(r.Payload) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, r.Payload...)
	}
	return append(b, '}')
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
