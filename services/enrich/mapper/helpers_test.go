package mapper_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// sampleLine is one line of the GH Archive sample, read with plain encoding/json so the test's
// expectations do not share code with the mapper.
type sampleLine struct {
	raw   events.Raw
	event map[string]any
}

// readSample returns every line of the real GH Archive sample as a raw record.
func readSample(t testing.TB) []sampleLine {
	t.Helper()
	f, err := os.Open(testkit.GHArchiveSample(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []sampleLine
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := bytes.Clone(sc.Bytes())
		var ev map[string]any
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&ev); err != nil {
			t.Fatalf("sample line %d: %v", len(out)+1, err)
		}
		out = append(out, sampleLine{
			raw: events.Raw{
				Schema: events.SchemaRaw, Source: events.SourceGHArchive,
				Kind: str(ev, "type"), ID: str(ev, "id"),
				FetchedAt: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), Payload: line,
			},
			event: ev,
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// webhookExample is one example payload of @octokit/webhooks-examples.
type webhookExample struct {
	name string
	raw  events.Raw
	body map[string]any
}

func readWebhookExamples(t testing.TB) []webhookExample {
	t.Helper()
	b, err := os.ReadFile(testkit.WebhookExamples(t))
	if err != nil {
		t.Fatal(err)
	}
	var index []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	var out []webhookExample
	for _, ev := range index {
		for i, ex := range ev.Examples {
			var body map[string]any
			d := json.NewDecoder(bytes.NewReader(ex))
			d.UseNumber()
			if err := d.Decode(&body); err != nil {
				t.Fatalf("%s[%d]: %v", ev.Name, i, err)
			}
			out = append(out, webhookExample{
				name: ev.Name,
				raw: events.Raw{
					Schema: events.SchemaRaw, Source: events.SourceWebhook, Kind: ev.Name,
					ID: ev.Name + "-" + strconv.Itoa(i), FetchedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
					Payload: ex,
				},
				body: body,
			})
		}
	}
	return out
}

// dig returns the value at a path of object keys, or nil.
func dig(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str returns the string (or number, as written) at a path, or "".
func str(v any, path ...string) string {
	switch x := dig(v, path...).(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

// list returns the array at a path, or nil.
func list(v any, path ...string) []any {
	if a, ok := dig(v, path...).([]any); ok {
		return a
	}
	return nil
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func lower(s string) string { return strings.ToLower(s) }

// rawOf wraps a hand-made payload in a record.
func rawOf(source, kind, payload string) *events.Raw {
	return &events.Raw{
		Schema: events.SchemaRaw, Source: source, Kind: kind, ID: "test-1",
		FetchedAt: time.Date(2025, 11, 1, 12, 0, 0, 0, time.UTC), Payload: json.RawMessage(payload),
	}
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	return v
}
