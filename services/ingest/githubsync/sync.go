package githubsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// Kinds of the records the syncer publishes.
const (
	KindPullRequest       = "pull_request"
	KindIssue             = "issue"
	KindPullRequestDetail = "pull_request_detail"
)

// perPage is the search page size, GitHub's maximum.
const perPage = 100

// maxAttempts bounds the tries of one request through rate limits.
const maxAttempts = 6

// Syncer searches, for each login, the pull requests and issues it authored that changed since
// its cursor, and publishes each with, for a pull request, its details (merged, merged_at).
type Syncer struct {
	Client *github.Client
	Logins []string
	// KV keeps a cursor per login (events.BucketCursors).
	KV jetstream.KeyValue
	// Publish sends a record on the bus.
	Publish func(ctx context.Context, r *events.Raw) error
	// Flush, when set, waits until every record published so far is stored, and reports the
	// first failure; a cursor moves only after it returned nil. Leave it nil when Publish is
	// synchronous.
	Flush func(ctx context.Context) error
	// Since is where a login without a cursor starts; zero means from the beginning.
	Since time.Time
	// MaxWait is the longest the syncer waits for a rate limit to reset (default 1h); a longer
	// wait fails the login until the next run.
	MaxWait time.Duration
	Log     *slog.Logger

	mu     sync.Mutex
	status map[string]*LoginStatus

	sleep func(ctx context.Context, d time.Duration) error // tests watch the waits
}

// LoginStatus is what the last sync of one login did.
type LoginStatus struct {
	Login     string
	LastSync  time.Time // when the last sync of the login ended
	Cursor    time.Time // updated_at reached
	Items     int       // records published by the last sync
	Err       string    // the last sync's error, empty when it succeeded
	Remaining int       // requests left in the rate limit GitHub reported last
	Reset     time.Time // when that rate limit resets
}

// Stats counts what SyncOnce did.
type Stats struct {
	Logins       int // logins synced without error
	Failed       int // logins whose sync failed
	Items        int // search results published (repeats included)
	PullRequests int // pull request details published
	Requests     int
}

// CursorKey returns the KV key of a login's cursor.
func CursorKey(login string) string { return "rest.author." + strings.ToLower(login) }

// Status returns the status of every login synced so far, sorted by login.
func (s *Syncer) Status() []LoginStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LoginStatus, 0, len(s.status))
	for _, st := range s.status {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Login < out[j].Login })
	return out
}

func (s *Syncer) update(login string, f func(*LoginStatus)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == nil {
		s.status = map[string]*LoginStatus{}
	}
	st := s.status[login]
	if st == nil {
		st = &LoginStatus{Login: login}
		s.status[login] = st
	}
	f(st)
}

func (s *Syncer) log() *slog.Logger {
	l := s.Log
	if l == nil {
		l = slog.Default()
	}
	return l.With(slog.String("component", "githubsync"))
}

// Run syncs at once and then every interval until ctx ends. Failures are logged and visible in
// Status; the next round retries them.
func (s *Syncer) Run(ctx context.Context, interval time.Duration) {
	log := s.log()
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
				slog.Int("pull_requests", st.PullRequests), slog.Int("requests", st.Requests))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SyncOnce syncs every login once. A login that fails is reported and the others still run;
// the errors are joined. It stops early only when ctx ends.
func (s *Syncer) SyncOnce(ctx context.Context) (Stats, error) {
	var total Stats
	var errs []error
	for _, login := range s.Logins {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		st, err := s.syncLogin(ctx, login)
		total.Items += st.Items
		total.PullRequests += st.PullRequests
		total.Requests += st.Requests
		s.update(login, func(ls *LoginStatus) {
			ls.LastSync = time.Now().UTC()
			ls.Items = st.Items + st.PullRequests
			ls.Err = ""
			if err != nil {
				ls.Err = err.Error()
			}
		})
		if err != nil {
			total.Failed++
			errs = append(errs, err)
			s.log().Warn("login sync failed", slog.String("login", login), slog.Any("err", err))
			continue
		}
		total.Logins++
	}
	return total, errors.Join(errs...)
}

// searchPage is a search response with its items kept as GitHub sent them.
type searchPage struct {
	TotalCount        int               `json:"total_count"`
	IncompleteResults bool              `json:"incomplete_results"`
	Items             []json.RawMessage `json:"items"`
}

// itemHead is what the syncer reads of an issue or pull request.
type itemHead struct {
	Number        int             `json:"number"`
	UpdatedAt     time.Time       `json:"updated_at"`
	RepositoryURL string          `json:"repository_url"`
	PullRequest   json.RawMessage `json:"pull_request"`
}

// syncLogin walks the login's search results from its cursor. Pages come sorted by updated_at
// ascending; after a page whose items moved the cursor, the search restarts from the new cursor
// (keyset paging), so an item updated meanwhile, which moves to the end and shifts the pages,
// cannot make the walk skip another, and the 1,000-result cap of a search never binds. Only a
// page whose items all share the cursor's instant is left by its Link rel="next".
func (s *Syncer) syncLogin(ctx context.Context, login string) (Stats, error) {
	var st Stats
	cursor, err := s.loadCursor(ctx, login)
	if err != nil {
		return st, err
	}
	s.update(login, func(ls *LoginStatus) { ls.Cursor = cursor })
	queryCursor, page := cursor, 1
	for {
		u := searchURL(login, queryCursor, page)
		var res searchPage
		resp, err := s.get(ctx, login, u, &res)
		st.Requests++
		if err != nil {
			return st, fmt.Errorf("githubsync: %s: search: %w", login, err)
		}
		if res.IncompleteResults {
			s.log().Warn("search results incomplete (GitHub timed out); the next round repeats them", slog.String("login", login))
		}
		pageMax := cursor
		for _, item := range res.Items {
			updated, n, err := s.publishItem(ctx, login, u, item, &st)
			if err != nil {
				return st, err
			}
			st.PullRequests += n
			if updated.After(pageMax) {
				pageMax = updated
			}
		}
		if pageMax.After(cursor) {
			if s.Flush != nil {
				if err := s.Flush(ctx); err != nil {
					return st, fmt.Errorf("githubsync: %s: publish: %w", login, err)
				}
			}
			if err := s.storeCursor(ctx, login, pageMax); err != nil {
				return st, err
			}
			cursor = pageMax
			s.update(login, func(ls *LoginStatus) { ls.Cursor = cursor })
		}
		if resp.NextPage == 0 {
			break
		}
		if cursor.After(queryCursor) {
			queryCursor, page = cursor, 1
		} else {
			page = resp.NextPage
		}
	}
	if s.Flush != nil {
		if err := s.Flush(ctx); err != nil {
			return st, fmt.Errorf("githubsync: %s: publish: %w", login, err)
		}
	}
	return st, nil
}

// searchURL is the search of the login's issues and pull requests updated at or after since.
func searchURL(login string, since time.Time, page int) string {
	q := "author:" + login
	if !since.IsZero() {
		q += " updated:>=" + since.UTC().Format(time.RFC3339)
	}
	v := url.Values{"q": {q}, "sort": {"updated"}, "order": {"asc"},
		"per_page": {strconv.Itoa(perPage)}, "page": {strconv.Itoa(page)}}
	return "search/issues?" + v.Encode()
}

// publishItem publishes one search result and, for a pull request, its details. It returns the
// item's updated_at and how many details it published.
func (s *Syncer) publishItem(ctx context.Context, login, origin string, item json.RawMessage, st *Stats) (time.Time, int, error) {
	var head itemHead
	if err := json.Unmarshal(item, &head); err != nil {
		return time.Time{}, 0, fmt.Errorf("githubsync: %s: search item: %w", login, err)
	}
	repo := repoOf(head.RepositoryURL)
	if repo == "" || head.Number == 0 || head.UpdatedAt.IsZero() {
		return time.Time{}, 0, fmt.Errorf("githubsync: %s: search item without repository_url, number or updated_at: %.200s", login, item)
	}
	kind := KindIssue
	if len(head.PullRequest) > 0 && string(head.PullRequest) != "null" {
		kind = KindPullRequest
	}
	number := strconv.Itoa(head.Number)
	meta := map[string]string{"repo": repo, "number": number, "login": login}
	raw := &events.Raw{
		Schema:    events.SchemaRaw,
		Source:    events.SourceREST,
		Kind:      kind,
		ID:        recordID(kind, repo, head.Number, head.UpdatedAt),
		FetchedAt: time.Now().UTC(),
		Origin:    "GET " + origin,
		Meta:      meta,
		Payload:   item,
	}
	if err := s.Publish(ctx, raw); err != nil {
		return time.Time{}, 0, fmt.Errorf("githubsync: %s: publish %s: %w", login, raw.ID, err)
	}
	st.Items++
	if kind != KindPullRequest {
		return head.UpdatedAt, 0, nil
	}

	owner, name, _ := strings.Cut(repo, "/")
	u := fmt.Sprintf("repos/%s/%s/pulls/%d", url.PathEscape(owner), url.PathEscape(name), head.Number)
	var pr json.RawMessage
	if _, err := s.get(ctx, login, u, &pr); err != nil {
		return time.Time{}, 0, fmt.Errorf("githubsync: %s: pull request %s#%d: %w", login, repo, head.Number, err)
	}
	st.Requests++
	var prHead struct {
		UpdatedAt time.Time `json:"updated_at"`
	}
	if err := json.Unmarshal(pr, &prHead); err != nil {
		return time.Time{}, 0, fmt.Errorf("githubsync: %s: pull request %s#%d: %w", login, repo, head.Number, err)
	}
	if prHead.UpdatedAt.IsZero() {
		prHead.UpdatedAt = head.UpdatedAt
	}
	detail := &events.Raw{
		Schema:    events.SchemaRaw,
		Source:    events.SourceREST,
		Kind:      KindPullRequestDetail,
		ID:        recordID(KindPullRequestDetail, repo, head.Number, prHead.UpdatedAt),
		FetchedAt: time.Now().UTC(),
		Origin:    "GET " + u,
		Meta:      map[string]string{"repo": repo, "number": number, "login": login},
		Payload:   pr,
	}
	if err := s.Publish(ctx, detail); err != nil {
		return time.Time{}, 0, fmt.Errorf("githubsync: %s: publish %s: %w", login, detail.ID, err)
	}
	return head.UpdatedAt, 1, nil
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

// get sends a GET through go-github, decoding the JSON into v, and waits out rate limits:
// a primary limit until its reset, a secondary one for its Retry-After. When a response says no
// request is left, it waits for the reset before returning, so the next request goes through.
func (s *Syncer) get(ctx context.Context, login, u string, v any) (*github.Response, error) {
	for attempt := 1; ; attempt++ {
		req, err := s.Client.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("request %s: %w", u, err)
		}
		resp, err := s.Client.Do(ctx, req, v)
		if resp != nil && resp.Rate.Limit > 0 {
			rate := resp.Rate
			s.update(login, func(ls *LoginStatus) { ls.Remaining, ls.Reset = rate.Remaining, rate.Reset.Time })
		}
		if err == nil {
			if resp.Rate.Limit > 0 && resp.Rate.Remaining == 0 {
				if err := s.wait(ctx, login, "rate limit used up", time.Until(resp.Rate.Reset.Time)+time.Second); err != nil {
					return nil, err
				}
			}
			return resp, nil
		}
		var d time.Duration
		var rle *github.RateLimitError
		var abuse *github.AbuseRateLimitError
		switch {
		case errors.As(err, &rle):
			d = time.Until(rle.Rate.Reset.Time) + time.Second
		case errors.As(err, &abuse):
			d = abuse.GetRetryAfter()
			if d <= 0 {
				d = time.Minute
			}
		case resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusForbidden) &&
			resp.Header.Get("Retry-After") != "":
			secs, perr := strconv.Atoi(resp.Header.Get("Retry-After"))
			if perr != nil {
				return nil, err
			}
			d = time.Duration(secs) * time.Second
		default:
			return nil, err
		}
		if attempt == maxAttempts {
			return nil, fmt.Errorf("still rate limited after %d attempts: %w", attempt, err)
		}
		if werr := s.wait(ctx, login, "rate limited", d); werr != nil {
			return nil, fmt.Errorf("%w (after: %w)", werr, err)
		}
	}
}

// wait sleeps d unless ctx ends first or d is longer than MaxWait.
func (s *Syncer) wait(ctx context.Context, login, why string, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	limit := s.MaxWait
	if limit <= 0 {
		limit = time.Hour
	}
	if d > limit {
		return fmt.Errorf("githubsync: %s: %s for %s, longer than the %s allowed", login, why, d.Round(time.Second), limit)
	}
	s.log().Info("waiting on GitHub rate limit", slog.String("login", login), slog.String("why", why), slog.Duration("wait", d))
	if s.sleep != nil {
		return s.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// loadCursor returns the login's cursor, or Since when it has none.
func (s *Syncer) loadCursor(ctx context.Context, login string) (time.Time, error) {
	e, err := s.KV.Get(ctx, CursorKey(login))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return s.Since.UTC(), nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("githubsync: %s: read cursor: %w", login, err)
	}
	t, err := time.Parse(time.RFC3339Nano, string(e.Value()))
	if err != nil {
		return time.Time{}, fmt.Errorf("githubsync: %s: cursor %s = %q: %w", login, CursorKey(login), e.Value(), err)
	}
	return t, nil
}

func (s *Syncer) storeCursor(ctx context.Context, login string, t time.Time) error {
	if _, err := s.KV.Put(ctx, CursorKey(login), []byte(t.UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("githubsync: %s: store cursor: %w", login, err)
	}
	return nil
}
