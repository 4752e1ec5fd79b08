package mapper

import (
	"strings"

	"giveback.dev/platform/events"
)

// The REST objects the GitHub sync publishes besides issues and pull requests: a review
// (GET /repos/o/r/pulls/N/reviews), an issue comment (GET /repos/o/r/issues/N/comments) and a
// commit search result (GET /search/commits). Reviews and comments name neither repository nor
// number: they come from Meta["repo"] and Meta["number"].

type restReview struct {
	ID          int64  `json:"id"`
	User        *user  `json:"user"`
	State       string `json:"state"`
	SubmittedAt string `json:"submitted_at"`
	HTMLURL     string `json:"html_url"`
}

type restComment struct {
	ID        int64  `json:"id"`
	User      *user  `json:"user"`
	CreatedAt string `json:"created_at"`
	HTMLURL   string `json:"html_url"`
}

type restCommit struct {
	SHA     string `json:"sha"`
	HTMLURL string `json:"html_url"`
	Commit  struct {
		Author struct {
			Date  string `json:"date"`
			Email string `json:"email"`
		} `json:"author"`
		Message string `json:"message"`
	} `json:"commit"`
	Author     *user `json:"author"` // null when the e-mail matches no account
	Repository repo  `json:"repository"`
}

// mapRESTReview maps a submitted review; a pending one (not submitted) yields no rows.
func mapRESTReview(r *events.Raw) ([]events.Contribution, error) {
	rv := new(restReview)
	if err := decode(r.Payload, rv); err != nil {
		return nil, decodeError(r, err)
	}
	e, n, err := restEnv(r, r.Meta["repo"], "meta.repo")
	if err != nil {
		return nil, err
	}
	if rv.ID <= 0 {
		return nil, e.bad("id", "missing")
	}
	if n <= 0 {
		return nil, malformed(r, "meta.number", "missing")
	}
	if rv.State == "PENDING" || rv.User == nil || rv.User.Login == "" {
		return nil, nil
	}
	at, err := e.time("submitted_at", rv.SubmittedAt)
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		return nil, nil
	}
	c := e.row(events.KindReview, "review:"+strings.ToLower(e.repo)+"#"+itoa(int64(n))+"/"+itoa(rv.ID), rv.User.Login, at)
	c.Number = n
	c.State = strings.ToLower(rv.State)
	c.URL = rv.HTMLURL
	return []events.Contribution{c}, nil
}

// mapRESTIssueComment maps a comment on an issue or pull request conversation.
func mapRESTIssueComment(r *events.Raw) ([]events.Contribution, error) {
	cm := new(restComment)
	if err := decode(r.Payload, cm); err != nil {
		return nil, decodeError(r, err)
	}
	e, n, err := restEnv(r, r.Meta["repo"], "meta.repo")
	if err != nil {
		return nil, err
	}
	if cm.ID <= 0 {
		return nil, e.bad("id", "missing")
	}
	if cm.User == nil || cm.User.Login == "" {
		return nil, nil
	}
	at, err := e.time("created_at", cm.CreatedAt)
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		return nil, e.bad("created_at", "missing")
	}
	c := e.row(events.KindComment, "comment:"+strings.ToLower(e.repo)+"/issue/"+itoa(cm.ID), cm.User.Login, at)
	c.Number = n
	c.URL = cm.HTMLURL
	return []events.Contribution{c}, nil
}

// mapRESTCommit maps a commit search result, dated by its author date. The actor is the GitHub
// account of the commit's author, else the login of a noreply author e-mail, else the login
// whose search found it (Meta["login"]). The author e-mail goes along for enrich.
func mapRESTCommit(r *events.Raw) ([]events.Contribution, error) {
	cm := new(restCommit)
	if err := decode(r.Payload, cm); err != nil {
		return nil, decodeError(r, err)
	}
	e, _, err := restEnv(r, cm.Repository.FullName, "repository.full_name")
	if err != nil {
		return nil, err
	}
	e.fork, e.private = cm.Repository.Fork, cm.Repository.Private
	if cm.SHA == "" {
		return nil, e.bad("sha", "missing")
	}
	at, err := e.time("commit.author.date", cm.Commit.Author.Date)
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		return nil, e.bad("commit.author.date", "missing")
	}
	linked := ""
	if cm.Author != nil {
		linked = cm.Author.Login
	}
	login := commitAuthor(linked, cm.Commit.Author.Email, r.Meta["login"])
	if login == "" {
		return nil, nil
	}
	c := e.row(events.KindCommit, "commit:"+strings.ToLower(e.repo)+"@"+strings.ToLower(cm.SHA), login, at)
	c.Title = firstLine(cm.Commit.Message)
	c.AuthorEmail = strings.ToLower(strings.TrimSpace(cm.Commit.Author.Email))
	c.URL = cm.HTMLURL
	if c.URL == "" {
		c.URL = "https://github.com/" + e.repo + "/commit/" + cm.SHA
	}
	return []events.Contribution{c}, nil
}
