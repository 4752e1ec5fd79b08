package mapper

import (
	"strconv"
	"strings"
	"time"

	"giveback.dev/platform/events"
)

// A thread — pull request, issue or discussion — is one row, kept current: every event about it
// yields the same id, versioned by the thread's updated_at.

func mapPull(r *events.Raw) ([]events.Contribution, error) {
	p, e, err := load[pullPayload](r)
	if err != nil {
		return nil, err
	}
	cs, err := threadRow(&e, events.KindPullRequest, p.Action, p.Number, &p.PullRequest, "pull_request")
	if err != nil || len(cs) == 0 {
		return cs, err
	}
	merger := ""
	switch {
	case r.Source == events.SourceGHArchive:
		if p.Action == "closed" {
			merger = e.actor
		}
	case p.PullRequest.MergedBy != nil:
		merger = p.PullRequest.MergedBy.Login
	}
	return withMerge(&e, cs, merger), nil
}

// withMerge appends to a pull request's row the merge row of the person who merged it, when the
// pull request is merged, the merger known and someone other than its author.
func withMerge(e *env, cs []events.Contribution, merger string) []events.Contribution {
	pr := cs[0]
	if !pr.Merged || pr.MergedAt == nil || merger == "" || strings.EqualFold(merger, pr.ActorLogin) {
		return cs
	}
	m := e.row(events.KindMerge, "merge:"+strings.ToLower(e.repo)+"#"+strconv.Itoa(pr.Number), merger, *pr.MergedAt)
	m.Number, m.Title, m.URL = pr.Number, pr.Title, pr.URL
	return append(cs, m)
}

// mapIssue maps IssuesEvent and the issues webhook. GitHub also sends these for PRs (milestoned,
// demilestoned); their issue object lacks the merge state, so they yield no rows — the PR's own
// events carry it.
func mapIssue(r *events.Raw) ([]events.Contribution, error) {
	p, e, err := load[issuePayload](r)
	if err != nil {
		return nil, err
	}
	if p.Issue.PullRequest != nil {
		return nil, nil
	}
	return threadRow(&e, events.KindIssue, p.Action, 0, &p.Issue, "issue")
}

// mapDiscussion maps the discussion webhook. A discussion has no contribution kind of its own:
// it counts as an issue opened, with id issue:<repo>#d<number> so it never collides with the
// issue or PR of the same number. Every action refreshes the row, as for issues.
func mapDiscussion(r *events.Raw) ([]events.Contribution, error) {
	p, e, err := load[discussionPayload](r)
	if err != nil {
		return nil, err
	}
	if p.Discussion.State != "closed" {
		p.Discussion.State = "open" // open, locked, converted, …: not closed
	}
	return threadRow(&e, kindDiscussion, p.Action, 0, &p.Discussion, "discussion")
}

// mapRESTIssue maps an Issue object of the search/issues API. The repository comes from
// repository_url, else Meta["repo"]; the number from the object, else Meta["number"].
func mapRESTIssue(r *events.Raw) ([]events.Contribution, error) {
	t := new(thread)
	if err := decode(r.Payload, t); err != nil {
		return nil, decodeError(r, err)
	}
	e, n, err := restEnv(r, repoFromURL(t.RepositoryURL), "repository_url")
	if err != nil {
		return nil, err
	}
	return issueOrPull(&e, n, t)
}

// mapRESTPull maps a PullRequest object of the pulls API. The repository comes from
// base.repo.full_name, else Meta["repo"].
func mapRESTPull(r *events.Raw) ([]events.Contribution, error) {
	t := new(thread)
	if err := decode(r.Payload, t); err != nil {
		return nil, decodeError(r, err)
	}
	e, n, err := restEnv(r, t.Base.Repo.FullName, "base.repo.full_name")
	if err != nil {
		return nil, err
	}
	cs, err := threadRow(&e, events.KindPullRequest, "", n, t, "")
	if err != nil || len(cs) == 0 {
		return cs, err
	}
	merger := ""
	if t.MergedBy != nil {
		merger = t.MergedBy.Login
	}
	return withMerge(&e, cs, merger), nil
}

// restEnv returns the environment of a REST object and the number from Meta (0 when absent).
func restEnv(r *events.Raw, repo, field string) (env, int, error) {
	e := env{r: r, repo: repo, at: r.FetchedAt.UTC()}
	if repo == "" {
		e.repo = r.Meta["repo"]
		field = field + " or meta.repo"
	}
	if !checkRepo(e.repo) {
		return env{}, 0, malformed(r, field, repoProblem(e.repo))
	}
	var n int
	if s := r.Meta["number"]; s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			return env{}, 0, malformed(r, "meta.number", strconv.Quote(s)+" is not a number")
		}
		n = v
	}
	return e, n, nil
}

// repoFromURL returns OWNER/NAME of https://api.github.com/repos/OWNER/NAME (or a GitHub
// Enterprise .../api/v3/repos/OWNER/NAME), or "".
func repoFromURL(u string) string {
	i := strings.LastIndex(u, "/repos/")
	if i < 0 {
		return ""
	}
	return u[i+len("/repos/"):]
}

// issueOrPull maps a REST issue object, or the PR it is when it has a pull_request key; then
// merged comes from pull_request.merged_at.
func issueOrPull(e *env, number int, t *thread) ([]events.Contribution, error) {
	if t.PullRequest == nil {
		return threadRow(e, events.KindIssue, "", number, t, "")
	}
	t.Merged = nil
	t.MergedAt = t.PullRequest.MergedAt
	if t.HTMLURL == "" {
		t.HTMLURL = t.PullRequest.HTMLURL
	}
	return threadRow(e, events.KindPullRequest, "", number, t, "")
}

// kindDiscussion marks a discussion for threadRow; its row has kind issue.
const kindDiscussion = "discussion"

// threadRow returns the one row of a PR, issue or discussion. field names the object in errors
// ("" when the payload is the object). The author is the thread's user; when a trimmed payload
// lacks it, the event actor stands in for an "opened" event only, and otherwise there is no row
// (hydration from the REST API brings it later). The same goes for created_at.
func threadRow(e *env, kind, action string, number int, t *thread, field string) ([]events.Contribution, error) {
	if field != "" {
		field += "."
	}
	n := t.Number
	if n == 0 {
		n = number
	}
	if n <= 0 {
		return nil, e.bad(field+"number", "missing")
	}
	login := t.User.Login
	trimmed := login == "" && action == "opened"
	if trimmed {
		login = e.actor
	}
	created, err := e.time(field+"created_at", t.CreatedAt)
	if err != nil {
		return nil, err
	}
	if created.IsZero() && action == "opened" {
		created = e.at
	}
	if login == "" || created.IsZero() {
		return nil, nil
	}
	updated, err := e.time(field+"updated_at", t.UpdatedAt)
	if err != nil {
		return nil, err
	}
	closed, err := e.time(field+"closed_at", t.ClosedAt)
	if err != nil {
		return nil, err
	}

	if b := &t.Base.Repo; b.FullName != "" {
		e.fork, e.private = b.Fork, b.Private // a pull request says where it goes
	}
	repo := strings.ToLower(e.repo)
	num := strconv.Itoa(n)
	var id, path string
	switch kind {
	case events.KindPullRequest:
		id, path = "pr:"+repo+"#"+num, "/pull/"
	case kindDiscussion:
		kind, id, path = events.KindIssue, "issue:"+repo+"#d"+num, "/discussions/"
	default:
		id, path = "issue:"+repo+"#"+num, "/issues/"
	}
	c := e.row(kind, id, login, created)
	c.Number = n
	c.Title = t.Title
	c.State = t.State
	if c.State == "" {
		c.State = "open"
		if action == "closed" || !closed.IsZero() {
			c.State = "closed"
		}
	}
	c.ClosedAt = ptr(closed)
	c.URL = t.HTMLURL
	if c.URL == "" {
		c.URL = "https://github.com/" + e.repo + path + num
	}
	if kind == events.KindPullRequest {
		merged, err := e.time(field+"merged_at", t.MergedAt)
		if err != nil {
			return nil, err
		}
		c.Merged = !merged.IsZero()
		if t.Merged != nil {
			c.Merged = *t.Merged
		}
		c.Additions, c.Deletions, c.ChangedFiles = t.Additions, t.Deletions, t.ChangedFiles
		// The REST sync and hydration look up the first answer by someone else (githubsync).
		if s := e.r.Meta["first_response_at"]; s != "" && e.r.Source == events.SourceREST {
			first, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return nil, malformed(e.r, "meta.first_response_at", err.Error())
			}
			c.FirstResponseAt = ptr(first.UTC())
		}
		if c.Merged {
			c.MergedAt = ptr(merged)
		}
	}
	switch {
	case trimmed:
		// A stand-in until the pull request's own state arrives (hydration, the REST sync, a
		// webhook): the lowest version, so that state replaces it whatever its time.
		c.Version = 0
	case !updated.IsZero():
		c.Version = millis(updated)
	case !e.at.IsZero():
		c.Version = millis(e.at)
	}
	return []events.Contribution{c}, nil
}
