package mapper

import (
	"strings"

	json "github.com/goccy/go-json"

	"giveback.dev/platform/events"
)

// trimmedPull is what Trimmed reads of a PullRequestEvent.
type trimmedPull struct {
	Actor     user   `json:"actor"`
	Repo      repo   `json:"repo"`
	CreatedAt string `json:"created_at"`
	Payload   struct {
		Number      int `json:"number"`
		PullRequest struct {
			Number    int    `json:"number"`
			User      *user  `json:"user"`
			CreatedAt string `json:"created_at"`
		} `json:"pull_request"`
	} `json:"payload"`
}

// trimmedPush is what Trimmed reads of a PushEvent.
type trimmedPush struct {
	Actor     user   `json:"actor"`
	Repo      repo   `json:"repo"`
	CreatedAt string `json:"created_at"`
	Payload   struct {
		Before  string            `json:"before"`
		Head    string            `json:"head"`
		Commits []json.RawMessage `json:"commits"`
	} `json:"payload"`
}

// Trimmed tells whether a GH Archive record is one of the events GitHub trims since 2025-10-07
// — a PullRequestEvent whose pull request has neither author nor creation time, a PushEvent
// without commits — and returns the request to fill it from the REST API. Any other record, and
// one too broken to say what to fetch (Map reports those), gives false.
func Trimmed(r *events.Raw) (events.Hydrate, bool) {
	if r.Source != events.SourceGHArchive || checkJSON(r.Payload) != nil {
		return events.Hydrate{}, false
	}
	h := events.Hydrate{Schema: events.SchemaHydrate, RawID: r.ID}
	switch r.Kind {
	case "PullRequestEvent":
		var a trimmedPull
		if decode(r.Payload, &a) != nil {
			return h, false
		}
		pr := &a.Payload.PullRequest
		if (pr.User != nil && pr.User.Login != "") || pr.CreatedAt != "" {
			return h, false
		}
		h.Kind, h.Number = events.HydratePullRequest, a.Payload.Number
		if h.Number == 0 {
			h.Number = pr.Number
		}
		if h.Number <= 0 {
			return h, false
		}
		h.Repo, h.Actor = a.Repo.Name, a.Actor.Login
		return h, stamp(&h, a.CreatedAt)
	case "PushEvent":
		var a trimmedPush
		if decode(r.Payload, &a) != nil {
			return h, false
		}
		if a.Payload.Commits != nil || !isSHA(a.Payload.Head) {
			return h, false
		}
		h.Kind, h.Before, h.Head = events.HydratePush, strings.ToLower(a.Payload.Before), strings.ToLower(a.Payload.Head)
		h.Repo, h.Actor = a.Repo.Name, a.Actor.Login
		return h, stamp(&h, a.CreatedAt)
	}
	return h, false
}

// stamp sets the request's time and checks its repository.
func stamp(h *events.Hydrate, createdAt string) bool {
	e := env{r: &events.Raw{}}
	at, err := e.time("created_at", createdAt)
	if err != nil || at.IsZero() || !checkRepo(h.Repo) {
		return false
	}
	h.At = at
	return true
}

// isSHA reports whether s is a 40-hex-digit commit id.
func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
