// Package mapper turns raw records (GH Archive events, webhook deliveries, REST objects) into
// canonical contributions. It is pure: no I/O, no state, safe for concurrent use.
//
// Canonical ids put the repository lower-cased, so the same PR seen by GH Archive, a webhook and
// the REST API is one row:
//
//	pull_request  pr:<owner/name>#<number>
//	issue         issue:<owner/name>#<number>
//	              issue:<owner/name>#d<number>    (a GitHub discussion, counted as an issue opened)
//	review        review:<owner/name>#<number>/<review id>
//	merge         merge:<owner/name>#<number>
//	comment       comment:<owner/name>/<issue|review|commit|discussion>/<comment id>
//	commit        commit:<owner/name>@<sha>
//	release       release:<owner/name>/<release id>
//
// A pull request, issue or discussion is one row per thread, kept current: every event about it
// (opened, closed, labeled, …) yields the same id with Version = the thread's updated_at, so the
// latest state wins in storage. Reviews, comments, commits and releases are counted once, on
// their creation; later actions (edited, deleted, dismissed) yield no rows. A review's row
// carries the review's state, lower-cased (approved, changes_requested, commented, dismissed).
//
// A pull request merged by someone other than its author yields, besides its own row, a merge
// row credited to the person who merged it, dated when it was merged: the event's actor of a
// GH Archive PullRequestEvent closed with merged true, else the pull request's merged_by
// (webhooks, the REST pulls API). It is the act of a maintainer, not of the author.
package mapper

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"giveback.dev/platform/events"
)

// ErrNotContribution reports a record whose kind carries no contribution (stars, forks, branch
// creation, pings, unknown webhook types, …). Enrich acknowledges and counts such records.
var ErrNotContribution = errors.New("mapper: record carries no contribution")

// Map turns one raw record into zero or more canonical contributions. It fills every field of
// events.Contribution except EmployeeID, Team and IsUpstream, which enrich attributes.
//
// It returns ErrNotContribution when the record's kind never carries a contribution, and no rows
// with a nil error when the kind can but this record does not (a dismissed review, an edited
// comment, a trimmed push without commits, a trimmed PR without its author). Any other error
// means the record is malformed — not JSON, or a required field missing — and names the field.
func Map(r *events.Raw) ([]events.Contribution, error) {
	if r.Source != events.SourceGHArchiveTotals {
		if err := checkJSON(r.Payload); err != nil {
			return nil, decodeError(r, err)
		}
	}
	switch r.Source {
	case events.SourceGHArchive:
		return mapArchive(r)
	case events.SourceWebhook:
		return mapWebhook(r)
	case events.SourceREST:
		return mapREST(r)
	case events.SourceGHArchiveTotals:
		return nil, ErrNotContribution // project totals: enrich stores them itself (totals.go)
	default:
		return nil, fmt.Errorf("mapper: record %s: source %q: unknown", r.ID, r.Source)
	}
}

func mapArchive(r *events.Raw) ([]events.Contribution, error) {
	switch r.Kind {
	case "PullRequestEvent":
		return mapPull(r)
	case "IssuesEvent":
		return mapIssue(r)
	case "PullRequestReviewEvent":
		return mapReview(r)
	case "IssueCommentEvent":
		return mapComment(r, "issue")
	case "PullRequestReviewCommentEvent":
		return mapComment(r, "review")
	case "CommitCommentEvent":
		return mapComment(r, "commit")
	case "PushEvent":
		return mapPush(r)
	case "ReleaseEvent":
		return mapRelease(r)
	default:
		return nil, ErrNotContribution
	}
}

func mapWebhook(r *events.Raw) ([]events.Contribution, error) {
	switch r.Kind {
	case "pull_request":
		return mapPull(r)
	case "issues":
		return mapIssue(r)
	case "discussion":
		return mapDiscussion(r)
	case "pull_request_review":
		return mapReview(r)
	case "issue_comment":
		return mapComment(r, "issue")
	case "pull_request_review_comment":
		return mapComment(r, "review")
	case "commit_comment":
		return mapComment(r, "commit")
	case "discussion_comment":
		return mapComment(r, "discussion")
	case "push":
		return mapPush(r)
	case "release":
		return mapRelease(r)
	default:
		return nil, ErrNotContribution
	}
}

func mapREST(r *events.Raw) ([]events.Contribution, error) {
	switch r.Kind {
	case "issue":
		return mapRESTIssue(r)
	case "pull_request_detail", "pull_request":
		return mapRESTPull(r)
	case "review":
		return mapRESTReview(r)
	case "issue_comment":
		return mapRESTIssueComment(r)
	case "commit":
		return mapRESTCommit(r)
	default:
		return nil, ErrNotContribution
	}
}

// env is what a record says besides its object: where, who and when.
type env struct {
	r      *events.Raw
	repo   string    // owner/name as the source spells it
	actor  string    // GH Archive actor or webhook sender; empty for REST
	at     time.Time // GH Archive created_at; the fetch time for webhooks and REST
	prefix string    // prefix of payload field names in errors: "payload." for GH Archive
	// fork and private are what the record says of the repository (private nil: not said).
	fork    bool
	private *bool
}

// bad returns the error of a malformed record, naming the field.
func (e *env) bad(field, problem string) error {
	return malformed(e.r, e.prefix+field, problem)
}

func malformed(r *events.Raw, field, problem string) error {
	return fmt.Errorf("mapper: %s %s record %s: %s: %s", r.Source, r.Kind, r.ID, field, problem)
}

// time parses a GitHub timestamp of the field; empty (absent or null) is the zero time.
func (e *env) time(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("mapper: %s %s record %s: %s%s: %w", e.r.Source, e.r.Kind, e.r.ID, e.prefix, field, err)
	}
	return t.UTC(), nil
}

// row returns a contribution with the fields every kind shares.
func (e *env) row(kind, id, login string, at time.Time) events.Contribution {
	return events.Contribution{
		Schema:      events.SchemaContribution,
		ID:          id,
		Kind:        kind,
		OccurredAt:  at,
		ActorLogin:  login,
		Repo:        e.repo,
		RepoOwner:   owner(e.repo),
		Source:      e.r.Source,
		RawID:       e.r.ID,
		Version:     millis(at),
		RepoFork:    e.fork,
		RepoPrivate: e.private,
	}
}

// checkRepo validates an owner/name.
func checkRepo(repo string) bool {
	i := strings.IndexByte(repo, '/')
	return i > 0 && i < len(repo)-1
}

func owner(repo string) string {
	if i := strings.IndexByte(repo, '/'); i >= 0 {
		return repo[:i]
	}
	return repo
}

// millis returns t in Unix milliseconds, 0 before 1970.
func millis(t time.Time) uint64 {
	if ms := t.UnixMilli(); ms > 0 {
		return uint64(ms)
	}
	return 0
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// firstLine returns the first line of a commit message.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, "\r")
}
