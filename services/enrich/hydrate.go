package enrich

import (
	"log/slog"
	"strings"

	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/services/enrich/mapper"
)

// hydration returns the request that fills a trimmed GH Archive event from the REST API, when
// the company has a stake in it: its actor is on the roster (and did not opt out), or it
// happened in one of the company's orgs. rows is how many contributions the record mapped to: a
// push with rows is whole, and only pull request and push events are ever trimmed.
func (s *Service) hydration(ro *roster.Roster, r *events.Raw, rows int) (events.Hydrate, bool) {
	if r.Source != events.SourceGHArchive || !(r.Kind == "PullRequestEvent" || (r.Kind == "PushEvent" && rows == 0)) {
		return events.Hydrate{}, false
	}
	h, ok := mapper.Trimmed(r)
	if !ok || s.ids.isBot(h.Actor) {
		return h, false
	}
	c := events.Contribution{ActorLogin: h.Actor, OccurredAt: h.At, Repo: h.Repo}
	if s.ids.optedOut(ro, &c) {
		return h, false
	}
	owner, _, _ := strings.Cut(h.Repo, "/")
	if _, ok := s.ids.match(ro, &c); !ok && !s.company.IsCompanyOrg(owner) {
		return h, false
	}
	// Every value of the request goes into a GitHub API path: one that GitHub would not have
	// made is not asked for.
	if err := h.Validate(); err != nil {
		s.hydrations.WithLabelValues("invalid").Inc()
		s.log.Warn("hydration not requested", slog.String("raw_id", r.ID), slog.Any("err", err))
		return h, false
	}
	return h, true
}
