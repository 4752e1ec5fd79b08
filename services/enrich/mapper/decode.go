package mapper

import (
	"fmt"

	"giveback.dev/platform/events"
)

// The structs below hold only the fields the mapper reads; everything else in a payload is
// skipped by the decoder. Timestamps stay strings (absent and null both decode to "") and are
// parsed only where used.

type user struct {
	Login string `json:"login"`
}

// archived is one GH Archive line; P is its payload.
type archived[P any] struct {
	Actor     user   `json:"actor"`
	Repo      repo   `json:"repo"`
	CreatedAt string `json:"created_at"`
	Payload   P      `json:"payload"`
}

type repo struct {
	Name     string `json:"name"`      // GH Archive repo
	FullName string `json:"full_name"` // webhook and REST repository
	Fork     bool   `json:"fork"`      // webhook and REST repository, a PR's base.repo
	Private  *bool  `json:"private"`   // idem; nil when absent
}

// hook holds what every webhook body carries beside its object. It is embedded in each payload
// struct; GH Archive payloads simply do not have these keys.
type hook struct {
	Repository repo `json:"repository"`
	Sender     user `json:"sender"`
}

func (h *hook) common() *hook { return h }

// thread is a pull request, an issue or a discussion, from whichever API shape.
type thread struct {
	Number    int    `json:"number"`
	HTMLURL   string `json:"html_url"`
	State     string `json:"state"`
	Title     string `json:"title"`
	User      user   `json:"user"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	ClosedAt  string `json:"closed_at"`
	MergedAt  string `json:"merged_at"`
	Merged    *bool  `json:"merged"` // nil when absent (trimmed payloads)
	// MergedBy is who merged a pull request (pulls API, webhooks); nil when absent.
	MergedBy *user `json:"merged_by"`
	// A pull request's size (pulls API, webhooks, GH Archive before 2025-10-07).
	Additions    int `json:"additions"`
	Deletions    int `json:"deletions"`
	ChangedFiles int `json:"changed_files"`
	// Base is where a PR goes (REST pull_request_detail names the repository only here).
	Base struct {
		Repo repo `json:"repo"`
	} `json:"base"`
	// RepositoryURL is https://api.github.com/repos/OWNER/NAME (REST issue objects).
	RepositoryURL string `json:"repository_url"`
	// PullRequest is present on an issue object that is a PR.
	PullRequest *struct {
		HTMLURL  string `json:"html_url"`
		MergedAt string `json:"merged_at"`
	} `json:"pull_request"`
}

// parent is the issue, PR or discussion a review or comment belongs to.
type parent struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
}

type pullPayload struct {
	hook
	Action      string `json:"action"`
	Number      int    `json:"number"`
	PullRequest thread `json:"pull_request"`
}

type issuePayload struct {
	hook
	Action string `json:"action"`
	Issue  thread `json:"issue"`
}

type discussionPayload struct {
	hook
	Action     string `json:"action"`
	Discussion thread `json:"discussion"`
}

type reviewPayload struct {
	hook
	Action string `json:"action"`
	Review struct {
		ID          int64  `json:"id"`
		User        user   `json:"user"`
		State       string `json:"state"`
		SubmittedAt string `json:"submitted_at"`
		HTMLURL     string `json:"html_url"`
	} `json:"review"`
	PullRequest parent `json:"pull_request"`
}

type commentPayload struct {
	hook
	Action  string `json:"action"`
	Comment struct {
		ID        int64  `json:"id"`
		User      user   `json:"user"`
		CreatedAt string `json:"created_at"`
		HTMLURL   string `json:"html_url"`
	} `json:"comment"`
	Issue       parent `json:"issue"`
	PullRequest parent `json:"pull_request"`
	Discussion  parent `json:"discussion"`
}

type pushPayload struct {
	hook
	Commits []commit `json:"commits"`
}

type commit struct {
	SHA       string `json:"sha"` // GH Archive
	ID        string `json:"id"`  // webhook
	Message   string `json:"message"`
	Distinct  bool   `json:"distinct"`
	Timestamp string `json:"timestamp"` // webhook only
	// Author is the commit's author: e-mail and name (GH Archive, webhook), and the GitHub
	// login GitHub linked to the e-mail (webhook only).
	Author struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"author"`
}

type releasePayload struct {
	hook
	Action  string `json:"action"`
	Release struct {
		ID          int64  `json:"id"`
		Author      user   `json:"author"`
		Name        string `json:"name"`
		TagName     string `json:"tag_name"`
		HTMLURL     string `json:"html_url"`
		PublishedAt string `json:"published_at"`
	} `json:"release"`
}

// load decodes a GH Archive line or a webhook body into its payload struct and returns the
// payload with the record's environment. The repository is required.
func load[P any, PP interface {
	*P
	common() *hook
}](r *events.Raw) (PP, env, error) {
	switch r.Source {
	case events.SourceGHArchive:
		a := new(archived[P])
		if err := decode(r.Payload, a); err != nil {
			return nil, env{}, decodeError(r, err)
		}
		e := env{r: r, repo: a.Repo.Name, actor: a.Actor.Login}
		if !checkRepo(e.repo) {
			return nil, env{}, malformed(r, "repo.name", repoProblem(e.repo))
		}
		at, err := e.time("created_at", a.CreatedAt)
		if err != nil {
			return nil, env{}, err
		}
		e.at = at
		e.prefix = "payload." // the object's fields are under payload
		return &a.Payload, e, nil
	default: // webhook
		p := PP(new(P))
		if err := decode(r.Payload, p); err != nil {
			return nil, env{}, decodeError(r, err)
		}
		h := p.common()
		e := env{r: r, repo: h.Repository.FullName, actor: h.Sender.Login, at: r.FetchedAt.UTC(),
			fork: h.Repository.Fork, private: h.Repository.Private}
		if !checkRepo(e.repo) {
			return nil, env{}, malformed(r, "repository.full_name", repoProblem(e.repo))
		}
		return p, e, nil
	}
}

func decodeError(r *events.Raw, err error) error {
	return fmt.Errorf("mapper: %s %s record %s: decode payload: %w", r.Source, r.Kind, r.ID, err)
}

func repoProblem(repo string) string {
	if repo == "" {
		return "missing"
	}
	return fmt.Sprintf("%q is not owner/name", repo)
}
