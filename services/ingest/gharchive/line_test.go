package gharchive

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name, line, id, kind string
		ok                   bool
	}{
		{"gh archive order", `{"id":"45193146633","type":"WatchEvent","actor":{"id":1,"login":"a"}}`, "45193146633", "WatchEvent", true},
		{"other order and spaces", ` { "payload" : {"id":"x","type":"y"} , "type" : "PushEvent", "id" : "7" } `, "7", "PushEvent", true},
		{"numeric id", `{"id":12345,"type":"PushEvent"}`, "12345", "PushEvent", true},
		{"escaped key", `{"\u0069d":"9","type":"IssuesEvent"}`, "9", "IssuesEvent", true},
		{"escaped value", `{"id":"1","type":"Push\u0045vent"}`, "1", "PushEvent", true},
		{"last key wins", `{"id":"1","type":"A","type":"B"}`, "1", "B", true},
		{"quote in nested string", `{"p":{"s":"a\"}{\\"},"id":"2","type":"X"}`, "2", "X", true},
		{"not json", `{"id":"1","type":"X"`, "", "", false},
		{"garbage", `hello`, "", "", false},
		{"array", `[{"id":"1","type":"X"}]`, "", "", false},
		{"no id", `{"type":"X"}`, "", "", false},
		{"no type", `{"id":"1"}`, "", "", false},
		{"empty id", `{"id":"","type":"X"}`, "", "", false},
		{"id is an object", `{"id":{"a":1},"type":"X"}`, "", "", false},
		{"type is a number", `{"id":"1","type":3}`, "", "", false},
		{"nested only", `{"payload":{"id":"1","type":"X"}}`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, kind, err := ParseLine([]byte(tt.line))
			if tt.ok != (err == nil) {
				t.Fatalf("ParseLine(%s) error = %v, want ok %v", tt.line, err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error %v does not wrap ErrMalformed", err)
				}
				return
			}
			if id != tt.id || kind != tt.kind {
				t.Fatalf("ParseLine(%s) = %q, %q, want %q, %q", tt.line, id, kind, tt.id, tt.kind)
			}
		})
	}
}

func TestParseLineSample(t *testing.T) {
	for i, line := range sampleLines(t) {
		id, kind, err := ParseLine(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var ev struct{ ID, Type string }
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if id != ev.ID || kind != ev.Type {
			t.Fatalf("line %d: ParseLine = %q, %q; decode = %q, %q", i+1, id, kind, ev.ID, ev.Type)
		}
	}
}

// FuzzParseLine checks ParseLine against a full decode: it never panics, accepts only valid
// JSON objects, and when it accepts a line its id and type are what encoding/json reads.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","type":"PushEvent","actor":{"login":"a"},"repo":{"name":"o/r"},"payload":{}}`,
		`{"id":2,"type":"X"}`, `{"\u0069d":"3","type":"\"q\""}`, `{"id":"1","id":"2","type":"T"}`,
		`{"a":[1,{"b":"}"}],"id":"4","type":"T"}`, `not json`, `{"id":"1"`, `[]`, `""`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		id, kind, err := ParseLine(line)
		if err != nil {
			return
		}
		if !json.Valid(line) {
			t.Fatalf("accepted invalid JSON %q", line)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("accepted %q that is not an object: %v", line, err)
		}
		var wantKind string
		if err := json.Unmarshal(m["type"], &wantKind); err != nil || wantKind != kind {
			t.Fatalf("%q: type %q, decode %q (%v)", line, kind, wantKind, err)
		}
		var wantID string
		if err := json.Unmarshal(m["id"], &wantID); err != nil {
			wantID = string(m["id"]) // a number, as written
		}
		if wantID != id {
			t.Fatalf("%q: id %q, decode %q", line, id, wantID)
		}
	})
}
