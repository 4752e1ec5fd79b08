package githubsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// REST is the GitHub REST API as the Syncer and the Hydrator use it, one value they share: the
// clients, one per token, each request sent with the token that has the most left of its rate
// limit; the ETags of the responses processed; and the publication of the records.
//
// Every request is conditional: the ETag of each processed response is kept (in memory and in
// the KV bucket), and a 304 — free of rate limit — means nothing new.
type REST struct {
	// Clients are the clients to spread requests over, one per token (NewClients).
	Clients []*github.Client
	// Client is used when Clients is empty.
	Client *github.Client
	// KV keeps the ETags (events.BucketCursors).
	KV jetstream.KeyValue
	// Publish sends a record on the bus.
	Publish func(ctx context.Context, r *events.Raw) error
	// Flush, when set, waits until every record published so far is stored, and reports the
	// first failure; a cursor moves only after it returned nil. Leave it nil when Publish is
	// synchronous.
	Flush func(ctx context.Context) error
	// MaxWait is the longest a request waits for a rate limit to reset (default 1h); a longer
	// wait fails it.
	MaxWait time.Duration
	// RequestTimeout bounds each request, its answer read in full (default 1 min). A request
	// that times out is tried again, as one that failed on the way or got a 5xx answer.
	RequestTimeout time.Duration
	Log            *slog.Logger

	poolOnce sync.Once
	pool     *pool

	mu    sync.Mutex
	etags map[string]etag // by request URL; an empty ETag records a miss

	sleep      func(ctx context.Context, d time.Duration) error // tests watch the waits
	retryDelay time.Duration                                    // the first wait before a transient failure is retried; tests shorten it
}

// maxAttempts bounds the tries of one request through rate limits.
const maxAttempts = 6

// maxTransient bounds the tries of one request that fails on the way (a reset connection, a
// timeout) or gets a 5xx answer; the waits between them double from retryDelay (1 s, 2 s, 4 s).
// A request still failing after them fails its search, which the next round resumes from its
// cursor.
const maxTransient = 4

// errUnavailable marks a request that failed transiently maxTransient times: GitHub, or the
// way to it, is down, and the round stops rather than try every other login in vain.
var errUnavailable = errors.New("GitHub unavailable")

// defaultRequestTimeout is RequestTimeout's default.
const defaultRequestTimeout = time.Minute

// resetSlack is added to a rate limit's reset (a whole second in GitHub's header) before the
// token is used again.
const resetSlack = time.Second

// loginRun is the state of one login's sync, or of one hydration (login empty).
type loginRun struct {
	login string
	st    *Stats
	// rate, when set, is told the rate limit GitHub reported with each answer.
	rate func(remaining int, reset time.Time)
	// published holds the ids of the search results published in this sync, so an item found
	// by several searches is published (and its details fetched) once.
	published map[string]bool
	// pending holds the ETags of the responses of the details, reviews and comments published
	// since the last flush: they are kept once the flush says the records are stored.
	pending []pendingETag
}

func (s *REST) log() *slog.Logger {
	l := s.Log
	if l == nil {
		l = slog.Default()
	}
	return l.With(slog.String("component", "githubsync"))
}

// clients returns the pool of the clients.
func (s *REST) clients() *pool {
	s.poolOnce.Do(func() {
		cs := s.Clients
		if len(cs) == 0 && s.Client != nil {
			cs = []*github.Client{s.Client}
		}
		s.pool = newPool(cs)
	})
	return s.pool
}

// flush waits until every record published is stored, then keeps the ETags of the responses
// they came from.
func (s *REST) flush(ctx context.Context, lr *loginRun) error {
	if s.Flush != nil {
		if err := s.Flush(ctx); err != nil {
			return fmt.Errorf("githubsync: %s: publish: %w", lr.login, err)
		}
	}
	pending := lr.pending
	lr.pending = nil
	return s.keepETags(ctx, pending)
}

// get sends a conditional GET through go-github, decoding the JSON into v. It returns the kept
// ETag, non-nil, when GitHub answered 304 Not Modified (v is then untouched).
//
// The request goes with the token that has the most left of its rate limit. A token that hit a
// primary limit is set aside until its reset, one that hit a secondary limit for its
// Retry-After, one GitHub refused (401) for refusedFor; when every token is set aside for a
// rate limit, get waits for the first to come back, and when every one was refused, it fails.
func (s *REST) get(ctx context.Context, lr *loginRun, u string, v any) (*github.Response, *etag, error) {
	kept, conditional, err := s.lookupETag(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	p := s.clients()
	resource := resourceOf(u)
	attempts := maxAttempts + 2*len(p.clients)
	transient := 0
	for attempt := 1; ; attempt++ {
		i, d, err := p.pick(resource, time.Now())
		if err != nil {
			return nil, nil, err
		}
		if i < 0 {
			if attempt >= attempts {
				return nil, nil, fmt.Errorf("still rate limited after %d attempts", attempt)
			}
			if err := s.wait(ctx, lr.login, "rate limit used up on every token", d); err != nil {
				return nil, nil, err
			}
			continue
		}
		c := p.clients[i]
		req, err := c.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("request %s: %w", u, err)
		}
		if conditional {
			req.Header.Set("If-None-Match", kept.ETag)
		}
		resp, err := s.do(ctx, c, req, v)
		if resp != nil && resp.Response != nil && len(resp.Header) > 0 { // not go-github's refusal before sending
			if resp.StatusCode == http.StatusNotModified {
				lr.st.NotModified++
			} else {
				lr.st.Requests++
			}
			p.observe(i, resource, resp.Rate)
			if resp.Rate.Limit > 0 && lr.rate != nil {
				remaining, reset := resp.Rate.Remaining, resp.Rate.Reset.Time
				if reset.After(time.Now().Add(24 * time.Hour)) {
					reset = time.Time{} // not a reset GitHub would send (a recording in milliseconds)
				}
				lr.rate(remaining, reset)
			}
		}
		if resp != nil && resp.StatusCode == http.StatusNotModified && conditional {
			return resp, &kept, nil
		}
		if err == nil {
			return resp, nil, nil
		}
		var rle *github.RateLimitError
		var abuse *github.AbuseRateLimitError
		switch {
		case errors.As(err, &rle):
			p.observe(i, resource, rle.Rate)
			p.block(i, resource, rle.Rate.Reset.Time.Add(resetSlack))
		case errors.As(err, &abuse):
			d := abuse.GetRetryAfter()
			if d <= 0 {
				d = time.Minute
			}
			p.block(i, resource, time.Now().Add(d+retrySlack))
		case resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusForbidden) &&
			resp.Header.Get("Retry-After") != "":
			secs, perr := strconv.Atoi(resp.Header.Get("Retry-After"))
			if perr != nil {
				return nil, nil, err
			}
			p.block(i, resource, time.Now().Add(time.Duration(secs)*time.Second+retrySlack))
		case resp != nil && resp.Response != nil && resp.StatusCode == http.StatusUnauthorized:
			// The token is revoked or expired: the request goes with another, if any.
			s.log().Warn("GitHub refused a token; using the others for a while", slog.Int("token", i+1),
				slog.Int("tokens", len(p.clients)), slog.Duration("set_aside", refusedFor), slog.Any("err", err))
			p.refuse(i, time.Now())
			attempt--
			continue
		case ctx.Err() == nil && isTransient(resp, err):
			if transient+1 >= maxTransient {
				return nil, nil, fmt.Errorf("%w: %d tries failed: %w", errUnavailable, transient+1, err)
			}
			transient++
			attempt-- // not a rate limit: it does not count against those tries
			if err := s.backoff(ctx, lr.login, u, transient, err); err != nil {
				return nil, nil, err
			}
			continue
		default:
			return nil, nil, err
		}
		if attempt >= attempts {
			return nil, nil, fmt.Errorf("still rate limited after %d attempts: %w", attempt, err)
		}
	}
}

// do sends req with c, bounded by RequestTimeout.
func (s *REST) do(ctx context.Context, c *github.Client, req *http.Request, v any) (*github.Response, error) {
	timeout := s.RequestTimeout
	if timeout <= 0 {
		timeout = defaultRequestTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.Do(rctx, req, v)
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		err = fmt.Errorf("no complete answer within %s: %w", timeout, errRequestTimeout)
	}
	return resp, err
}

// errRequestTimeout marks a request that took longer than RequestTimeout.
var errRequestTimeout = errors.New("request timed out")

// isTransient reports whether a failed request may succeed if sent again: GitHub answered 5xx,
// or the request failed on the way (reset connection, timeout, truncated answer). A 4xx answer
// is not: it says what is wrong with the request or its token.
func isTransient(resp *github.Response, err error) bool {
	if resp != nil && resp.Response != nil && resp.StatusCode >= 500 {
		return true
	}
	var ge *github.ErrorResponse
	if errors.As(err, &ge) {
		return ge.Response != nil && ge.Response.StatusCode >= 500
	}
	if errors.Is(err, errRequestTimeout) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // what the transport met, not a failure of ours such as a bad URL
	}
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// backoff waits before the n-th new try of a request that failed transiently.
func (s *REST) backoff(ctx context.Context, login, u string, n int, cause error) error {
	d := s.retryDelay
	if d <= 0 {
		d = time.Second
	}
	d <<= n - 1
	s.log().Warn("GitHub request failed; trying again", slog.String("login", login), slog.String("url", u),
		slog.Int("try", n+1), slog.Duration("wait", d), slog.Any("err", cause))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retrySlack is added to a Retry-After, so go-github's own check of it has passed.
const retrySlack = 250 * time.Millisecond

// wait sleeps d unless ctx ends first or d is longer than MaxWait.
func (s *REST) wait(ctx context.Context, login, why string, d time.Duration) error {
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
