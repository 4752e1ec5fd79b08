package demo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/roster"
)

// sideEvent is what TestSideWorkProportions reads of an event.
type sideEvent struct {
	Type  string `json:"type"`
	Actor struct {
		Login string `json:"login"`
	} `json:"actor"`
	Repo struct {
		Name string `json:"name"`
	} `json:"repo"`
	CreatedAt time.Time `json:"created_at"`
	Payload   struct {
		Action      string            `json:"action"`
		Commits     []json.RawMessage `json:"commits"`
		PullRequest *struct {
			Base struct {
				Repo *struct {
					Fork bool `json:"fork"`
				} `json:"repo"`
			} `json:"base"`
		} `json:"pull_request"`
	} `json:"payload"`
}

// The demo's people work where real people do: besides the company's and upstream
// repositories, in their own repositories (under any of their logins) and a little in forks,
// in about the proportions of a real GH Archive hour seen through a roster of its busiest
// actors: 231 contributions to their own repositories for 97 upstream, none to forks (1 in 100
// across all of the hour's actors).
func TestSideWorkProportions(t *testing.T) {
	g := NewGenerator(Options{Seed: 1, From: testFrom, To: testTo})
	var buf bytes.Buffer
	if err := g.RosterCSV(&buf); err != nil {
		t.Fatal(err)
	}
	ro, err := roster.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	logins := map[string]map[string]bool{} // employee id -> every login
	for _, p := range ro.Periods {
		if logins[p.EmployeeID] == nil {
			logins[p.EmployeeID] = map[string]bool{}
		}
		for _, l := range p.Logins {
			logins[p.EmployeeID][l] = true
		}
	}
	orgs := g.Company().Orgs
	by := map[string]int{}
	otherLogin := 0 // personal contributions to a repository of another login of the person
	err = g.Events(func(_ time.Time, line []byte) error {
		var e sideEvent
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		m, ok := ro.ByLogin(e.Actor.Login, e.CreatedAt)
		if !ok {
			return nil
		}
		n := 0
		switch e.Type {
		case "PushEvent":
			n = len(e.Payload.Commits)
		case "PullRequestEvent", "IssuesEvent":
			if e.Payload.Action == "opened" {
				n = 1
			}
		case "PullRequestReviewEvent", "IssueCommentEvent":
			n = 1
		}
		owner, _, _ := strings.Cut(strings.ToLower(e.Repo.Name), "/")
		switch {
		case n == 0:
		case owner == strings.ToLower(orgs[0]) || owner == strings.ToLower(orgs[1]):
			by["company"] += n
		case logins[m.EmployeeID][owner]:
			by["personal"] += n
			if owner != strings.ToLower(e.Actor.Login) {
				otherLogin += n
			}
		case e.Payload.PullRequest != nil && e.Payload.PullRequest.Base.Repo != nil && e.Payload.PullRequest.Base.Repo.Fork:
			by["fork"] += n
		default:
			by["upstream"] += n
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := by["company"] + by["personal"] + by["fork"] + by["upstream"]
	ratio := float64(by["personal"]) / float64(max(by["upstream"], 1))
	forkShare := float64(by["fork"]) / float64(max(all, 1))
	t.Logf("employees' contributions: %v; personal per upstream %.2f, forks %.2f%% of all, %d personal to another login of the person",
		by, ratio, 100*forkShare, otherLogin)
	if ratio < 1.8 || ratio > 3.2 {
		t.Errorf("personal per upstream contribution %.2f, want about 2.4 (1.8–3.2)", ratio)
	}
	if forkShare <= 0 || forkShare > 0.03 {
		t.Errorf("forks take %.2f%% of the contributions, want some, at most 3%%", 100*forkShare)
	}
	if otherLogin == 0 {
		t.Error("no personal work in a repository of the person's other login")
	}
}
