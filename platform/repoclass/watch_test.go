package repoclass

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"sync"
	"testing"
	"time"
)

// loads serves a sequence of loads, then the last one forever, and counts them.
type loads struct {
	mu    sync.Mutex
	n     int
	lists []map[string]int // nil: the load fails
}

func (l *loads) load(context.Context) (map[string]int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.lists[min(l.n, len(l.lists)-1)]
	l.n++
	if m == nil {
		return nil, errors.New("clickhouse down")
	}
	return m, nil
}

// waitLoads waits until n loads happened.
func (l *loads) waitLoads(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.mu.Lock()
		done := l.n >= n
		l.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d loads, want %d", l.n, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestWatchFuncCallsOnChange(t *testing.T) {
	c, err := New(nil, nil, map[string]int{"a/a": 1})
	if err != nil {
		t.Fatal(err)
	}
	l := &loads{lists: []map[string]int{
		{"a/a": 1},           // the first load: handed over though equal to the list in use
		{"a/a": 1},           // unchanged
		{"A/A": 1},           // unchanged but for case
		nil,                  // a failed load
		{"a/a": 1},           // unchanged
		{"a/a": 2},           // criticality changed
		{"a/a": 2, "b/b": 1}, // added
		{"b/b": 1},           // removed
		{"b/b": 1},           // unchanged, from here on
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var got []map[string]int
	changed := func(_ context.Context, m map[string]int) error {
		// The list is swapped in before the call.
		for k, v := range m {
			if cl := c.Classify(Repo{Name: k}, ""); !cl.IsDependency || cl.Criticality != v {
				t.Errorf("changed called before %s → %d was in use: %+v", k, v, cl)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, maps.Clone(m))
		return nil
	}
	if err := c.WatchFunc(ctx, l.load, time.Millisecond, nil, changed); err != nil {
		t.Fatal(err)
	}
	// Calls follow their load in the watching goroutine: once load len+3 has started, every call
	// due to an earlier load is made.
	l.waitLoads(t, len(l.lists)+3)
	mu.Lock()
	defer mu.Unlock()
	want := []map[string]int{{"a/a": 1}, {"a/a": 2}, {"a/a": 2, "b/b": 1}, {"b/b": 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changed called with %v, want %v", got, want)
	}
}

func TestWatchFuncRetriesAFailedChange(t *testing.T) {
	c, err := New(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The first load fails: nothing is handed over until one succeeds.
	l := &loads{lists: []map[string]int{nil, {"a/a": 1}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var calls []int // the load count at each call
	changed := func(context.Context, map[string]int) error {
		mu.Lock()
		defer mu.Unlock()
		l.mu.Lock()
		calls = append(calls, l.n)
		l.mu.Unlock()
		if len(calls) == 1 {
			return errors.New("mutation failed")
		}
		return nil
	}
	if err := c.WatchFunc(ctx, l.load, time.Millisecond, nil, changed); err == nil {
		t.Fatal("first load's error not returned")
	}
	l.waitLoads(t, 8)
	mu.Lock()
	defer mu.Unlock()
	// After load 2 (the first to succeed), failing; again after load 3 though nothing changed;
	// then never.
	if want := []int{2, 3}; !reflect.DeepEqual(calls, want) {
		t.Errorf("changed called after loads %v, want %v", calls, want)
	}
}

func TestWatchWithoutCallback(t *testing.T) {
	c, err := New(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := &loads{lists: []map[string]int{{"a/a": 1}, {"b/b": 2}}}
	if err := c.Watch(ctx, l.load, time.Millisecond, nil); err != nil {
		t.Fatal(err)
	}
	l.waitLoads(t, 4)
	if cl := c.Classify(Repo{Name: "B/B"}, ""); !cl.IsDependency || cl.Criticality != 2 || c.Dependencies() != 1 {
		t.Errorf("after refresh: %+v, %d repositories", cl, c.Dependencies())
	}
}

func TestNormalizeDependencies(t *testing.T) {
	got := NormalizeDependencies(map[string]int{"Org/Repo": 1, "org/repo": 3, "ORG/REPO": 2, "x/y": 0})
	if want := map[string]int{"org/repo": 3, "x/y": 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if Key("  Org/Repo\t") != "org/repo" {
		t.Errorf("Key: %q", Key("  Org/Repo\t"))
	}
}
