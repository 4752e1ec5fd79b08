package enrich_test

import (
	"encoding/json"
	"testing"
	"time"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
)

// A contribution is stored with the state's time and the roster generation it was attributed
// with; a state time a version cannot hold (past the year 2527) stops the record as poison
// rather than wrapping round to an early version.
func TestStoredVersion(t *testing.T) {
	svc := processOnly(t, 7)
	hook := func(id, updated string) events.Raw {
		body := `{"action":"opened","number":1,"pull_request":{"number":1,"user":{"login":"ann"},"state":"open","created_at":"2024-05-01T10:00:00Z","updated_at":"` + updated + `",` +
			`"base":{"repo":{"full_name":"kubernetes/kubernetes"}}},"repository":{"full_name":"kubernetes/kubernetes"},"sender":{"login":"ann"}}`
		return events.Raw{Schema: events.SchemaRaw, Source: events.SourceWebhook, Kind: "pull_request", ID: id,
			FetchedAt: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Payload: json.RawMessage(body)}
	}
	res := svc.Process(encode(t, []events.Raw{hook("1", "2024-05-02T10:00:00Z"), hook("2", "2600-01-01T00:00:00Z")}))
	if len(res.Contributions) != 1 {
		t.Fatalf("%d contributions, want 1: %+v", len(res.Contributions), res.Contributions)
	}
	v := events.Version(res.Contributions[0].Version)
	if want := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC); !v.Time().Equal(want) || v.Generation() != 7 {
		t.Errorf("stored version %d: time %v generation %d, want %v and 7", v, v.Time(), v.Generation(), want)
	}
	if res.Decisions[0] == bus.Term || res.Decisions[1] != bus.Term {
		t.Errorf("decisions %v, want the record of the year 2600 terminated as poison", res.Decisions)
	}
}
