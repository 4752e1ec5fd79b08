// Package githubsync collects the contributions of the roster's GitHub logins through the REST
// API. The Syncer gathers pull requests and issues authored, reviews, comments and commits
// incrementally: a cursor per login and search in the cursor bucket, advanced only after what
// came before it was published. The Hydrator fills trimmed GH Archive events. Both go through
// one REST value: conditional requests (ETags), so a cycle without news costs no rate limit, and
// several tokens, each request going to the one with the most left of its rate limit.
package githubsync

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
)

// NewClient returns a go-github client for baseURL: github.com when it is empty or
// api.github.com, GitHub Enterprise Server otherwise (https://ghe.example.com/api/v3/; the
// /api/v3/ suffix is added when missing). An empty token makes unauthenticated requests, which
// GitHub limits to 10 searches a minute.
func NewClient(baseURL, token string, httpClient *http.Client) (*github.Client, error) {
	c := github.NewClient(httpClient)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	if baseURL == "" {
		return c, nil
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("githubsync: base url %q must be an http(s) URL such as https://ghe.example.com/api/v3/", baseURL)
	}
	if strings.EqualFold(u.Hostname(), "api.github.com") {
		return c, nil
	}
	ghe, err := c.WithEnterpriseURLs(baseURL, baseURL)
	if err != nil {
		return nil, fmt.Errorf("githubsync: enterprise url %q: %w", baseURL, err)
	}
	return ghe, nil
}

// NewClients returns one client per token for baseURL (see NewClient); the syncer spreads its
// requests over them, each with its own rate limit. Blank tokens are skipped; with none, it
// returns one unauthenticated client.
func NewClients(baseURL string, tokens []string, httpClient *http.Client) ([]*github.Client, error) {
	var out []*github.Client
	for _, tok := range tokens {
		if tok = strings.TrimSpace(tok); tok == "" {
			continue
		}
		c, err := NewClient(baseURL, tok, httpClient)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		c, err := NewClient(baseURL, "", httpClient)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Rate limit resources the pool keeps a budget for: GitHub counts searches apart from the rest.
const (
	resourceCore   = "core"
	resourceSearch = "search"
)

// resourceOf returns the rate limit resource of a request URL relative to the API root.
func resourceOf(u string) string {
	if strings.HasPrefix(strings.TrimPrefix(u, "/"), "search/") {
		return resourceSearch
	}
	return resourceCore
}

// budget is what one token has left of one resource, as GitHub last reported it.
type budget struct {
	known     bool // a response reported it
	remaining int
	reset     time.Time
	blocked   time.Time // a secondary limit's Retry-After ends then
}

// available reports whether a request may be sent at now, and otherwise when it may.
func (b *budget) available(now time.Time) (bool, time.Time) {
	if now.Before(b.blocked) {
		return false, b.blocked
	}
	if end := b.reset.Add(resetSlack); b.known && b.remaining <= 0 && now.Before(end) {
		return false, end
	}
	return true, time.Time{}
}

// left is the budget's remaining requests for choosing among tokens; unknown or past its reset,
// it is the most a token can have.
func (b *budget) left(now time.Time) int {
	if !b.known || !now.Before(b.reset) {
		return math.MaxInt
	}
	return b.remaining
}

// pool shares the requests of every login among the tokens: each request goes to the token with
// the most requests left for its resource, ties taken in turn.
type pool struct {
	mu      sync.Mutex
	clients []*github.Client
	budgets []map[string]*budget
	refused []time.Time // until when each token is set aside after GitHub refused it (401)
	next    int
}

// refusedFor is how long a token GitHub refused (401 Bad credentials: revoked or expired) is
// set aside; its requests go to the other tokens meanwhile. Past it, the token is tried again,
// in case it was put back.
const refusedFor = 10 * time.Minute

// errTokensRefused is returned for a request when GitHub refused every token.
var errTokensRefused = errors.New("GitHub refused every token (401 Bad credentials): replace the revoked or expired token")

func newPool(clients []*github.Client) *pool {
	p := &pool{clients: clients, budgets: make([]map[string]*budget, len(clients)), refused: make([]time.Time, len(clients))}
	for i := range p.budgets {
		p.budgets[i] = map[string]*budget{}
	}
	return p
}

func (p *pool) budget(i int, resource string) *budget {
	b := p.budgets[i][resource]
	if b == nil {
		b = &budget{}
		p.budgets[i][resource] = b
	}
	return b
}

// pick returns the index of the client to use for resource, or, when every token is used up or
// blocked, -1 and how long until the first one may be used again. When every token left is
// refused, it returns errTokensRefused.
func (p *pool) pick(resource string, now time.Time) (int, time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	best, bestLeft := -1, -1
	var earliest time.Time
	for k := range p.clients {
		i := (p.next + k) % len(p.clients)
		if now.Before(p.refused[i]) {
			continue
		}
		b := p.budget(i, resource)
		ok, until := b.available(now)
		if !ok {
			if earliest.IsZero() || until.Before(earliest) {
				earliest = until
			}
			continue
		}
		if l := b.left(now); l > bestLeft {
			best, bestLeft = i, l
		}
	}
	if best < 0 && earliest.IsZero() {
		return -1, 0, errTokensRefused
	}
	if best < 0 {
		return -1, earliest.Sub(now), nil
	}
	p.next = (best + 1) % len(p.clients)
	if b := p.budget(best, resource); b.known && now.Before(b.reset) {
		b.remaining-- // spent, until the response says what is left
	}
	return best, 0, nil
}

// refuse sets client i aside for refusedFor: GitHub refused its token.
func (p *pool) refuse(i int, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused[i] = now.Add(refusedFor)
}

// observe records the rate limit a response of client i reported.
func (p *pool) observe(i int, resource string, rate github.Rate) {
	if rate.Limit <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.budget(i, resource)
	b.known, b.remaining, b.reset = true, rate.Remaining, rate.Reset.Time
}

// block keeps client i off resource until t (a secondary limit's Retry-After, or a primary
// limit's reset).
func (p *pool) block(i int, resource string, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.budget(i, resource)
	if t.After(b.blocked) {
		b.blocked = t
	}
}
