package mapper

import (
	"strconv"
	"strings"

	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
)

// Reviews, comments, commits and releases are counted once, when they are created.

// counts reports whether an action creates the object. GH Archive CommitCommentEvent (and
// older dumps) carry no action: the event is the creation.
func counts(action string, creation ...string) bool {
	if action == "" {
		return true
	}
	for _, a := range creation {
		if action == a {
			return true
		}
	}
	return false
}

func mapReview(r *events.Raw) ([]events.Contribution, error) {
	p, e, err := load[reviewPayload](r)
	if err != nil {
		return nil, err
	}
	if !counts(p.Action, "created", "submitted") {
		return nil, nil
	}
	rv := &p.Review
	if rv.ID <= 0 {
		return nil, e.bad("review.id", "missing")
	}
	n := p.PullRequest.Number
	if n <= 0 {
		return nil, e.bad("pull_request.number", "missing")
	}
	at, err := e.time("review.submitted_at", rv.SubmittedAt)
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		if at = e.at; at.IsZero() {
			return nil, e.bad("review.submitted_at", "missing")
		}
	}
	login := rv.User.Login
	if login == "" {
		login = e.actor
	}
	if login == "" {
		return nil, nil
	}
	c := e.row(events.KindReview, "review:"+strings.ToLower(e.repo)+"#"+strconv.Itoa(n)+"/"+itoa(rv.ID), login, at)
	c.Number = n
	c.Title = p.PullRequest.Title
	c.State = strings.ToLower(rv.State)
	c.URL = rv.HTMLURL
	return []events.Contribution{c}, nil
}

// mapComment maps a comment of type issue, review, commit or discussion.
func mapComment(r *events.Raw, typ string) ([]events.Contribution, error) {
	p, e, err := load[commentPayload](r)
	if err != nil {
		return nil, err
	}
	if !counts(p.Action, "created") {
		return nil, nil
	}
	cm := &p.Comment
	if cm.ID <= 0 {
		return nil, e.bad("comment.id", "missing")
	}
	at, err := e.time("comment.created_at", cm.CreatedAt)
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		if at = e.at; at.IsZero() {
			return nil, e.bad("comment.created_at", "missing")
		}
	}
	login := cm.User.Login
	if login == "" {
		login = e.actor
	}
	if login == "" {
		return nil, nil
	}
	var on parent
	switch typ {
	case "issue":
		on = p.Issue
	case "review":
		on = p.PullRequest
	case "discussion":
		on = p.Discussion
	}
	c := e.row(events.KindComment, "comment:"+strings.ToLower(e.repo)+"/"+typ+"/"+itoa(cm.ID), login, at)
	c.Number = on.Number
	c.Title = on.Title
	c.URL = cm.HTMLURL
	return []events.Contribution{c}, nil
}

// mapPush maps each distinct commit of a push to a row whose actor is the commit's author: the
// login GitHub linked to the author e-mail (webhooks), else the login of a noreply e-mail, and
// only else the pusher. The author e-mail goes along for enrich to attribute by. A trimmed
// GH Archive PushEvent (since 2025-10-07) has no commits and yields no rows.
func mapPush(r *events.Raw) ([]events.Contribution, error) {
	p, e, err := load[pushPayload](r)
	if err != nil {
		return nil, err
	}
	if e.actor == "" {
		if r.Source == events.SourceGHArchive {
			return nil, malformed(r, "actor.login", "missing")
		}
		return nil, malformed(r, "sender.login", "missing")
	}
	n := 0
	for i := range p.Commits {
		if p.Commits[i].Distinct {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]events.Contribution, 0, n)
	repo := strings.ToLower(e.repo)
	for i := range p.Commits {
		cm := &p.Commits[i]
		if !cm.Distinct {
			continue
		}
		field := "commits[" + strconv.Itoa(i) + "]"
		sha := cm.SHA
		if sha == "" {
			sha = cm.ID
		}
		if sha == "" {
			if r.Source == events.SourceGHArchive {
				return nil, e.bad(field+".sha", "missing")
			}
			return nil, e.bad(field+".id", "missing")
		}
		at := e.at
		if r.Source == events.SourceWebhook {
			t, err := e.time(field+".timestamp", cm.Timestamp)
			if err != nil {
				return nil, err
			}
			if !t.IsZero() {
				at = t
			}
		}
		if at.IsZero() {
			if r.Source == events.SourceGHArchive {
				return nil, malformed(r, "created_at", "missing")
			}
			return nil, e.bad(field+".timestamp", "missing")
		}
		c := e.row(events.KindCommit, "commit:"+repo+"@"+strings.ToLower(sha), commitAuthor(cm.Author.Username, cm.Author.Email, e.actor), at)
		c.AuthorEmail = strings.ToLower(strings.TrimSpace(cm.Author.Email))
		c.Title = firstLine(cm.Message)
		c.URL = "https://github.com/" + e.repo + "/commit/" + sha
		out = append(out, c)
	}
	return out, nil
}

// commitAuthor returns the login a commit is credited to: the linked login, else the login of a
// noreply author e-mail, else fallback (the pusher, or the login whose search found it).
func commitAuthor(linked, email, fallback string) string {
	if linked != "" {
		return linked
	}
	if l, ok := roster.LoginFromNoreply(email); ok {
		return l
	}
	return fallback
}

// mapRelease maps a published release. Other release actions (created, released, prereleased,
// edited, deleted) yield no rows, so one release is counted once.
func mapRelease(r *events.Raw) ([]events.Contribution, error) {
	p, e, err := load[releasePayload](r)
	if err != nil {
		return nil, err
	}
	if !counts(p.Action, "published") {
		return nil, nil
	}
	rl := &p.Release
	if rl.ID <= 0 {
		return nil, e.bad("release.id", "missing")
	}
	at, err := e.time("release.published_at", rl.PublishedAt)
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		if at = e.at; at.IsZero() {
			return nil, e.bad("release.published_at", "missing")
		}
	}
	login := rl.Author.Login
	if login == "" {
		login = e.actor
	}
	if login == "" {
		return nil, nil
	}
	c := e.row(events.KindRelease, "release:"+strings.ToLower(e.repo)+"/"+itoa(rl.ID), login, at)
	c.Title = rl.Name
	if c.Title == "" {
		c.Title = rl.TagName
	}
	c.URL = rl.HTMLURL
	return []events.Contribution{c}, nil
}
