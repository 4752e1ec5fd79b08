package enrich_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/repoclass"
	"giveback.dev/platform/roster"
	"giveback.dev/services/enrich"
)

// newService returns enrich.New(o), failing the test on an error.
func newService(t *testing.T, o enrich.Options) *enrich.Service {
	t.Helper()
	svc, err := enrich.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// processOnly returns a service for Process alone (no store, no bus), attributing with
// rosterCSV at the given roster generation.
func processOnly(t *testing.T, generation ...uint32) *enrich.Service {
	t.Helper()
	ro, err := roster.Parse(strings.NewReader(rosterCSV))
	if err != nil {
		t.Fatal(err)
	}
	company := config.Company{Name: "Acme", GitHubOrgs: []string{"acme"}}
	cl, err := repoclass.New(company.GitHubOrgs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := enrich.Options{Company: company, Roster: ro, Classifier: cl, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if len(generation) > 0 {
		o.Generation = generation[0]
	}
	return newService(t, o)
}

// What a record says of the repository classifies the destination: a fork owned by someone
// else is a fork, a company repository said to be public is the company's open source, one said
// to be private is internal.
func TestDestinationFromRecord(t *testing.T) {
	svc := processOnly(t)
	hook := func(id, repo string, fork, private bool) events.Raw {
		body := `{"action":"opened","number":1,"pull_request":{"number":1,"user":{"login":"ann"},"state":"open","created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z",` +
			`"base":{"repo":{"full_name":"` + repo + `","fork":` + bool2(fork) + `,"private":` + bool2(private) + `}}},` +
			`"repository":{"full_name":"` + repo + `","fork":` + bool2(fork) + `,"private":` + bool2(private) + `},"sender":{"login":"ann"}}`
		return events.Raw{Schema: events.SchemaRaw, Source: events.SourceWebhook, Kind: "pull_request", ID: id,
			FetchedAt: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Payload: json.RawMessage(body)}
	}
	res := svc.Process(encode(t, []events.Raw{
		hook("1", "bob/kubernetes", true, false),
		hook("2", "acme/sdk", false, false),
		hook("3", "acme/billing", false, true),
		hook("4", "kubernetes/kubernetes", false, false),
		hook("5", "ann/kubernetes", true, false),
	}))
	got := map[string]string{}
	for _, c := range res.Contributions {
		got[c.Repo] = c.Destination
	}
	want := map[string]string{"bob/kubernetes": repoclass.Fork, "acme/sdk": repoclass.CompanyOSS, "acme/billing": repoclass.Internal,
		"kubernetes/kubernetes": repoclass.Upstream, "ann/kubernetes": repoclass.Personal}
	for repo, d := range want {
		if got[repo] != d {
			t.Errorf("%s: destination %q, want %q", repo, got[repo], d)
		}
	}
}

func bool2(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Trimmed GH Archive events are sent for hydration when the company has a stake in them: the
// actor is on the roster, or the repository is the company's; never for someone who opted out,
// a bot, a stranger's event elsewhere, or a whole event.
func TestHydrationRequests(t *testing.T) {
	svc := processOnly(t)
	const head = "8b6d1f0c5a7e4b3d2c1f0e9d8c7b6a5f4e3d2c1b"
	line := func(id, typ, actor, repo, payload string) events.Raw {
		return raw(t, typ, id, `{"id":"`+id+`","type":"`+typ+`","actor":{"login":"`+actor+`"},"repo":{"name":"`+repo+`"},"payload":`+payload+`,"created_at":"2025-10-08T10:00:00Z"}`)
	}
	trimmedPR := `{"action":"closed","number":7,"pull_request":{"id":1,"number":7}}`
	trimmedPush := `{"ref":"refs/heads/main","head":"` + head + `","before":"1234567890abcdef1234567890abcdef12345678"}`
	res := svc.Process(encode(t, []events.Raw{
		line("1", "PullRequestEvent", "ann", "golang/go", trimmedPR),
		line("2", "PushEvent", "ann", "golang/go", trimmedPush),
		line("3", "PullRequestEvent", "stranger", "acme/tool", trimmedPR),
		line("4", "PullRequestEvent", "stranger", "golang/go", trimmedPR),
		line("5", "PushEvent", "opt", "golang/go", trimmedPush),
		line("6", "PushEvent", "dependabot[bot]", "acme/tool", trimmedPush),
		line("7", "PullRequestEvent", "ann", "golang/go", `{"action":"opened","number":8,"pull_request":{"number":8,"user":{"login":"ann"},"created_at":"2025-10-08T10:00:00Z"}}`),
	}))
	var got []string
	for _, h := range res.Hydrate {
		got = append(got, h.RawID+":"+h.Kind)
	}
	if strings.Join(got, ",") != "1:pull_request,2:push,3:pull_request" {
		t.Fatalf("hydration requests %v, want events 1 (ann's PR), 2 (ann's push), 3 (a PR in the company's org)", got)
	}
	if h := res.Hydrate[1]; h.Repo != "golang/go" || h.Head != head || h.Actor != "ann" || h.Schema != events.SchemaHydrate {
		t.Fatalf("push request %+v", h)
	}

	// Values that would go into a GitHub API path are checked first: a request GitHub would not
	// have made is not sent.
	res = svc.Process(encode(t, []events.Raw{
		line("11", "PushEvent", "ann", "golang/go", `{"ref":"refs/heads/main","head":"../../../user","before":""}`),
		line("12", "PullRequestEvent", "ann", "golang/go?per_page=100", trimmedPR),
		line("13", "PullRequestEvent", "ann", "golang/go", `{"action":"closed","number":-7,"pull_request":{"id":1,"number":-7}}`),
		line("14", "PushEvent", "ann", "golang/go", `{"ref":"refs/heads/main","head":"`+head+`","before":"HEAD~1"}`),
		line("15", "PullRequestEvent", "ann", "golang/go", trimmedPR),
	}))
	got = got[:0]
	for _, h := range res.Hydrate {
		got = append(got, h.RawID)
	}
	if strings.Join(got, ",") != "15" {
		t.Fatalf("hydration requests %v, want only event 15 (the valid one)", got)
	}
}
