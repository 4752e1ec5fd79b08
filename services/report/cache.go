package report

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/singleflight"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/services/report/metrics"
)

// The result cache: the answers of the statements the pages and the API read (every Query of
// the Server's store but those with a readonly setting, which are users' own; Ready reads
// around it), kept per statement as sent to ClickHouse, which holds the bound filter, so a
// metric is computed once per filter until the data changes. An answer is served only while
// the data it was computed from is unchanged: it is stamped with the store's write count
// (store.Generation: every write made in this process, as under `giveback up`) and the count of
// changes announced from elsewhere (Server.StoreChanged, which FollowChanges calls for every
// contribution enrich publishes), both read before the statement began. Identical statements
// missing at once run once.

// Cache defaults.
const (
	DefaultCacheEntries = 4096
	// DefaultCacheMaxAge bounds how long an answer is kept: the limit of staleness for writes
	// the service is not told of (another process's, when `giveback report` runs without
	// nats.url, or a dependency import on a ClickHouse server).
	DefaultCacheMaxAge = time.Minute
	// cacheMaxRows is the largest result kept.
	cacheMaxRows = 20_000
)

// cache is the result cache of one Server.
type cache struct {
	writes  func() uint64 // the store's write count
	changes atomic.Uint64 // changes announced from elsewhere
	maxAge  time.Duration
	now     func() time.Time
	answers *stamped[*store.Result] // by statement, one entry each
	flight  singleflight.Group

	hits, misses atomic.Uint64
	prewarmed    atomic.Pointer[stamp] // the data the last pass of Prewarm computed the pages from
}

// stamp is the state of the data an answer was computed from.
type stamp struct{ writes, changes uint64 }

func newCache(writes func() uint64, entries int, maxAge time.Duration, now func() time.Time) *cache {
	if entries <= 0 {
		entries = DefaultCacheEntries
	}
	if maxAge <= 0 {
		maxAge = DefaultCacheMaxAge
	}
	one := func(*store.Result) int { return 1 }
	return &cache{writes: writes, maxAge: maxAge, now: now, answers: newStamped(entries, one, maxAge, now)}
}

func (c *cache) stamp() stamp { return stamp{c.writes(), c.changes.Load()} }

// changed records a change of the data made elsewhere: no answer computed before is served.
func (c *cache) changed() { c.changes.Add(1) }

// read is the store.ReadFunc of the Server's store. A result it returns may be shared with
// other callers and must not be modified.
func (c *cache) read(ctx context.Context, q string, settings store.Settings, next func(context.Context) (*store.Result, error)) (*store.Result, error) {
	if _, ok := settings["readonly"]; ok {
		return next(ctx)
	}
	q = settingsKey(settings) + q
	st := c.stamp()
	if res, ok := c.get(q, st); ok {
		c.hits.Add(1)
		return res, nil
	}
	c.misses.Add(1)
	// The statement runs once for every caller asking for it at the same stamp, detached from
	// the first caller's cancellation; each caller waits as long as its own context allows.
	key := strconv.FormatUint(st.writes, 10) + "/" + strconv.FormatUint(st.changes, 10) + "\x00" + q
	ch := c.flight.DoChan(key, func() (any, error) {
		res, err := next(context.WithoutCancel(ctx))
		if err == nil {
			c.put(q, st, res)
		}
		return res, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*store.Result), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// settingsKey renders settings in a fixed order, to tell apart one statement run with
// different settings.
func settingsKey(s store.Settings) string {
	if len(s) == 0 {
		return ""
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(s)) {
		fmt.Fprintf(&b, "%s=%v,", k, s[k])
	}
	return b.String() + "\x00"
}

// get returns the answer to q computed at stamp st, unless it is older than maxAge.
func (c *cache) get(q string, st stamp) (*store.Result, bool) { return c.answers.get(q, st) }

// put keeps res as the answer to q at stamp st, unless the data changed meanwhile or the result
// is too large, and drops the least recently used answers beyond the bound.
func (c *cache) put(q string, st stamp, res *store.Result) {
	if res == nil || len(res.Rows) > cacheMaxRows || c.stamp() != st {
		return
	}
	c.answers.put(q, st, c.now(), res)
}

// len returns how many answers are kept.
func (c *cache) len() int { return c.answers.len() }

// StoreChanged tells the server that the data changed in a way its store did not see (a write
// by another process): no answer computed before is served again.
func (s *Server) StoreChanged() {
	if s.cache != nil {
		s.cache.changed()
	}
}

// FollowChanges subscribes, on core NATS, to the contributions enrich stores
// (events.SubjectContribution) and the changes of reference data (events.SubjectControlAll),
// and calls StoreChanged for each: what a `giveback report` of its own needs to drop its
// answers when enrich, in another process, stores new data. Unsubscribe (or Drain) ends it.
func (s *Server) FollowChanges(nc *nats.Conn) ([]*nats.Subscription, error) {
	var subs []*nats.Subscription
	for _, subject := range []string{events.SubjectContribution, events.SubjectControlAll} {
		sub, err := nc.Subscribe(subject, func(*nats.Msg) { s.StoreChanged() })
		if err != nil {
			for _, sub := range subs {
				_ = sub.Unsubscribe()
			}
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, nil
}

// Prewarm defaults: how often Prewarm looks for new data, how long the data must stay unchanged
// before it computes the pages, and how long one page may take.
const (
	DefaultPrewarmPoll  = time.Second
	DefaultPrewarmQuiet = 5 * time.Second
	prewarmPageTimeout  = 2 * time.Minute
)

// prewarmPage is a page Prewarm computes ahead of its viewers, with the default filter, and the
// wildcards of its route.
type prewarmPage struct {
	path  string
	vals  map[string]string
	serve http.HandlerFunc
}

// prewarmPages are the main pages, then each team's page (one click from /teams), for the teams
// the data knows.
func (s *Server) prewarmPages(ctx context.Context) []prewarmPage {
	pages := []prewarmPage{{path: "/", serve: s.cachedPage(s.dashboard)}, {path: "/teams", serve: s.cachedPage(s.teamsPage)},
		{path: "/projects", serve: s.cachedPage(s.projectsPage)}, {path: "/community", serve: s.cachedPage(s.communityPage)}}
	teams, err := metrics.GetTeams(ctx, s.st)
	if err != nil {
		s.log.Warn("prewarm: the teams", slog.Any("err", err))
		return pages
	}
	for _, t := range teams {
		pages = append(pages, prewarmPage{path: "/teams/" + url.PathEscape(t.Team), vals: map[string]string{"team": t.Team}, serve: s.cachedPage(s.teamPage)})
	}
	return pages
}

// Prewarm keeps the overview, teams, projects and community pages and each team's page, with
// their default filter, in the caches, so that the first viewer after new data is answered from
// them: every poll it looks whether the data changed (a write through the store, or
// StoreChanged), and once the data has stayed unchanged for quiet (a burst of writes is one
// change), it computes those pages, one after the other, each within a bound. One pass runs at a
// time; a change during a pass ends it before its next team page, and starts another once the
// data is quiet again, from the main pages. A poll or quiet of 0 means DefaultPrewarmPoll or
// DefaultPrewarmQuiet. It returns when ctx ends, and at once when the cache is off.
func (s *Server) Prewarm(ctx context.Context, poll, quiet time.Duration) {
	if s.cache == nil {
		return
	}
	if poll <= 0 {
		poll = DefaultPrewarmPoll
	}
	if quiet <= 0 {
		quiet = DefaultPrewarmQuiet
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	warmed, seen, since := stamp{writes: ^uint64(0)}, stamp{writes: ^uint64(0)}, time.Now()
	for {
		if st := s.cache.stamp(); st != seen {
			seen, since = st, time.Now()
		} else if st != warmed && time.Since(since) >= quiet {
			if _, complete := s.prewarm(ctx, st); complete {
				warmed = st
				s.cache.prewarmed.Store(&st)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PrewarmPass runs one pass of Prewarm over the data as it is: it computes each prewarmed page
// once, dropping what it renders, and returns how many it computed and whether that was all of
// them from unchanged data. It ends early when ctx ends, or before a team page when the data
// changed since the pass began. Without the cache it computes nothing.
func (s *Server) PrewarmPass(ctx context.Context) (pages int, complete bool) {
	if s.cache == nil {
		return 0, false
	}
	return s.prewarm(ctx, s.cache.stamp())
}

// prewarm is PrewarmPass over the data at st.
func (s *Server) prewarm(ctx context.Context, st stamp) (int, bool) {
	n := 0
	for _, p := range s.prewarmPages(ctx) {
		if ctx.Err() != nil || (p.vals != nil && s.cache.stamp() != st) {
			return n, false
		}
		pctx, cancel := context.WithTimeout(ctx, prewarmPageTimeout)
		rec := renderFor(pctx, p.serve, p.path, p.vals)
		cancel()
		n++
		if rec.Code != http.StatusOK {
			s.log.Warn("prewarm "+p.path, slog.Int("status", rec.Code))
		}
	}
	return n, ctx.Err() == nil && s.cache.stamp() == st
}
