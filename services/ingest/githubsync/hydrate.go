package githubsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
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
// A pull request found open is kept on a watch list (events.BucketHydrateWatch) and fetched again
// by RecheckOpen, conditionally — a 304 costs no rate limit — until it is closed: the event that
// closes it may be by someone the GH Archive filter does not keep, and it is trimmed anyway.

// Hydrator fills trimmed GH Archive events from the REST API (events.Hydrate) and re-checks the
// open pull requests it watches.
type Hydrator struct {
	// REST sends the requests and publishes the records; the Syncer may share it (the tokens'
	// rate limits and the ETags with it).
	*REST
	// Statuses keeps the HydrationStatus (events.BucketStatus), for the report service.
	Statuses jetstream.KeyValue
	// Watch keeps the open pull requests re-checked (events.BucketHydrateWatch).
	Watch jetstream.KeyValue

	mu            sync.Mutex
	hydration     events.HydrationStatus
	hydrationOnce sync.Once
}

// HydrationStatus returns what hydration did since it was first set up (resumed from the status
// bucket at start).
func (s *Hydrator) HydrationStatus() events.HydrationStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hydration
}

// resumeHydrationStatus starts the counters from the status a previous run kept in the KV
// bucket, once, so they count since hydration was first set up, not since the last start.
func (s *Hydrator) resumeHydrationStatus(ctx context.Context) {
	s.hydrationOnce.Do(func() {
		e, err := s.Statuses.Get(ctx, events.KeyStatusHydration)
		if err != nil {
			if !errors.Is(err, jetstream.ErrKeyNotFound) {
				s.log().Warn("hydration: previous status unreadable; counting from zero", slog.Any("err", err))
			}
			return
		}
		var prev events.HydrationStatus
		if err := json.Unmarshal(e.Value(), &prev); err != nil {
			s.log().Warn("hydration: previous status malformed; counting from zero", slog.Any("err", err))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hydration = prev
	})
}

func (s *Hydrator) noteHydration(st Stats, f func(*events.HydrationStatus)) {
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
func (s *Hydrator) Hydrate(ctx context.Context, h events.Hydrate) error {
	s.resumeHydrationStatus(ctx)
	if err := h.Validate(); err != nil {
		s.log().Warn("hydration request refused", slog.Any("err", err))
		s.noteHydration(Stats{}, func(hs *events.HydrationStatus) {
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
	s.noteHydration(st, func(hs *events.HydrationStatus) {
		hs.Requests++
		if err != nil {
			hs.LastError = err.Error()
		}
	})
	return errors.Join(err, s.storeHydrationStatus(ctx))
}

// storeHydrationStatus keeps the status in the status bucket.
func (s *Hydrator) storeHydrationStatus(ctx context.Context) error {
	b, err := json.Marshal(s.HydrationStatus())
	if err != nil {
		return fmt.Errorf("githubsync: hydration status: %w", err)
	}
	if _, err := s.Statuses.Put(context.WithoutCancel(ctx), events.KeyStatusHydration, b); err != nil {
		return fmt.Errorf("githubsync: store hydration status: %w", err)
	}
	return nil
}

// watchedKeys returns the keys of the watched pull requests.
func (s *Hydrator) watchedKeys(ctx context.Context) ([]string, error) {
	lister, err := s.Watch.ListKeysFiltered(ctx, events.KeyHydrateOpenPrefix+">")
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

func (s *Hydrator) countGone(what string, err error) {
	s.log().Info("hydration: GitHub no longer shows it", slog.String("object", what), slog.Any("err", err))
	s.noteHydration(Stats{}, func(hs *events.HydrationStatus) { hs.Gone++ })
}

// hydratePull publishes the pull request's details and keeps it on the watch list while open.
func (s *Hydrator) hydratePull(ctx context.Context, lr *loginRun, repo string, number int, actor, rawID string) error {
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
		return s.watch(ctx, events.HydrateOpen{Repo: repo, Number: number, Actor: actor, Since: time.Now().UTC()})
	}
	return s.unwatch(ctx, repo, number)
}

func (s *Hydrator) watch(ctx context.Context, p events.HydrateOpen) error {
	key := events.KeyHydrateOpen(p.Repo, p.Number)
	if _, err := s.Watch.Get(ctx, key); err == nil {
		return nil // watched already: keep when it was first seen open
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("githubsync: watch %s#%d: %w", p.Repo, p.Number, err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("githubsync: watch %s#%d: %w", p.Repo, p.Number, err)
	}
	if _, err := s.Watch.Put(ctx, key, b); err != nil {
		return fmt.Errorf("githubsync: watch %s#%d: %w", p.Repo, p.Number, err)
	}
	return nil
}

func (s *Hydrator) unwatch(ctx context.Context, repo string, number int) error {
	if err := s.Watch.Delete(ctx, events.KeyHydrateOpen(repo, number)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("githubsync: unwatch %s#%d: %w", repo, number, err)
	}
	return nil
}

// RecheckOpen fetches every watched open pull request again and returns how many are still
// watched. Each fetch is conditional: an unchanged pull request costs no rate limit. A failing
// one is reported and the others still run.
func (s *Hydrator) RecheckOpen(ctx context.Context) (int, error) {
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
		e, err := s.Watch.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("githubsync: watched pull request %s: %w", k, err))
			continue
		}
		var p events.HydrateOpen
		if err := json.Unmarshal(e.Value(), &p); err != nil {
			s.log().Warn("hydration: unreadable watch entry dropped", slog.String("key", k), slog.Any("err", err))
			if derr := s.Watch.Delete(ctx, k); derr != nil {
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
	s.noteHydration(Stats{}, func(hs *events.HydrationStatus) {
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
func (s *Hydrator) hydratePush(ctx context.Context, lr *loginRun, h events.Hydrate) error {
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

func (s *Hydrator) publishCommit(ctx context.Context, lr *loginRun, u, repo string, meta map[string]string, c json.RawMessage) error {
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
