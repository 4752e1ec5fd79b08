package githubsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// Kinds of the records the syncer publishes.
const (
	KindPullRequest       = "pull_request"
	KindIssue             = "issue"
	KindPullRequestDetail = "pull_request_detail"
	KindReview            = "review"
	KindIssueComment      = "issue_comment"
	KindCommit            = "commit"
)

// Searches the syncer runs for each login, each with its own cursor.
const (
	// SearchAuthor finds the issues and pull requests the login opened.
	SearchAuthor = "author"
	// SearchReviewed finds the pull requests the login reviewed, then its reviews on them.
	SearchReviewed = "reviewed"
	// SearchCommented finds the issues and pull requests the login commented on, then its
	// comments on them.
	SearchCommented = "commented"
	// SearchCommits finds the commits the login authored (in default branches GitHub indexes).
	SearchCommits = "commits"
)

// Searches lists every search, in the order a login runs them.
var Searches = []string{SearchAuthor, SearchReviewed, SearchCommented, SearchCommits}

// perPage is the page size of searches and lists, GitHub's maximum.
const perPage = 100

// searchCap is the most results GitHub lets a search page through; a search that reports more
// is split by date.
const searchCap = 1000

// githubEpoch is before anything GitHub holds: the lower bound of a date range to split when a
// login has no cursor.
var githubEpoch = time.Date(2007, 10, 1, 0, 0, 0, 0, time.UTC)

// Syncer searches, for each login, the pull requests and issues it authored, reviewed and
// commented on, and the commits it authored, that changed since the search's cursor, and
// publishes each result with, for a pull request, its details (merged, merged_at), and the
// login's reviews and comments on the results of the reviewed and commented searches.
//
// Every request is conditional (REST): a cycle in which nothing changed therefore costs no rate
// limit at all (see TestNoChangeCycleIsFree).
type Syncer struct {
	// REST sends the requests and publishes the records; the Hydrator may share it. Its KV also
	// keeps the cursor of each search of each login.
	*REST
	// Logins to sync; SetLogins changes them while the syncer runs.
	Logins []string
	// Searches to run per login (SearchAuthor, …); nil runs every one.
	Searches []string
	// Statuses keeps the status of each login (events.BucketStatus), for the report service.
	Statuses jetstream.KeyValue
	// Since is where a search without a cursor starts; zero means from the beginning.
	Since time.Time

	mu       sync.Mutex
	status   map[string]*events.RESTStatus
	interval time.Duration // of Run, for events.RESTStatus.NextSync

	now func() time.Time // tests fix the clock of date splits
}

// Stats counts what SyncOnce did.
type Stats struct {
	Logins       int // logins synced without error
	Failed       int // logins whose sync failed
	Items        int // search results published
	PullRequests int // pull request details published
	Reviews      int // reviews published
	Comments     int // issue comments published
	Commits      int // commits published
	Requests     int // requests the rate limit counted (304s excluded)
	NotModified  int // 304 answers: nothing new, no rate limit spent
}

func (st *Stats) add(o Stats) {
	st.Items += o.Items
	st.PullRequests += o.PullRequests
	st.Reviews += o.Reviews
	st.Comments += o.Comments
	st.Commits += o.Commits
	st.Requests += o.Requests
	st.NotModified += o.NotModified
}

func (st *Stats) published() int {
	return st.Items + st.PullRequests + st.Reviews + st.Comments + st.Commits
}

// SetLogins replaces the logins to sync from the next login on (a roster change): a new login
// starts from Since, a login no longer listed is no longer synced.
func (s *Syncer) SetLogins(logins []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Logins = append([]string(nil), logins...)
}

// CurrentLogins returns the logins synced.
func (s *Syncer) CurrentLogins() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.Logins...)
}

// Status returns the status of every login synced so far, sorted by login.
func (s *Syncer) Status() []events.RESTStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]events.RESTStatus, 0, len(s.status))
	for _, st := range s.status {
		c := *st
		if st.Cursors != nil {
			c.Cursors = make(map[string]time.Time, len(st.Cursors))
			for k, v := range st.Cursors {
				c.Cursors[k] = v
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Login < out[j].Login })
	return out
}

func (s *Syncer) update(login string, f func(*events.RESTStatus)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == nil {
		s.status = map[string]*events.RESTStatus{}
	}
	st := s.status[login]
	if st == nil {
		st = &events.RESTStatus{Login: login}
		s.status[login] = st
	}
	f(st)
}

func (s *Syncer) clock() time.Time {
	if s.now != nil {
		return s.now().UTC()
	}
	return time.Now().UTC()
}

// Run syncs at once and then every interval until ctx ends. Failures are logged and visible in
// Status; the next round retries them.
func (s *Syncer) Run(ctx context.Context, interval time.Duration) {
	log := s.log()
	s.mu.Lock()
	s.interval = interval
	s.mu.Unlock()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := s.SyncOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Error("sync round failed", slog.Int("failed_logins", st.Failed), slog.Any("err", err))
		} else {
			log.Info("sync round done", slog.Int("logins", st.Logins), slog.Int("items", st.Items),
				slog.Int("pull_requests", st.PullRequests), slog.Int("reviews", st.Reviews), slog.Int("comments", st.Comments),
				slog.Int("commits", st.Commits), slog.Int("requests", st.Requests), slog.Int("not_modified", st.NotModified))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SyncOnce syncs every login once. A login that fails is reported and the others still run;
// the errors are joined. It stops early when ctx ends, and when GitHub stays unavailable
// through a request's retries (5xx answers, timeouts, failed connections): the logins left
// wait for the next round, which resumes every search from its cursor.
func (s *Syncer) SyncOnce(ctx context.Context) (Stats, error) {
	var total Stats
	var errs []error
	if len(s.clients().clients) == 0 {
		return total, errors.New("githubsync: no client: set Clients (NewClients) or Client")
	}
	for _, login := range s.CurrentLogins() {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		st, err := s.syncLogin(ctx, login)
		total.add(st)
		if serr := s.finishLogin(ctx, login, st, err); serr != nil {
			err = errors.Join(err, serr)
		}
		if err != nil {
			total.Failed++
			errs = append(errs, err)
			s.log().Warn("login sync failed", slog.String("login", login), slog.Any("err", err))
			if errors.Is(err, errUnavailable) {
				s.log().Warn("GitHub unavailable; the next round resumes the logins from their cursors")
				break
			}
			continue
		}
		total.Logins++
	}
	return total, errors.Join(errs...)
}

// finishLogin records the login's status in memory and in the status bucket.
func (s *Syncer) finishLogin(ctx context.Context, login string, st Stats, syncErr error) error {
	now := time.Now().UTC()
	var snapshot events.RESTStatus
	s.update(login, func(ls *events.RESTStatus) {
		ls.LastSync = now
		ls.NextSync = time.Time{}
		if s.interval > 0 {
			ls.NextSync = now.Add(s.interval)
		}
		ls.Items = st.published()
		ls.Requests = st.Requests
		ls.NotModified = st.NotModified
		ls.LastError = ""
		if syncErr != nil {
			ls.LastError = syncErr.Error()
		}
		snapshot = *ls
	})
	if s.KV == nil {
		return nil
	}
	b, err := json.Marshal(snapshot)
	if err != nil {
		return fmt.Errorf("githubsync: %s: status: %w", login, err)
	}
	if _, err := s.Statuses.Put(context.WithoutCancel(ctx), events.KeyStatusREST(login), b); err != nil {
		return fmt.Errorf("githubsync: %s: store status: %w", login, err)
	}
	return nil
}

// syncLogin runs the login's searches. A failing search does not stop the others; the errors
// are joined.
func (s *Syncer) syncLogin(ctx context.Context, login string) (Stats, error) {
	var st Stats
	lr := &loginRun{login: login, st: &st, published: map[string]bool{}, rate: func(remaining int, reset time.Time) {
		s.update(login, func(ls *events.RESTStatus) { ls.Remaining, ls.Reset = remaining, reset })
	}}
	searches := s.Searches
	if searches == nil {
		searches = Searches
	}
	var errs []error
	for _, name := range searches {
		sr, ok := searchByName[name]
		if !ok {
			return st, fmt.Errorf("githubsync: unknown search %q (want one of %s)", name, strings.Join(Searches, ", "))
		}
		if err := s.walk(ctx, lr, sr); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil || errors.Is(err, errUnavailable) {
				break
			}
		}
	}
	return st, errors.Join(errs...)
}

// searchSpec describes one of the per-login searches.
type searchSpec struct {
	name      string
	endpoint  string // search/issues or search/commits
	qualifier func(login string) string
	field     string // the date qualifier and sort key: updated, author-date
	item      func(s *Syncer, ctx context.Context, w *walkRun, origin string, item json.RawMessage) (time.Time, error)
}

var searchByName = map[string]searchSpec{
	SearchAuthor: {name: SearchAuthor, endpoint: "search/issues", field: "updated",
		qualifier: func(l string) string { return "author:" + l }, item: (*Syncer).issueItem},
	SearchReviewed: {name: SearchReviewed, endpoint: "search/issues", field: "updated",
		qualifier: func(l string) string { return "reviewed-by:" + l + " is:pr" }, item: (*Syncer).issueItem},
	SearchCommented: {name: SearchCommented, endpoint: "search/issues", field: "updated",
		qualifier: func(l string) string { return "commenter:" + l }, item: (*Syncer).issueItem},
	SearchCommits: {name: SearchCommits, endpoint: "search/commits", field: "author-date",
		qualifier: func(l string) string { return "author:" + l }, item: (*Syncer).commitItem},
}

// walkRun is the state of one search of one login.
type walkRun struct {
	*loginRun
	sr    searchSpec
	since time.Time       // the search's cursor when the walk began
	seen  map[string]bool // results handled in this walk
}

// searchPage is a search response with its items kept as GitHub sent them.
type searchPage struct {
	TotalCount        int               `json:"total_count"`
	IncompleteResults bool              `json:"incomplete_results"`
	Items             []json.RawMessage `json:"items"`
}

// walk runs one search of the login from its cursor and publishes what it finds.
//
// Pages come sorted by date ascending; after a page whose items moved the cursor, the search
// restarts from the new cursor (keyset paging), so an item updated meanwhile, which moves to the
// end and shifts the pages, cannot make the walk skip another. A search that reports more than
// the 1,000 results GitHub pages through is split: its date range lo..hi (hi open: now) is
// halved until the first half is under the cap, that half is walked, the cursor is set to its
// end, and the walk goes on with the rest of the range. A page that all shares the cursor's
// instant is left by its Link rel="next".
//
// Each request carries the ETag of the last walk's answer to it. A 304 means the answer, already
// processed, is unchanged; on page 1 of a search from the cursor, that nothing changed since.
// The ETags of a search's pages are kept only when the walk ended on that search, and those of
// details, reviews and comments only once their records are stored, so a 304 never hides what
// a crash left unpublished.
func (s *Syncer) walk(ctx context.Context, lr *loginRun, sr searchSpec) error {
	login := lr.login
	cursor, err := s.loadCursor(ctx, sr.name, login)
	if err != nil {
		return err
	}
	s.setCursor(login, sr.name, cursor)
	w := &walkRun{loginRun: lr, sr: sr, since: cursor, seen: map[string]bool{}}
	lo, hi := cursor, time.Time{} // hi zero: open-ended
	var uppers []time.Time        // the ends of the ranges left to walk after a split
	var pending []pendingETag     // ETags of the pages of the current search
	page := 1
	for {
		u := searchURL(sr, login, lo, hi, page)
		var res searchPage
		resp, kept, err := s.get(ctx, lr, u, &res)
		if err != nil {
			return fmt.Errorf("githubsync: %s: %s search: %w", login, sr.name, err)
		}
		next := 0
		if kept != nil {
			next = kept.Next
			pending = append(pending, pendingETag{url: u, e: *kept})
		} else {
			if page == 1 && res.TotalCount > searchCap {
				if top, ok := splitPoint(lo, hi, s.clock()); ok {
					s.log().Info("search over GitHub's 1,000-result cap; splitting its date range", slog.String("login", login),
						slog.String("search", sr.name), slog.Int("total_count", res.TotalCount), slog.Time("from", lo), slog.Time("to", top))
					uppers = append(uppers, hi)
					hi = top
					continue
				}
			}
			if res.IncompleteResults {
				s.log().Warn("search results incomplete (GitHub timed out); the next round repeats them", slog.String("login", login), slog.String("search", sr.name))
			}
			pageMax := cursor
			for _, item := range res.Items {
				at, err := sr.item(s, ctx, w, u, item)
				if err != nil {
					return err
				}
				if at.After(pageMax) {
					pageMax = at
				}
			}
			if pageMax.After(cursor) {
				if err := s.advance(ctx, lr, sr.name, pageMax); err != nil {
					return err
				}
				cursor = pageMax
			}
			next = resp.NextPage
			if tag := resp.Header.Get("ETag"); tag != "" {
				pending = append(pending, pendingETag{url: u, e: etag{ETag: tag, Next: next}})
			}
			if cursor.After(lo) {
				lo, page, pending = cursor, 1, nil
				continue
			}
		}
		if next != 0 {
			page = next
			continue
		}
		if len(uppers) == 0 {
			break
		}
		// The range lo..hi is walked: everything up to hi is published.
		if hi.After(cursor) {
			if err := s.advance(ctx, lr, sr.name, hi); err != nil {
				return err
			}
			cursor = hi
		}
		lo, hi, uppers, page, pending = hi, uppers[len(uppers)-1], uppers[:len(uppers)-1], 1, nil
	}
	if err := s.flush(ctx, lr); err != nil {
		return err
	}
	return s.keepETags(ctx, pending)
}

// splitPoint returns the middle of lo..hi (hi zero: now), on a whole second, or false when the
// range is too short to split.
func splitPoint(lo, hi, now time.Time) (time.Time, bool) {
	if lo.IsZero() {
		lo = githubEpoch
	}
	if hi.IsZero() {
		hi = now
	}
	mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
	return mid, mid.After(lo) && mid.Before(hi)
}

// advance stores a search's cursor once what came before it is stored.
func (s *Syncer) advance(ctx context.Context, lr *loginRun, search string, t time.Time) error {
	if err := s.flush(ctx, lr); err != nil {
		return err
	}
	if err := s.storeCursor(ctx, search, lr.login, t); err != nil {
		return err
	}
	s.setCursor(lr.login, search, t)
	return nil
}

func (s *Syncer) setCursor(login, search string, t time.Time) {
	t = t.UTC()
	s.update(login, func(ls *events.RESTStatus) {
		if ls.Cursors == nil {
			ls.Cursors = map[string]time.Time{}
		}
		ls.Cursors[search] = t
		if search == SearchAuthor {
			ls.Cursor = t
		}
	})
}

// searchURL is the search sr of the login's results dated in lo..hi (lo zero: from the
// beginning; hi zero: open-ended), sorted by date ascending.
func searchURL(sr searchSpec, login string, lo, hi time.Time, page int) string {
	q := sr.qualifier(login)
	switch {
	case !hi.IsZero():
		if lo.IsZero() {
			lo = githubEpoch
		}
		q += " " + sr.field + ":" + lo.UTC().Format(time.RFC3339) + ".." + hi.UTC().Format(time.RFC3339)
	case !lo.IsZero():
		q += " " + sr.field + ":>=" + lo.UTC().Format(time.RFC3339)
	}
	v := url.Values{"q": {q}, "sort": {sr.field}, "order": {"asc"},
		"per_page": {strconv.Itoa(perPage)}, "page": {strconv.Itoa(page)}}
	return sr.endpoint + "?" + v.Encode()
}

// recordID is the REST record id: kind:owner/repo#number@updated_at.
func recordID(kind, repo string, number int, updated time.Time) string {
	return fmt.Sprintf("%s:%s#%d@%s", kind, repo, number, updated.UTC().Format(time.RFC3339))
}

// repoOf returns owner/name from a repository API URL (…/repos/owner/name), or "".
func repoOf(repositoryURL string) string {
	u, err := url.Parse(repositoryURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "repos" {
		return ""
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

// loadCursor returns the cursor of a search of the login, or Since when it has none.
func (s *Syncer) loadCursor(ctx context.Context, search, login string) (time.Time, error) {
	key := events.KeyRESTCursor(search, login)
	e, err := s.KV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return s.Since.UTC(), nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("githubsync: %s: read cursor %s: %w", login, key, err)
	}
	t, err := time.Parse(time.RFC3339Nano, string(e.Value()))
	if err != nil {
		return time.Time{}, fmt.Errorf("githubsync: %s: cursor %s = %q: %w", login, key, e.Value(), err)
	}
	return t, nil
}

func (s *Syncer) storeCursor(ctx context.Context, search, login string, t time.Time) error {
	key := events.KeyRESTCursor(search, login)
	if _, err := s.KV.Put(ctx, key, []byte(t.UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("githubsync: %s: store cursor %s: %w", login, key, err)
	}
	return nil
}
