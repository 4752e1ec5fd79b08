package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/testkit"
)

// forkSaid is the part of a pull request event that says whether its repository is a fork.
type forkSaid struct {
	PullRequest *struct {
		Base struct {
			Repo struct {
				Fork bool `json:"fork"`
			} `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
	Forkee *struct {
		FullName string `json:"full_name"`
	} `json:"forkee"`
}

// thirdParty is what the sample holds of the roster's work, by where it went, computed from
// the raw events with the rules of the README, without the code under test.
type thirdParty struct {
	all, upstream, personal, fork map[string]string // contribution id -> repository (lower case)
}

func (tp *thirdParty) repos() []string {
	set := map[string]bool{}
	for _, r := range tp.upstream {
		set[r] = true
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// expectThirdParty sorts every roster contribution of the sample's events: upstream when the
// repository's owner is neither the company's org nor the credited login, and the repository
// is not one the sample shows being created by a fork nor one the event says is a fork.
func expectThirdParty(t *testing.T, evs []ghEvent, onRoster map[string]bool, companyOrg string) *thirdParty {
	t.Helper()
	forked := map[string]bool{}
	for _, ev := range evs {
		if ev.Type != "ForkEvent" {
			continue
		}
		var f forkSaid
		if err := json.Unmarshal(ev.Payload, &f); err != nil {
			t.Fatal(err)
		}
		if f.Forkee != nil {
			forked[strings.ToLower(f.Forkee.FullName)] = true
		}
	}
	tp := &thirdParty{all: map[string]string{}, upstream: map[string]string{}, personal: map[string]string{}, fork: map[string]string{}}
	for _, ev := range evs {
		var p ghPayload
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			t.Fatal(err)
		}
		var f forkSaid
		if err := json.Unmarshal(ev.Payload, &f); err != nil {
			t.Fatal(err)
		}
		// The contributions of this one event, with the login each is credited to.
		one := newExpectation()
		one.expect(ev.Type, ev.Actor.Login, ev.Repo.Name, p, onRoster)
		repo := strings.ToLower(ev.Repo.Name)
		owner, _, _ := strings.Cut(repo, "/")
		isFork := forked[repo] || (f.PullRequest != nil && f.PullRequest.Base.Repo.Fork)
		for _, ids := range one.ids {
			for id, login := range ids {
				tp.all[id] = repo
				switch {
				case owner == companyOrg:
				case owner == login:
					tp.personal[id] = repo
				case isFork:
					tp.fork[id] = repo
				default:
					tp.upstream[id] = repo
				}
			}
		}
	}
	return tp
}

// TestUpstreamIsThirdPartyOnRealData runs the real GH Archive hour through the pipeline with a
// roster of its busiest actors, and checks that upstream (is_upstream, the summary's headline)
// is exactly the third-party work: not the people's own repositories, not forks.
func TestUpstreamIsThirdPartyOnRealData(t *testing.T) {
	requireChDB(t)
	f := newFixture(t)
	_, evs := sampleActors(t, testkit.GHArchiveSample(t))
	want := expectThirdParty(t, evs, f.onRoster, "octo-org")
	if len(want.upstream) == 0 || len(want.personal) == 0 {
		t.Fatalf("the sample gives %d upstream and %d personal contributions; the test needs both", len(want.upstream), len(want.personal))
	}
	t.Logf("roster work in the sample: %d contributions, %d upstream in %d repositories, %d personal, %d fork",
		len(want.all), len(want.upstream), len(want.repos()), len(want.personal), len(want.fork))

	ctx, cancel := context.WithCancel(context.Background())
	s := startTestStack(t, ctx, f.cfgPath, t.TempDir())
	base := "http://" + s.httpAddr.String()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"backfill", "gharchive", "--source", f.hoursDir,
		"--from", "2025-01-01T15", "--to", "2025-01-01T16", "--nats", s.natsURL, "--data", s.dataDir}, &out, &errb); err != nil {
		t.Fatalf("backfill: %v\n%s", err, errb.String())
	}
	stored := func() int {
		return int(query(t, base, "SELECT count() FROM contributions FINAL WHERE employee_id != ''")[0][0].(float64))
	}
	waitFor(t, 60*time.Second, "every roster contribution of the sample", func() bool { return stored() >= len(want.all) })

	rows := query(t, base, "SELECT lower(id), lower(repo) FROM contributions FINAL WHERE employee_id != '' AND is_upstream = 1")
	got := map[string]string{}
	for _, r := range rows {
		got[fmt.Sprint(r[0])] = fmt.Sprint(r[1])
	}
	for id, repo := range want.upstream {
		if got[id] != repo {
			t.Errorf("third-party contribution %s to %s: not upstream", id, repo)
		}
	}
	for id, repo := range got {
		if _, ok := want.upstream[id]; !ok {
			t.Errorf("contribution %s to %s is upstream, but it is not third-party work", id, repo)
		}
	}
	var gotRepos []string
	for _, r := range query(t, base, "SELECT DISTINCT lower(repo) FROM contributions FINAL WHERE employee_id != '' AND is_upstream = 1 ORDER BY 1") {
		gotRepos = append(gotRepos, fmt.Sprint(r[0]))
	}
	if g, w := strings.Join(gotRepos, " "), strings.Join(want.repos(), " "); g != w {
		t.Errorf("upstream repositories:\n got %s\nwant %s", g, w)
	}

	// The summary's headline follows the same definition, and shows personal and fork work apart.
	resp, err := http.Get(base + "/api/v1/metrics/summary?from=2025-01-01&to=2025-01-01")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum struct {
		Contributions         int `json:"contributions"`
		UpstreamContributions int `json:"upstream_contributions"`
		UpstreamRepos         int `json:"upstream_repos"`
		PersonalContributions int `json:"personal_contributions"`
		ForkContributions     int `json:"fork_contributions"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("summary: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&sum); err != nil {
		t.Fatal(err)
	}
	if sum.Contributions != len(want.all) || sum.UpstreamContributions != len(want.upstream) || sum.UpstreamRepos != len(want.repos()) ||
		sum.PersonalContributions != len(want.personal) || sum.ForkContributions != len(want.fork) {
		t.Errorf("summary %+v, want contributions %d, upstream %d in %d repositories, personal %d, fork %d",
			sum, len(want.all), len(want.upstream), len(want.repos()), len(want.personal), len(want.fork))
	}
	cancel()
	if err := s.wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}
