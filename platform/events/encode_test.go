package events_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"giveback.dev/platform/events"
)

func TestAppendRawRoundTrips(t *testing.T) {
	for _, r := range []events.Raw{
		{Schema: events.SchemaRaw, Source: "gharchive", Kind: "PushEvent", ID: "42", FetchedAt: time.Date(2025, 1, 1, 15, 0, 0, 123, time.UTC),
			Origin: "2025-01-01-15.json.gz:7", Payload: json.RawMessage(`{"a":[1,2,{"b":"c"}]}`)},
		{Schema: events.SchemaRaw, Source: "webhook", Kind: "pull_request", ID: "quote\"back\\slash\nnl\ttab\x01ctl é 🚀",
			FetchedAt: time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC), Meta: map[string]string{"hook_id": "1", "k\"": "v\n"}, Payload: json.RawMessage(`null`)},
	} {
		data := events.AppendRaw(nil, &r)
		if !json.Valid(data) {
			t.Fatalf("invalid JSON: %s", data)
		}
		var got events.Raw
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
		}
	}
}

func FuzzAppendRaw(f *testing.F) {
	f.Add("gharchive", "PushEvent", "1", "o", "k", "v", `{"x":1}`)
	f.Fuzz(func(t *testing.T, source, kind, id, origin, k, v, payload string) {
		if !json.Valid([]byte(payload)) {
			return
		}
		r := events.Raw{Schema: events.SchemaRaw, Source: source, Kind: kind, ID: id, Origin: origin, Meta: map[string]string{k: v},
			FetchedAt: time.Unix(1700000000, 0).UTC(), Payload: json.RawMessage(payload)}
		data := events.AppendRaw(nil, &r)
		if !json.Valid(data) {
			t.Fatalf("invalid JSON for %+v: %s", r, data)
		}
	})
}
