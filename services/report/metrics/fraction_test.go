//go:build chdb

package metrics

import (
	"context"
	"math"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// Medians keep their fraction: two pull requests answered after 1.5 and 3 hours and merged after
// 2.5 and 4 hours have a median of 2.25 hours to the first answer and 3.25 hours to merge, in the
// responsiveness and in the projects, on the embedded engine as on a server.
func TestMediansKeepTheirFraction(t *testing.T) {
	st := testkit.Store(t)
	ctx := context.Background()
	var cs []events.Contribution
	for i, h := range []struct{ answer, merge time.Duration }{{90 * time.Minute, 150 * time.Minute}, {3 * time.Hour, 4 * time.Hour}} {
		opened := time.Date(2025, 1, 6+i, 10, 0, 0, 0, time.UTC)
		first, merged := opened.Add(h.answer), opened.Add(h.merge)
		c := events.Contribution{ID: "pull_request:f" + string(rune('0'+i)), Kind: events.KindPullRequest, OccurredAt: opened,
			ActorLogin: "ann", EmployeeID: "e1", Team: "core", Repo: "golang/go", RepoOwner: "golang", IsUpstream: true,
			Destination: "upstream", Number: 10 + i, State: "closed", Merged: true, MergedAt: &merged, ClosedAt: &merged,
			FirstResponseAt: &first, Source: events.SourceGHArchive, Version: 1}
		cs = append(cs, c)
	}
	if err := st.InsertContributions(ctx, cs); err != nil {
		t.Fatal(err)
	}
	f := Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC), Upstream: UpstreamOnly}
	near := func(what string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > 1e-9 {
			t.Errorf("%s: got %v, want %v", what, deref(got), want)
		}
	}
	r, err := GetResponsiveness(ctx, st, f)
	if err != nil {
		t.Fatal(err)
	}
	near("median hours to the first answer", r.MedianHours, 2.25)
	near("median hours to merge", r.MedianMerge, 3.25)
	p, err := GetProjects(ctx, st, f, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != 1 {
		t.Fatalf("projects: %+v", p)
	}
	near("project's median hours to merge", p.Rows[0].MedianMergeHours, 3.25)
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
