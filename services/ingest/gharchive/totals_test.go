package gharchive

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// sampleEvents decodes the sample's lines independently of the byte scan.
func sampleEvents(t *testing.T) []struct {
	Type  string
	Actor struct{ Login string }
	Repo  struct{ Name string }
} {
	t.Helper()
	f, err := os.Open(testkit.GHArchiveSample(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []struct {
		Type  string
		Actor struct{ Login string }
		Repo  struct{ Name string }
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e struct {
			Type  string
			Actor struct{ Login string }
			Repo  struct{ Name string }
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTotalsOnSample(t *testing.T) {
	evs := sampleEvents(t)
	// Watch the three busiest repositories of the sample, one of them named in upper case.
	perRepo := map[string]int{}
	for _, e := range evs {
		perRepo[e.Repo.Name]++
	}
	repos := make([]string, 0, len(perRepo))
	for r := range perRepo {
		repos = append(repos, r)
	}
	sort.Slice(repos, func(i, j int) bool {
		if perRepo[repos[i]] != perRepo[repos[j]] {
			return perRepo[repos[i]] > perRepo[repos[j]]
		}
		return repos[i] < repos[j]
	})
	repos = repos[:3]
	watch := map[string]bool{strings.ToUpper(repos[0]): true, repos[1]: true, repos[2]: true, "nobody/nothing": true, "other/off": false}

	want := map[string]uint64{}
	var wantTotal uint64
	for _, e := range evs {
		for _, r := range repos {
			if e.Repo.Name == r {
				want[e.Repo.Name+" "+e.Actor.Login+" "+e.Type]++
				wantTotal++
			}
		}
	}

	dir := t.TempDir()
	hour := time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC)
	linkSample(t, dir, FileName(hour))
	var (
		mu       sync.Mutex
		got      []events.ActivityRow
		calls    int
		finished bool
	)
	r := &Reader{Source: dir, Watch: watch,
		Filter: func([]byte) bool { return false }, // the filter drops everything: totals still count
		Totals: func(_ context.Context, h time.Time, rows []events.ActivityRow) error {
			mu.Lock()
			defer mu.Unlock()
			if !h.Equal(hour) || finished {
				t.Errorf("totals for %v (finished already: %v)", h, finished)
			}
			calls++
			got = rows
			return nil
		},
		Finished: func(context.Context, time.Time) error { finished = true; return nil },
	}
	st, err := r.Read(context.Background(), []time.Time{hour}, func(context.Context, *events.Raw) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 0 || st.Filtered != int64(len(evs)) {
		t.Fatalf("stats %+v", st)
	}
	if calls != 1 || !finished {
		t.Fatalf("totals called %d times, finished %v", calls, finished)
	}
	var total uint64
	for _, row := range got {
		if row.Day != "2025-01-01" {
			t.Fatalf("row %+v: day", row)
		}
		k := row.Repo + " " + row.Actor + " " + row.Type
		if want[k] != row.Events {
			t.Errorf("%s: %d events, want %d", k, row.Events, want[k])
		}
		delete(want, k)
		total += row.Events
	}
	if len(want) > 0 || total != wantTotal || total == 0 {
		t.Fatalf("missing rows %v; total %d, want %d", want, total, wantTotal)
	}
}

func TestTotalsNoWatch(t *testing.T) {
	dir := t.TempDir()
	hour := time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC)
	linkSample(t, dir, FileName(hour))
	called := false
	r := &Reader{Source: dir, Totals: func(context.Context, time.Time, []events.ActivityRow) error { called = true; return nil }}
	if _, err := r.Read(context.Background(), []time.Time{hour}, func(context.Context, *events.Raw) error { return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if called {
		t.Fatal("totals were published without watched repositories")
	}
}
