package githubsync

import (
	"context"
	"crypto/sha1" // #nosec G505 -- key names, not signatures
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// Hydration fills trimmed GH Archive events from the REST API (events.Hydrate): a pull request's
// details — author, title, state, merge — and a push's commits. The records it publishes are the
// REST records the sync publishes (pull_request_detail, commit), so enrich maps them onto the
// canonical ids the trimmed events already have and the stored rows are updated.
//
// A pull request found open is kept on a watch list in the KV bucket (OpenKey) and fetched again
// by RecheckOpen, conditionally — a 304 costs no rate limit — until it is closed: the event that
// closes it may be by someone the GH Archive filter does not keep, and it is trimmed anyway.

// OpenKeyPrefix prefixes the KV keys of the open pull requests hydration watches.
const OpenKeyPrefix = "hydrate.open."

// OpenKey returns the KV key of a watched pull request: hydrate.open.<sha1 of owner/name#n>.
func OpenKey(repo string, number int) string {
	sum := sha1.Sum([]byte(strings.ToLower(repo) + "#" + strconv.Itoa(number))) // #nosec G401 -- a key name
	return OpenKeyPrefix + hex.EncodeToString(sum[:])
}

// openPull is the value of an OpenKey.
type openPull struct {
	Repo   string    `json:"repo"`
	Number int       `json:"number"`
	Actor  string    `json:"actor"`
	Since  time.Time `json:"since"` // when hydration first found it open
}

// HydrationStatus is what hydration did since it was first set up (resumed from the KV bucket at
// start).
type HydrationStatus struct {
	Requests     int       `json:"requests"`      // hydration requests handled
	PullRequests int       `json:"pull_requests"` // pull request details published
	Commits      int       `json:"commits"`       // commits published
	Gone         int       `json:"gone"`          // objects GitHub no longer shows (deleted, private, force-pushed away)
	Invalid      int       `json:"invalid"`       // requests with a value that may not go into an API path: not requested
	Counted      int       `json:"counted"`       // requests the rate limit counted
	NotModified  int       `json:"not_modified"`  // 304 answers (free)
	Watched      int       `json:"watched"`       // open pull requests re-checked each cycle
	LastError    string    `json:"last_error"`
	LastAt       time.Time `json:"last_at,omitzero"`
}

// HydrationStatusKey is the KV key of the HydrationStatus, as JSON, for the report service.
const HydrationStatusKey = "status.hydrate"

// HydrationStatus returns what hydration did so far.
func (s *Syncer) HydrationStatus() HydrationStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hydration
}

// resumeHydrationStatus starts the counters from the status a previous run kept in the KV
// bucket, once, so they count since hydration was first set up, not since the last start.
func (s *Syncer) resumeHydrationStatus(ctx context.Context) {
	s.hydrationOnce.Do(func() {
		e, err := s.KV.Get(ctx, HydrationStatusKey)
		if err != nil {
			if !errors.Is(err, jetstream.ErrKeyNotFound) {
				s.log().Warn("hydration: previous status unreadable; counting from zero", slog.Any("err", err))
			}
			return
		}
		var prev HydrationStatus
		if err := json.Unmarshal(e.Value(), &prev); err != nil {
			s.log().Warn("hydration: previous status malformed; counting from zero", slog.Any("err", err))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hydration = prev
	})
}

func (s *Syncer) noteHydration(st Stats, f func(*HydrationStatus)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hydration.Counted += st.Requests
	s.hydration.NotModified += st.NotModified
	s.hydration.PullRequests += st.PullRequests
	s.hydration.Commits += st.Commits
	s.hydration.LastAt = time.Now().UTC()
	if f != nil {
		f(&s.hydration)
	}
}

// Hydrate fetches what a trimmed event lacks and publishes it; it returns once the records are
// stored on the bus. An object GitHub no longer shows is counted and is not an error. A request
// with a repository, number or SHA that GitHub would not have made (h.Validate) is counted,
// logged and not requested; the error wraps events.ErrInvalid, so it is not retried.
func (s *Syncer) Hydrate(ctx context.Context, h events.Hydrate) error {
	s.resumeHydrationStatus(ctx)
	if err := h.Validate(); err != nil {
		s.log().Warn("hydration request refused", slog.Any("err", err))
		s.noteHydration(Stats{}, func(hs *HydrationStatus) {
			hs.Requests++
			hs.Invalid++
			hs.LastError = err.Error()
		})
		return errors.Join(fmt.Errorf("githubsync: %w", err), s.storeHydrationStatus(ctx))
	}
	var st Stats
	lr := &loginRun{st: &st, published: map[string]bool{}}
	var err error
	switch h.Kind {
	case events.HydratePullRequest:
		err = s.hydratePull(ctx, lr, h.Repo, h.Number, h.Actor, h.RawID)
	case events.HydratePush:
		err = s.hydratePush(ctx, lr, h)
	default:
		err = fmt.Errorf("githubsync: hydrate %s: kind %q: want %s or %s", h.RawID, h.Kind, events.HydratePullRequest, events.HydratePush)
	}
	if err == nil {
		err = s.flush(ctx, lr)
	}
	s.noteHydration(st, func(hs *HydrationStatus) {
		hs.Requests++
		if err != nil {
			hs.LastError = err.Error()
		}
	})
	return errors.Join(err, s.storeHydrationStatus(ctx))
}

// storeHydrationStatus keeps the status in the KV bucket.
func (s *Syncer) storeHydrationStatus(ctx context.Context) error {
	b, err := json.Marshal(s.HydrationStatus())
	if err != nil {
		return fmt.Errorf("githubsync: hydration status: %w", err)
	}
	if _, err := s.KV.Put(context.WithoutCancel(ctx), HydrationStatusKey, b); err != nil {
		return fmt.Errorf("githubsync: store hydration status: %w", err)
	}
	return nil
}

// watchedKeys returns the keys of the watched pull requests.
func (s *Syncer) watchedKeys(ctx context.Context) ([]string, error) {
	lister, err := s.KV.ListKeysFiltered(ctx, OpenKeyPrefix+">")
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("githubsync: list watched pull requests: %w", err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	return keys, nil
}

// gone reports whether GitHub answered that the object is not there (any more, or to this
// token): retrying would not change it.
func gone(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return false
	}
	switch er.Response.StatusCode {
	case http.StatusNotFound, http.StatusGone, http.StatusUnprocessableEntity, http.StatusUnavailableForLegalReasons:
		return true
	}
	return false
}

func (s *Syncer) countGone(what string, err error) {
	s.log().Info("hydration: GitHub no longer shows it", slog.String("object", what), slog.Any("err", err))
	s.noteHydration(Stats{}, func(hs *HydrationStatus) { hs.Gone++ })
}

// hydratePull publishes the pull request's details and keeps it on the watch list while open.
func (s *Syncer) hydratePull(ctx context.Context, lr *loginRun, repo string, number int, actor, rawID string) error {
	if !events.ValidRepo(repo) || !events.ValidNumber(number) {
		return fmt.Errorf("githubsync: hydrate %s: pull request %.120q#%d: %w: want owner/name and a number GitHub allows", rawID, repo, number, events.ErrInvalid)
	}
	u := fmt.Sprintf("%s/pulls/%d", repoPath(repo), number)
	var pr json.RawMessage
	resp, kept, err := s.get(ctx, lr, u, &pr)
	if gone(err) {
		s.countGone(repo+"#"+strconv.Itoa(number), err)
		return s.unwatch(ctx, repo, number)
	}
	if err != nil {
		return fmt.Errorf("githubsync: hydrate pull request %s#%d: %w", repo, number, err)
	}
	if kept != nil {
		return nil // this state was published before; the watch list is as it was
	}
	var head struct {
		UpdatedAt time.Time `json:"updated_at"`
		State     string    `json:"state"`
	}
	if err := json.Unmarshal(pr, &head); err != nil || head.UpdatedAt.IsZero() {
		return fmt.Errorf("githubsync: hydrate pull request %s#%d: answer without updated_at: %.200s", repo, number, pr)
	}
	meta := map[string]string{"repo": repo, "number": strconv.Itoa(number), "login": actor, "hydrates": rawID}
	if err := s.noteFirstResponse(ctx, lr, repo, number, pr, meta); err != nil {
		return err
	}
	r := raw(KindPullRequestDetail, recordID(KindPullRequestDetail, repo, number, head.UpdatedAt), u, meta, pr)
	if err := s.publish(ctx, "hydrate", r); err != nil {
		return err
	}
	lr.st.PullRequests++
	lr.keepAfterFlush(u, resp, 0)
	if err := s.flush(ctx, lr); err != nil {
		return err
	}
	if head.State == "open" {
		return s.watch(ctx, openPull{Repo: repo, Number: number, Actor: actor, Since: time.Now().UTC()})
	}
	return s.unwatch(ctx, repo, number)
}

func (s *Syncer) watch(ctx context.Context, p openPull) error {
	key := OpenKey(p.Repo, p.Number)
	if _, err := s.KV.Get(ctx, key); err == nil {
		return nil // watched already: keep when it was first seen open
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("githubsync: watch %s#%d: %w", p.Repo, p.Number, err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("githubsync: watch %s#%d: %w", p.Repo, p.Number, err)
	}
	if _, err := s.KV.Put(ctx, key, b); err != nil {
		return fmt.Errorf("githubsync: watch %s#%d: %w", p.Repo, p.Number, err)
	}
	return nil
}

func (s *Syncer) unwatch(ctx context.Context, repo string, number int) error {
	if err := s.KV.Delete(ctx, OpenKey(repo, number)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("githubsync: unwatch %s#%d: %w", repo, number, err)
	}
	return nil
}

// RecheckOpen fetches every watched open pull request again and returns how many are still
// watched. Each fetch is conditional: an unchanged pull request costs no rate limit. A failing
// one is reported and the others still run.
func (s *Syncer) RecheckOpen(ctx context.Context) (int, error) {
	s.resumeHydrationStatus(ctx)
	keys, err := s.watchedKeys(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, k := range keys {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		e, err := s.KV.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("githubsync: watched pull request %s: %w", k, err))
			continue
		}
		var p openPull
		if err := json.Unmarshal(e.Value(), &p); err != nil {
			s.log().Warn("hydration: unreadable watch entry dropped", slog.String("key", k), slog.Any("err", err))
			if derr := s.KV.Delete(ctx, k); derr != nil {
				errs = append(errs, derr)
			}
			continue
		}
		var st Stats
		lr := &loginRun{st: &st, published: map[string]bool{}}
		err = s.hydratePull(ctx, lr, p.Repo, p.Number, p.Actor, "recheck")
		if err == nil {
			err = s.flush(ctx, lr)
		}
		s.noteHydration(st, nil)
		if err != nil {
			errs = append(errs, err)
		}
	}
	still, err := s.watchedKeys(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	s.noteHydration(Stats{}, func(hs *HydrationStatus) {
		hs.Watched = len(still)
		if len(errs) > 0 {
			hs.LastError = errors.Join(errs...).Error()
		}
	})
	errs = append(errs, s.storeHydrationStatus(ctx))
	return len(still), errors.Join(errs...)
}

// zeroSHA is a push's before on a new branch.
const zeroSHA = "0000000000000000000000000000000000000000"

// hydratePush publishes the commits of a push: those between its before and head, or, for a
// new branch (nothing to compare with) or a before that a force push took away, its head commit.
func (s *Syncer) hydratePush(ctx context.Context, lr *loginRun, h events.Hydrate) error {
	if err := h.Validate(); err != nil {
		return fmt.Errorf("githubsync: %w", err)
	}
	meta := map[string]string{"repo": h.Repo, "login": h.Actor, "hydrates": h.RawID}
	if h.Before != "" && h.Before != zeroSHA {
		u := fmt.Sprintf("%s/compare/%s...%s", repoPath(h.Repo), h.Before, h.Head)
		var cmp struct {
			TotalCommits int               `json:"total_commits"`
			Commits      []json.RawMessage `json:"commits"`
		}
		resp, kept, err := s.get(ctx, lr, u, &cmp)
		switch {
		case gone(err):
			s.log().Info("hydration: push base no longer there; taking its head commit", slog.String("repo", h.Repo), slog.String("before", h.Before))
		case err != nil:
			return fmt.Errorf("githubsync: hydrate push %s %s...%s: %w", h.Repo, h.Before, h.Head, err)
		case kept != nil:
			return nil
		default:
			if cmp.TotalCommits > len(cmp.Commits) {
				s.log().Warn("hydration: push has more commits than GitHub's compare lists; the first are kept",
					slog.String("repo", h.Repo), slog.Int("total", cmp.TotalCommits), slog.Int("listed", len(cmp.Commits)))
			}
			for _, c := range cmp.Commits {
				if err := s.publishCommit(ctx, lr, u, h.Repo, meta, c); err != nil {
					return err
				}
			}
			lr.keepAfterFlush(u, resp, 0)
			return nil
		}
	}
	u := fmt.Sprintf("%s/commits/%s", repoPath(h.Repo), h.Head)
	var c json.RawMessage
	resp, kept, err := s.get(ctx, lr, u, &c)
	switch {
	case gone(err):
		s.countGone(h.Repo+"@"+h.Head, err)
		return nil
	case err != nil:
		return fmt.Errorf("githubsync: hydrate push %s@%s: %w", h.Repo, h.Head, err)
	case kept != nil:
		return nil
	}
	if err := s.publishCommit(ctx, lr, u, h.Repo, meta, c); err != nil {
		return err
	}
	lr.keepAfterFlush(u, resp, 0)
	return nil
}

func (s *Syncer) publishCommit(ctx context.Context, lr *loginRun, u, repo string, meta map[string]string, c json.RawMessage) error {
	var head struct {
		SHA string `json:"sha"`
	}
	if err := json.Unmarshal(c, &head); err != nil || head.SHA == "" {
		return fmt.Errorf("githubsync: hydrate push to %s: commit without sha: %.200s", repo, c)
	}
	if err := s.publish(ctx, "hydrate", raw(KindCommit, "commit:"+repo+"@"+head.SHA, u, meta, c)); err != nil {
		return err
	}
	lr.st.Commits++
	return nil
}

// noteFirstResponse sets meta["first_response_at"] to when someone other than the pull
// request's author, and not a bot, first commented on its conversation or reviewed it; it sets
// nothing when nobody has. The oldest 100 of each are read, unconditionally (their answer is
// needed whenever the pull request changed). A failed lookup is logged and leaves the time
// out: the next change of the pull request looks again.
func (s *Syncer) noteFirstResponse(ctx context.Context, lr *loginRun, repo string, number int, pr json.RawMessage, meta map[string]string) error {
	var head struct {
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	}
	if err := json.Unmarshal(pr, &head); err != nil || head.User.Login == "" {
		return nil
	}
	var first time.Time
	for _, path := range []string{"issues/%d/comments", "pulls/%d/reviews"} {
		u := fmt.Sprintf("%s/"+path+"?per_page=%d", repoPath(repo), number, perPage)
		var objs []struct {
			User *struct {
				Login string `json:"login"`
				Type  string `json:"type"`
			} `json:"user"`
			CreatedAt   time.Time `json:"created_at"`
			SubmittedAt time.Time `json:"submitted_at"`
		}
		_, kept, err := s.get(ctx, lr, u, &objs)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil || kept != nil {
			s.log().Debug("first response of a pull request not found", slog.String("url", u), slog.Any("err", err))
			return nil
		}
		for _, o := range objs {
			if o.User == nil || strings.EqualFold(o.User.Login, head.User.Login) || o.User.Type == "Bot" || strings.HasSuffix(o.User.Login, "[bot]") {
				continue
			}
			at := o.CreatedAt
			if at.IsZero() {
				at = o.SubmittedAt
			}
			if !at.IsZero() && (first.IsZero() || at.Before(first)) {
				first = at
			}
		}
	}
	if !first.IsZero() {
		meta["first_response_at"] = first.UTC().Format(time.RFC3339)
	}
	return nil
}
