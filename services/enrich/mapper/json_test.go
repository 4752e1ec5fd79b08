package mapper_test

import (
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/services/enrich/mapper"
)

// TestMalformedSequence feeds every kind a sequence of malformed payloads that made the JSON
// decoder read past the end of its pooled buffer and panic (an object key ending in a dangling
// escape, after other malformed input; found by FuzzMap). Each must be a decode error.
func TestMalformedSequence(t *testing.T) {
	inputs := []string{
		`{"\`,
		`{"a":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",`,
		`{"repo":{"name":"\`,
		`{"payload":{"\`,
		`{"payload":{"pull_request":{"\`,
		`{"\u`,
		`{"a":1}{"\`,
	}
	for round := 0; round < 50; round++ {
		for _, k := range fuzzKinds {
			for _, in := range inputs {
				r := &events.Raw{Source: k.source, Kind: k.kind, ID: "bad", FetchedAt: time.Unix(1700000000, 0), Payload: []byte(in)}
				cs, err := mapper.Map(r)
				if err == nil || cs != nil || !strings.Contains(err.Error(), "decode payload") {
					t.Fatalf("%s %s %q: rows %v, error %v; want a decode error", k.source, k.kind, in, cs, err)
				}
				if _, ok := mapper.Trimmed(r); ok {
					t.Fatalf("%s %s %q: a hydration request from a malformed payload", k.source, k.kind, in)
				}
			}
		}
	}
	var r events.Raw
	if err := mapper.DecodeJSON([]byte(`{"source":"\`), &r); err == nil {
		t.Fatal("DecodeJSON accepted a malformed envelope")
	}
}
