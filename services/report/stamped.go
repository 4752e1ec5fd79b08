package report

import (
	"container/list"
	"sync"
	"time"
)

// stamped is the store both caches keep their values in (the statements' answers, cache.go; the
// rendered pages, pagecache.go): values by key, each with the stamp of the data it was computed
// from. A value is served only at that stamp and for maxAge at most; beyond max (the sum of the
// values' costs) the least recently used are dropped first.
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
	s.mu.Lock()
	defer s.mu.Unlock()
	var none V
	el, ok := s.entries[key]
	if !ok {
		return none, false
	}
	e := el.Value.(*stampedEntry[V])
	if e.stamp != st || s.now().Sub(e.at) > s.maxAge {
		s.drop(el)
		return none, false
	}
	s.order.MoveToFront(el)
	return e.v, true
}

// put keeps v under key as computed at stamp st, and drops the least recently used values
// beyond the bound. The caller has checked that the data is still at st.
func (s *stamped[V]) put(key string, st stamp, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.entries[key]; ok {
		s.drop(el)
	}
	c := s.cost(v)
	s.entries[key] = s.order.PushFront(&stampedEntry[V]{key: key, stamp: st, at: s.now(), v: v, cost: c})
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
