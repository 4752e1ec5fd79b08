package mapper_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/services/enrich/mapper"
)

// expectArchive applies the mapping rules to one GH Archive event, independently of the mapper:
// the ids it must yield, or notContribution for kinds that carry none.
func expectArchive(ev map[string]any) (ids []string, notContribution bool) {
	repo := lower(str(ev, "repo", "name"))
	p := dig(ev, "payload")
	action := str(p, "action")
	switch str(ev, "type") {
	case "PullRequestEvent":
		author := str(p, "pull_request", "user", "login")
		if author == "" && action == "opened" {
			author = str(ev, "actor", "login")
		}
		if author == "" {
			return nil, false
		}
		n := firstNonEmpty(str(p, "pull_request", "number"), str(p, "number"))
		ids = []string{"pr:" + repo + "#" + n}
		// Merged by someone other than the author: the actor of the closing event merged it.
		if action == "closed" && dig(p, "pull_request", "merged") == true && !strings.EqualFold(str(ev, "actor", "login"), author) {
			ids = append(ids, "merge:"+repo+"#"+n)
		}
		return ids, false
	case "IssuesEvent":
		if dig(p, "issue", "pull_request") != nil {
			return nil, false // an issues event about a PR: the PR's own events carry it
		}
		return []string{"issue:" + repo + "#" + str(p, "issue", "number")}, false
	case "PullRequestReviewEvent":
		if action != "created" && action != "submitted" {
			return nil, false
		}
		return []string{"review:" + repo + "#" + str(p, "pull_request", "number") + "/" + str(p, "review", "id")}, false
	case "IssueCommentEvent", "PullRequestReviewCommentEvent", "CommitCommentEvent":
		if action != "" && action != "created" {
			return nil, false
		}
		typ := map[string]string{"IssueCommentEvent": "issue", "PullRequestReviewCommentEvent": "review", "CommitCommentEvent": "commit"}[str(ev, "type")]
		return []string{"comment:" + repo + "/" + typ + "/" + str(p, "comment", "id")}, false
	case "PushEvent":
		for _, c := range list(p, "commits") { // absent in trimmed payloads: no rows
			if dig(c, "distinct") == true {
				ids = append(ids, "commit:"+repo+"@"+str(c, "sha"))
			}
		}
		return ids, false
	case "ReleaseEvent":
		if action != "published" {
			return nil, false
		}
		return []string{"release:" + repo + "/" + str(p, "release", "id")}, false
	default:
		return nil, true
	}
}

func kindOf(id string) string {
	prefix, _, _ := strings.Cut(id, ":")
	if prefix == "pr" {
		return events.KindPullRequest
	}
	return prefix
}

func TestGHArchiveSample(t *testing.T) {
	lines := readSample(t)
	if len(lines) != 2048 {
		t.Fatalf("sample has %d lines, want 2048", len(lines))
	}
	wantKinds, gotKinds := map[string]int{}, map[string]int{}
	notContribution := map[string]int{}
	merges, reviewStates := 0, map[string]int{}
	for _, l := range lines {
		ev, r := l.event, &l.raw
		wantIDs, wantNot := expectArchive(ev)
		cs, err := mapper.Map(r)
		if wantNot {
			if !errors.Is(err, mapper.ErrNotContribution) || len(cs) != 0 {
				t.Errorf("%s %s: got %d rows, %v; want ErrNotContribution", r.Kind, r.ID, len(cs), err)
			}
			notContribution[r.Kind]++
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", r.Kind, r.ID, err)
			continue
		}
		var gotIDs []string
		for _, c := range cs {
			gotIDs = append(gotIDs, c.ID)
			gotKinds[c.Kind]++
			checkCommon(t, r, ev, c)
		}
		for _, id := range wantIDs {
			wantKinds[kindOf(id)]++
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("%s %s: ids %q, want %q", r.Kind, r.ID, gotIDs, wantIDs)
		}
		if r.Kind == "PullRequestEvent" && len(cs) >= 1 {
			checkPull(t, r, ev, cs[0])
		}
		if r.Kind == "PullRequestEvent" && len(cs) == 2 {
			checkMerge(t, ev, cs[0], cs[1])
			merges++
		}
		if r.Kind == "PullRequestReviewEvent" && len(cs) == 1 {
			reviewStates[cs[0].State]++
		}
	}
	for _, k := range events.Kinds {
		if gotKinds[k] != wantKinds[k] {
			t.Errorf("kind %s: %d rows, want %d", k, gotKinds[k], wantKinds[k])
		}
	}
	for _, typ := range []string{"WatchEvent", "CreateEvent", "DeleteEvent", "ForkEvent", "PublicEvent", "MemberEvent", "GollumEvent"} {
		if notContribution[typ] == 0 {
			t.Errorf("no %s in the sample reached ErrNotContribution", typ)
		}
	}
	// The hour holds pull requests merged by someone other than their author, and approvals.
	if merges == 0 || reviewStates["approved"] == 0 || reviewStates["commented"] == 0 {
		t.Errorf("merge rows %d, review states %v; the sample has both", merges, reviewStates)
	}
	t.Logf("rows by kind: %v; not contributions: %v; review states %v", gotKinds, notContribution, reviewStates)
}

// checkCommon checks the fields every row of a GH Archive event carries.
func checkCommon(t *testing.T, r *events.Raw, ev map[string]any, c events.Contribution) {
	t.Helper()
	repo := str(ev, "repo", "name")
	owner, _, _ := strings.Cut(repo, "/")
	switch {
	case c.Schema != events.SchemaContribution, c.Source != events.SourceGHArchive, c.RawID != r.ID:
		t.Errorf("%s: envelope fields %q %q %q", c.ID, c.Schema, c.Source, c.RawID)
	case c.Repo != repo || c.RepoOwner != owner:
		t.Errorf("%s: repo %q owner %q, want %q %q", c.ID, c.Repo, c.RepoOwner, repo, owner)
	case c.ActorLogin == "" || c.URL == "" || c.Version == 0:
		t.Errorf("%s: actor %q url %q version %d", c.ID, c.ActorLogin, c.URL, c.Version)
	case c.OccurredAt.IsZero() || c.OccurredAt.Location().String() != "UTC":
		t.Errorf("%s: occurred_at %v", c.ID, c.OccurredAt)
	case c.EmployeeID != "" || c.Team != "" || c.IsUpstream:
		t.Errorf("%s: attribution fields set by the mapper", c.ID)
	}
	switch c.Kind {
	case events.KindCommit:
		// The author of a noreply e-mail, else the pusher; the e-mail goes along.
		want, email := str(ev, "actor", "login"), ""
		for _, cm := range list(ev, "payload", "commits") {
			if strings.EqualFold("commit:"+strings.ToLower(repo)+"@"+str(cm, "sha"), c.ID) {
				email = str(cm, "author", "email")
				if l, ok := roster.LoginFromNoreply(email); ok {
					want = l
				}
			}
		}
		if c.ActorLogin != want || c.AuthorEmail != strings.ToLower(email) || c.OccurredAt.Format("2006-01-02T15:04:05Z") != str(ev, "created_at") {
			t.Errorf("%s: author %q <%s> at %v, want %q <%s> at %s", c.ID, c.ActorLogin, c.AuthorEmail, c.OccurredAt, want, email, str(ev, "created_at"))
		}
		if c.URL != "https://github.com/"+repo+"/commit/"+c.ID[strings.LastIndexByte(c.ID, '@')+1:] || strings.Contains(c.Title, "\n") {
			t.Errorf("%s: url %q title %q", c.ID, c.URL, c.Title)
		}
	case events.KindComment:
		if c.ActorLogin != str(ev, "payload", "comment", "user", "login") {
			t.Errorf("%s: actor %q", c.ID, c.ActorLogin)
		}
	case events.KindReview:
		if c.ActorLogin != str(ev, "payload", "review", "user", "login") || c.State != strings.ToLower(str(ev, "payload", "review", "state")) || c.State == "" {
			t.Errorf("%s: actor %q state %q", c.ID, c.ActorLogin, c.State)
		}
	case events.KindIssue:
		if c.ActorLogin != str(ev, "payload", "issue", "user", "login") || c.State != str(ev, "payload", "issue", "state") {
			t.Errorf("%s: actor %q state %q", c.ID, c.ActorLogin, c.State)
		}
	case events.KindRelease:
		if c.ActorLogin != firstNonEmpty(str(ev, "payload", "release", "author", "login"), str(ev, "actor", "login")) ||
			c.Title != firstNonEmpty(str(ev, "payload", "release", "name"), str(ev, "payload", "release", "tag_name")) {
			t.Errorf("%s: actor %q title %q", c.ID, c.ActorLogin, c.Title)
		}
	}
}

// checkPull checks a PR row against the PullRequestEvent it came from.
func checkPull(t *testing.T, r *events.Raw, ev map[string]any, c events.Contribution) {
	t.Helper()
	pr := dig(ev, "payload", "pull_request")
	merged := dig(pr, "merged") == true
	switch {
	case c.Kind != events.KindPullRequest:
		t.Errorf("%s: kind %q", c.ID, c.Kind)
	case c.ActorLogin != str(pr, "user", "login"):
		t.Errorf("%s: actor %q, want the author %q (event actor %q)", c.ID, c.ActorLogin, str(pr, "user", "login"), str(ev, "actor", "login"))
	case c.State != str(pr, "state") || c.Merged != merged || (c.MergedAt != nil) != merged:
		t.Errorf("%s: state %q merged %v at %v; want %q %v", c.ID, c.State, c.Merged, c.MergedAt, str(pr, "state"), merged)
	case c.OccurredAt.Format("2006-01-02T15:04:05Z") != str(pr, "created_at"):
		t.Errorf("%s: occurred_at %v, want created_at %s", c.ID, c.OccurredAt, str(pr, "created_at"))
	case (c.ClosedAt != nil) != (str(pr, "closed_at") != ""):
		t.Errorf("%s: closed_at %v, want %q", c.ID, c.ClosedAt, str(pr, "closed_at"))
	case c.Title != str(pr, "title") || c.URL != str(pr, "html_url") || c.Number == 0:
		t.Errorf("%s: title %q url %q number %d", c.ID, c.Title, c.URL, c.Number)
	case c.Version != uint64(mustTime(t, str(pr, "updated_at")).UnixMilli()):
		t.Errorf("%s: version %d, want updated_at %s", c.ID, c.Version, str(pr, "updated_at"))
	}
	if str(ev, "payload", "action") == "closed" && merged && !c.Merged {
		t.Errorf("%s: closed with merged:true, not merged", c.ID)
	}
}

// checkMerge checks the merge row of a PullRequestEvent against the event: the actor who closed
// it, at its merged_at, on the pull request's number.
func checkMerge(t *testing.T, ev map[string]any, pr, m events.Contribution) {
	t.Helper()
	at := mustTime(t, str(ev, "payload", "pull_request", "merged_at"))
	switch {
	case m.Kind != events.KindMerge || m.ActorLogin != str(ev, "actor", "login") || strings.EqualFold(m.ActorLogin, pr.ActorLogin):
		t.Errorf("%s: kind %q by %q (author %q)", m.ID, m.Kind, m.ActorLogin, pr.ActorLogin)
	case !m.OccurredAt.Equal(at) || m.Number != pr.Number || m.URL != pr.URL || m.Repo != pr.Repo || m.Version != uint64(at.UnixMilli()):
		t.Errorf("%s: at %v number %d url %q version %d; want %v %d %q", m.ID, m.OccurredAt, m.Number, m.URL, m.Version, at, pr.Number, pr.URL)
	case m.State != "" || m.Merged:
		t.Errorf("%s: state %q merged %v", m.ID, m.State, m.Merged)
	}
}
