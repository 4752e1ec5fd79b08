package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
	"giveback.dev/services/report/metrics"
)

// The summary's upstream figures count third-party repositories only; work in the people's
// own repositories and in forks is counted apart, and the upstream filter follows is_upstream.
func TestSummaryUpstreamIsThirdParty(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	at := time.Date(2025, 2, 10, 12, 0, 0, 0, time.UTC)
	rows := []struct{ repo, destination string }{
		{"kubernetes/kubernetes", "upstream"},
		{"kubernetes/kubernetes", "upstream"},
		{"torvalds/linux", "upstream"},
		{"ann/dotfiles", "personal"},
		{"ann/blog", "personal"},
		{"ann-work/notes", "personal"},
		{"bob/kubernetes", "fork"},
		{"acme/billing", "internal"},
		{"acme/sdk", "company_oss"},
	}
	var cs []events.Contribution
	for i, r := range rows {
		owner, _, _ := strings.Cut(r.repo, "/")
		cs = append(cs, events.Contribution{ID: fmt.Sprintf("commit:%s@%d", r.repo, i), Kind: events.KindCommit, OccurredAt: at,
			ActorLogin: "ann", EmployeeID: "e1", Team: "core", Repo: r.repo, RepoOwner: owner,
			IsUpstream: r.destination == "upstream", Destination: r.destination, Source: events.SourceGHArchive, Version: 1})
	}
	if err := st.InsertContributions(ctx, cs); err != nil {
		t.Fatal(err)
	}
	f := metrics.Filter{From: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC), Upstream: metrics.UpstreamAll}
	s, err := metrics.GetSummary(ctx, st, f)
	if err != nil {
		t.Fatal(err)
	}
	if s.Contributions != 9 || s.UpstreamContributions != 3 || s.UpstreamRepos != 2 || s.UpstreamOrgs != 2 ||
		s.PersonalContributions != 3 || s.ForkContributions != 1 {
		t.Errorf("summary %+v, want 9 contributions, 3 upstream in 2 repositories of 2 owners, 3 personal, 1 fork", s)
	}
	f.Upstream = metrics.UpstreamOnly
	if s, err = metrics.GetSummary(ctx, st, f); err != nil {
		t.Fatal(err)
	}
	if s.Contributions != 3 || s.PersonalContributions != 0 || s.ForkContributions != 0 {
		t.Errorf("upstream=1: summary %+v, want 3 contributions, none personal or fork", s)
	}
}
