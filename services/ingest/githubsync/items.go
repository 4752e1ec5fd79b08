package githubsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"giveback.dev/platform/events"
)

// itemHead is what the syncer reads of an issue or pull request search result.
type itemHead struct {
	Number        int             `json:"number"`
	UpdatedAt     time.Time       `json:"updated_at"`
	RepositoryURL string          `json:"repository_url"`
	PullRequest   json.RawMessage `json:"pull_request"`
}

// byLogin is what the syncer reads of a review or comment.
type byLogin struct {
	ID   int64 `json:"id"`
	User *struct {
		Login string `json:"login"`
	} `json:"user"`
}

// commitHead is what the syncer reads of a commit search result.
type commitHead struct {
	SHA    string `json:"sha"`
	Commit struct {
		Author struct {
			Date time.Time `json:"date"`
		} `json:"author"`
	} `json:"commit"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
}

func (s *REST) publish(ctx context.Context, login string, r *events.Raw) error {
	if err := s.Publish(ctx, r); err != nil {
		return fmt.Errorf("githubsync: %s: publish %s: %w", login, r.ID, err)
	}
	return nil
}

func raw(kind, id, origin string, meta map[string]string, payload json.RawMessage) *events.Raw {
	return &events.Raw{
		Schema:    events.SchemaRaw,
		Source:    events.SourceREST,
		Kind:      kind,
		ID:        id,
		FetchedAt: time.Now().UTC(),
		Origin:    "GET " + origin,
		Meta:      meta,
		Payload:   payload,
	}
}

// issueItem handles one result of an issue search: it publishes the issue or pull request and,
// for a pull request, its details, once per login sync; then, for the reviewed search, the
// login's reviews of the pull request, and for the commented search, the login's comments since
// the walk's cursor. It returns the result's updated_at.
func (s *Syncer) issueItem(ctx context.Context, w *walkRun, origin string, item json.RawMessage) (time.Time, error) {
	login := w.login
	var head itemHead
	if err := json.Unmarshal(item, &head); err != nil {
		return time.Time{}, fmt.Errorf("githubsync: %s: search item: %w", login, err)
	}
	repo := repoOf(head.RepositoryURL)
	if repo == "" || head.Number == 0 || head.UpdatedAt.IsZero() {
		return time.Time{}, fmt.Errorf("githubsync: %s: search item without repository_url, number or updated_at: %.200s", login, item)
	}
	kind := KindIssue
	if len(head.PullRequest) > 0 && string(head.PullRequest) != "null" {
		kind = KindPullRequest
	}
	id := recordID(kind, repo, head.Number, head.UpdatedAt)
	if w.seen[id] {
		return head.UpdatedAt, nil
	}
	w.seen[id] = true
	number := strconv.Itoa(head.Number)
	if !w.published[id] {
		meta := map[string]string{"repo": repo, "number": number, "login": login}
		if err := s.publish(ctx, login, raw(kind, id, origin, meta, item)); err != nil {
			return time.Time{}, err
		}
		w.st.Items++
		if kind == KindPullRequest {
			if err := s.pullDetail(ctx, w, repo, head.Number, head.UpdatedAt); err != nil {
				return time.Time{}, err
			}
		}
		w.published[id] = true
	}
	switch {
	case w.sr.name == SearchReviewed && kind == KindPullRequest:
		if err := s.reviews(ctx, w, repo, head.Number); err != nil {
			return time.Time{}, err
		}
	case w.sr.name == SearchCommented:
		if err := s.comments(ctx, w, repo, head.Number); err != nil {
			return time.Time{}, err
		}
	}
	return head.UpdatedAt, nil
}

// repoPath returns repos/OWNER/NAME for owner/name.
func repoPath(repo string) string {
	owner, name, _ := strings.Cut(repo, "/") // repo comes from repoOf: always owner/name
	return "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
}

// pullDetail publishes the pull request's details; a 304 means they were published before.
func (s *Syncer) pullDetail(ctx context.Context, w *walkRun, repo string, number int, searched time.Time) error {
	u := fmt.Sprintf("%s/pulls/%d", repoPath(repo), number)
	var pr json.RawMessage
	resp, kept, err := s.get(ctx, w.loginRun, u, &pr)
	if err != nil {
		return fmt.Errorf("githubsync: %s: pull request %s#%d: %w", w.login, repo, number, err)
	}
	if kept != nil {
		return nil
	}
	var prHead struct {
		UpdatedAt time.Time `json:"updated_at"`
	}
	if err := json.Unmarshal(pr, &prHead); err != nil {
		return fmt.Errorf("githubsync: %s: pull request %s#%d: %w", w.login, repo, number, err)
	}
	if prHead.UpdatedAt.IsZero() {
		prHead.UpdatedAt = searched
	}
	meta := map[string]string{"repo": repo, "number": strconv.Itoa(number), "login": w.login}
	if err := s.noteFirstResponse(ctx, w.loginRun, repo, number, pr, meta); err != nil {
		return err
	}
	if err := s.publish(ctx, w.login, raw(KindPullRequestDetail, recordID(KindPullRequestDetail, repo, number, prHead.UpdatedAt), u, meta, pr)); err != nil {
		return err
	}
	w.st.PullRequests++
	w.keepAfterFlush(u, resp, 0)
	return nil
}

// keepAfterFlush notes the ETag of a processed response, kept once its records are stored.
func (lr *loginRun) keepAfterFlush(u string, resp *github.Response, next int) {
	if tag := resp.Header.Get("ETag"); tag != "" {
		lr.pending = append(lr.pending, pendingETag{url: u, e: etag{ETag: tag, Next: next}})
	}
}

// reviews publishes the login's reviews of a pull request.
func (s *Syncer) reviews(ctx context.Context, w *walkRun, repo string, number int) error {
	base := fmt.Sprintf("%s/pulls/%d/reviews", repoPath(repo), number)
	return s.list(ctx, w, base, url.Values{}, func(u string, id int64, payload json.RawMessage) error {
		meta := map[string]string{"repo": repo, "number": strconv.Itoa(number), "login": w.login}
		rid := fmt.Sprintf("review:%s#%d/%d", repo, number, id)
		if err := s.publish(ctx, w.login, raw(KindReview, rid, u, meta, payload)); err != nil {
			return err
		}
		w.st.Reviews++
		return nil
	})
}

// comments publishes the login's comments on an issue or pull request conversation, updated
// since the walk's cursor.
func (s *Syncer) comments(ctx context.Context, w *walkRun, repo string, number int) error {
	base := fmt.Sprintf("%s/issues/%d/comments", repoPath(repo), number)
	q := url.Values{}
	if !w.since.IsZero() {
		q.Set("since", w.since.UTC().Format(time.RFC3339))
	}
	return s.list(ctx, w, base, q, func(u string, id int64, payload json.RawMessage) error {
		meta := map[string]string{"repo": repo, "number": strconv.Itoa(number), "login": w.login}
		cid := fmt.Sprintf("issue_comment:%s/%d", repo, id)
		if err := s.publish(ctx, w.login, raw(KindIssueComment, cid, u, meta, payload)); err != nil {
			return err
		}
		w.st.Comments++
		return nil
	})
}

// list pages through a list of reviews or comments and calls f for each one by the login.
func (s *Syncer) list(ctx context.Context, w *walkRun, base string, q url.Values, f func(u string, id int64, payload json.RawMessage) error) error {
	q.Set("per_page", strconv.Itoa(perPage))
	for page := 1; page != 0; {
		q.Set("page", strconv.Itoa(page))
		u := base + "?" + q.Encode()
		var objs []json.RawMessage
		resp, kept, err := s.get(ctx, w.loginRun, u, &objs)
		if err != nil {
			return fmt.Errorf("githubsync: %s: %s: %w", w.login, base, err)
		}
		if kept != nil {
			page = kept.Next
			continue
		}
		for _, obj := range objs {
			var o byLogin
			if err := json.Unmarshal(obj, &o); err != nil {
				return fmt.Errorf("githubsync: %s: %s: %w", w.login, base, err)
			}
			if o.User == nil || !strings.EqualFold(o.User.Login, w.login) {
				continue
			}
			if o.ID <= 0 {
				return fmt.Errorf("githubsync: %s: %s: object without id: %.200s", w.login, base, obj)
			}
			if err := f(u, o.ID, obj); err != nil {
				return err
			}
		}
		w.keepAfterFlush(u, resp, resp.NextPage)
		page = resp.NextPage
	}
	return nil
}

// commitItem publishes one result of the commit search and returns its author date.
func (s *Syncer) commitItem(ctx context.Context, w *walkRun, origin string, item json.RawMessage) (time.Time, error) {
	var head commitHead
	if err := json.Unmarshal(item, &head); err != nil {
		return time.Time{}, fmt.Errorf("githubsync: %s: commit search item: %w", w.login, err)
	}
	repo := head.Repository.FullName
	at := head.Commit.Author.Date
	if head.SHA == "" || !strings.Contains(repo, "/") || at.IsZero() {
		return time.Time{}, fmt.Errorf("githubsync: %s: commit search item without sha, repository.full_name or commit.author.date: %.200s", w.login, item)
	}
	id := "commit:" + repo + "@" + head.SHA
	if w.seen[id] {
		return at, nil
	}
	w.seen[id] = true
	meta := map[string]string{"repo": repo, "login": w.login}
	if err := s.publish(ctx, w.login, raw(KindCommit, id, origin, meta, item)); err != nil {
		return time.Time{}, err
	}
	w.st.Commits++
	return at, nil
}

// noteFirstResponse sets meta["first_response_at"] to when someone other than the pull
// request's author, and not a bot, first commented on its conversation or reviewed it; it sets
// nothing when nobody has. The oldest 100 of each are read, unconditionally (their answer is
// needed whenever the pull request changed). A lookup GitHub refuses for the pull request
// itself (404, 403, 410, 422: the conversation is gone or out of the token's reach) is logged
// and leaves the time out: the next change of the pull request looks again. Any other failure
// (a revoked token, GitHub down after the retries, a rate limit past MaxWait) is returned, so
// the details are not published without it: the record id does not change with the meta, and
// the bus would drop the complete record as a repeat of the incomplete one.
func (s *REST) noteFirstResponse(ctx context.Context, lr *loginRun, repo string, number int, pr json.RawMessage, meta map[string]string) error {
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
		if err != nil && !refused(err) {
			return fmt.Errorf("githubsync: %s#%d: first response: %w", repo, number, err)
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

// refused reports whether GitHub answered a request with an error about the resource asked
// for (404, 403 other than a rate limit, 410, 422), which asking again does not change; a 401
// (the token) and the rest are not.
func refused(err error) bool {
	var rle *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &rle) || errors.As(err, &abuse) {
		return false
	}
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil {
		return false
	}
	switch ge.Response.StatusCode {
	case http.StatusNotFound, http.StatusForbidden, http.StatusGone, http.StatusUnprocessableEntity:
		return true
	}
	return false
}
