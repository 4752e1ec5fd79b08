package report

import (
	"container/list"
	"sync"
	"time"
)

// stamped is the store both caches keep their values in (the statements' answers, cache.go; the
// rendered pages, pagecache.go): values by key, each with the stamp of the data it was computed
// from. A value is served only at that stamp and for maxAge at most; beyond max (the sum of the
// values' costs) the least recently used are dropped first. The page cache may also serve a
// page computed from older data for a short while (lookup), as the page says.
type stamped[V any] struct {
	now    func() time.Time
	maxAge time.Duration
	max    int
	cost   func(V) int

	mu      sync.Mutex
	entries map[string]*list.Element // of *stampedEntry[V], by key
	order   *list.List               // most recently used first
	size    int                      // the sum of the costs kept
}

type stampedEntry[V any] struct {
	key   string
	stamp stamp
	at    time.Time
	v     V
	cost  int
}

func newStamped[V any](max int, cost func(V) int, maxAge time.Duration, now func() time.Time) *stamped[V] {
	return &stamped[V]{now: now, maxAge: maxAge, max: max, cost: cost, entries: map[string]*list.Element{}, order: list.New()}
}

// get returns the value kept under key, computed at stamp st, unless it is older than maxAge.
func (s *stamped[V]) get(key string, st stamp) (V, bool) {
	v, _, fresh, ok := s.lookup(key, st, 0)
	return v, ok && fresh
}

// lookup returns the value kept under key and its age: fresh when it was computed at stamp st,
// and otherwise (stale) when it was computed from other data at most stale ago. A value older
// than maxAge, or from other data and older than stale, is dropped.
func (s *stamped[V]) lookup(key string, st stamp, stale time.Duration) (v V, age time.Duration, fresh, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, found := s.entries[key]
	if !found {
		return v, 0, false, false
	}
	e := el.Value.(*stampedEntry[V])
	age = s.now().Sub(e.at)
	fresh = e.stamp == st
	if age > s.maxAge || (!fresh && (stale <= 0 || age > stale)) {
		s.drop(el)
		return v, 0, false, false
	}
	s.order.MoveToFront(el)
	return e.v, age, fresh, true
}

// put keeps v under key as computed at stamp st from the data as it was at time at (when its
// computation began), and drops the least recently used values beyond the bound. A value kept
// from data newer than at stays. The caller has checked that the data may be kept at st.
func (s *stamped[V]) put(key string, st stamp, at time.Time, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.entries[key]; ok {
		if el.Value.(*stampedEntry[V]).at.After(at) {
			return
		}
		s.drop(el)
	}
	c := s.cost(v)
	s.entries[key] = s.order.PushFront(&stampedEntry[V]{key: key, stamp: st, at: at, v: v, cost: c})
	s.size += c
	for s.size > s.max {
		s.drop(s.order.Back())
	}
}

func (s *stamped[V]) drop(el *list.Element) {
	e := el.Value.(*stampedEntry[V])
	s.order.Remove(el)
	delete(s.entries, e.key)
	s.size -= e.cost
}

// len returns how many values are kept.
func (s *stamped[V]) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}
