package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
	"giveback.dev/platform/store"
	"giveback.dev/platform/testkit"
)

// Migration 0008 re-derives is_upstream from the destination: rows stored when is_upstream
// meant "not a company org" (personal repositories and forks included) are corrected, and
// running it again changes nothing.
func TestMigrationUpstreamIsThirdParty(t *testing.T) {
	s := testkit.Store(t)
	ctx := context.Background()
	var mig *store.Migration
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		if ms[i].Name == "upstream_is_third_party" {
			mig = &ms[i]
		}
	}
	if mig == nil {
		t.Fatal("no migration upstream_is_third_party")
	}
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	// The old rule: everything outside the company's orgs was upstream.
	rows := []struct {
		repo, destination string
		old               bool
	}{
		{"kubernetes/kubernetes", "upstream", true},
		{"ann/dotfiles", "personal", true},
		{"bob/kubernetes", "fork", true},
		{"acme/billing", "internal", false},
		{"acme/sdk", "company_oss", false},
		{"torvalds/linux", "upstream", false}, // a row wrong the other way is corrected too
	}
	var cs []events.Contribution
	for i, r := range rows {
		owner, _, _ := strings.Cut(r.repo, "/")
		cs = append(cs, events.Contribution{ID: fmt.Sprintf("push:%d", i), Kind: events.KindCommit, OccurredAt: at, ActorLogin: "ann",
			Repo: r.repo, RepoOwner: owner, IsUpstream: r.old, Destination: r.destination, Source: events.SourceGHArchive, Version: 1})
	}
	if err := s.InsertContributions(ctx, cs); err != nil {
		t.Fatal(err)
	}
	check := func(run int) {
		t.Helper()
		res, err := s.Query(ctx, "SELECT repo, is_upstream FROM contributions FINAL ORDER BY id", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != len(rows) {
			t.Fatalf("run %d: %d rows, want %d", run, len(res.Rows), len(rows))
		}
		for i, r := range res.Rows {
			want := rows[i].destination == "upstream"
			if r[0] != rows[i].repo || (store.AsInt(r[1]) == 1) != want {
				t.Errorf("run %d: %v, want %s with is_upstream %v", run, r, rows[i].repo, want)
			}
		}
	}
	for run := 1; run <= 2; run++ {
		for i, st := range mig.Statements {
			if err := s.Conn().Exec(ctx, st); err != nil {
				t.Fatalf("run %d: statement %d: %v", run, i+1, err)
			}
		}
		check(run)
	}
}
