package githubsync

import (
	"context"
	"errors"
	"strings"
	"testing"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// A hydration request carrying a value GitHub would not have made is refused before any request
// reaches the API, counted in the status, and not retried (the error wraps events.ErrInvalid).
func TestHydrateRefusesInvalidValues(t *testing.T) {
	ctx := context.Background()
	_, _, js := testkit.NATS(t)
	r := newReplay(t)
	s := newHydrator(t, r, js)
	sha := strings.Repeat("a", 40)
	bad := []events.Hydrate{
		{Kind: events.HydratePullRequest, Repo: "octo/repo/../../user", Number: 1},
		{Kind: events.HydratePullRequest, Repo: "octo/repo?per_page=100", Number: 1},
		{Kind: events.HydratePullRequest, Repo: "octo/repo", Number: -1},
		{Kind: events.HydratePullRequest, Repo: "octo/repo", Number: 1 << 40},
		{Kind: events.HydratePush, Repo: "octo/repo", Before: "../../../users/x", Head: sha},
		{Kind: events.HydratePush, Repo: "octo/repo", Head: "main"},
		{Kind: events.HydratePush, Repo: "octo/..", Head: sha},
	}
	for i, h := range bad {
		h.Schema, h.RawID, h.Actor = events.SchemaHydrate, "bad", "x"
		err := s.Hydrate(ctx, h)
		if !errors.Is(err, events.ErrInvalid) {
			t.Errorf("request %d (%+v): %v; want an invalid value", i, h, err)
		}
	}
	r.mu.Lock()
	n := len(r.requests)
	r.mu.Unlock()
	if n != 0 {
		t.Errorf("%d requests reached the API; want none", n)
	}
	if st := s.HydrationStatus(); st.Invalid != len(bad) || st.Requests != len(bad) {
		t.Errorf("status %+v; want %d invalid requests", st, len(bad))
	}
}
