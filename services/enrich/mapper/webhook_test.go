package mapper_test

import (
	"errors"
	"strings"
	"testing"

	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/services/enrich/mapper"
)

// expectWebhook returns the kind and number of rows an example must yield, or notContribution.
func expectWebhook(name string, body map[string]any) (kind string, n int, notContribution bool) {
	action := str(body, "action")
	one := func(k string, ok bool) (string, int, bool) {
		if ok {
			return k, 1, false
		}
		return k, 0, false
	}
	switch name {
	case "pull_request":
		n = 1
		if pr := dig(body, "pull_request"); dig(pr, "merged") == true && str(pr, "merged_by", "login") != "" &&
			!strings.EqualFold(str(pr, "merged_by", "login"), str(pr, "user", "login")) {
			n = 2 // and the merge by someone else
		}
		return events.KindPullRequest, n, false
	case "issues":
		return one(events.KindIssue, dig(body, "issue", "pull_request") == nil)
	case "discussion":
		return events.KindIssue, 1, false
	case "pull_request_review":
		return one(events.KindReview, action == "submitted")
	case "issue_comment", "pull_request_review_comment", "commit_comment", "discussion_comment":
		return one(events.KindComment, action == "created")
	case "release":
		return one(events.KindRelease, action == "published")
	case "push":
		for _, c := range list(body, "commits") {
			if dig(c, "distinct") == true {
				n++
			}
		}
		return events.KindCommit, n, false
	default:
		return "", 0, true
	}
}

func TestWebhookExamples(t *testing.T) {
	seen := map[string]bool{}
	rows := map[string]int{}
	for _, ex := range readWebhookExamples(t) {
		r := &ex.raw
		wantKind, wantN, wantNot := expectWebhook(ex.name, ex.body)
		cs, err := mapper.Map(r)
		seen[ex.name] = true
		if wantNot {
			if !errors.Is(err, mapper.ErrNotContribution) || cs != nil {
				t.Errorf("%s: %d rows, %v; want ErrNotContribution", r.ID, len(cs), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s (%s): %v", r.ID, str(ex.body, "action"), err)
			continue
		}
		if len(cs) != wantN {
			t.Errorf("%s (%s): %d rows, want %d", r.ID, str(ex.body, "action"), len(cs), wantN)
		}
		repo := str(ex.body, "repository", "full_name")
		for i, c := range cs {
			rows[ex.name]++
			if ex.name == "pull_request" && i == 1 {
				pr := dig(ex.body, "pull_request")
				if c.Kind != events.KindMerge || c.ID != "merge:"+lower(repo)+"#"+str(ex.body, "number") ||
					c.ActorLogin != str(pr, "merged_by", "login") || !c.OccurredAt.Equal(mustTime(t, str(pr, "merged_at"))) {
					t.Errorf("%s (%s): merge row %+v", r.ID, str(ex.body, "action"), c)
				}
				continue
			}
			if c.Kind != wantKind || c.Repo != repo || c.ActorLogin == "" || c.OccurredAt.IsZero() || c.Version == 0 || c.URL == "" ||
				c.Source != events.SourceWebhook || c.RawID != r.ID || c.Schema != events.SchemaContribution {
				t.Errorf("%s (%s): %+v", r.ID, str(ex.body, "action"), c)
			}
		}
		switch {
		case ex.name == "pull_request" && len(cs) >= 1:
			c, pr := cs[0], dig(ex.body, "pull_request")
			want := "pr:" + lower(repo) + "#" + str(ex.body, "number")
			if c.ID != want || c.ActorLogin != str(pr, "user", "login") || c.State != str(pr, "state") || c.Title != str(pr, "title") {
				t.Errorf("%s (%s): %s by %s %s %q; want %s by %s", r.ID, str(ex.body, "action"), c.ID, c.ActorLogin, c.State, c.Title, want, str(pr, "user", "login"))
			}
			if str(ex.body, "action") == "opened" && (c.State != "open" || c.Merged || c.MergedAt != nil || c.ClosedAt != nil) {
				t.Errorf("%s opened: %+v", r.ID, c)
			}
		case ex.name == "pull_request_review" && len(cs) == 1:
			c := cs[0]
			want := "review:" + lower(repo) + "#" + str(ex.body, "pull_request", "number") + "/" + str(ex.body, "review", "id")
			if c.ID != want || c.ActorLogin != str(ex.body, "review", "user", "login") || c.State != lower(str(ex.body, "review", "state")) || c.State == "" {
				t.Errorf("%s: %s by %s state %q, want %s by %s state %q", r.ID, c.ID, c.ActorLogin, c.State, want, str(ex.body, "review", "user", "login"), str(ex.body, "review", "state"))
			}
		case ex.name == "push" && len(cs) == len(list(ex.body, "commits")):
			commits := list(ex.body, "commits")
			for i, c := range cs {
				// the linked author login, else a noreply author's, else the pusher
				want := str(commits[i], "author", "username")
				if want == "" {
					want = str(ex.body, "sender", "login")
					if l, ok := roster.LoginFromNoreply(str(commits[i], "author", "email")); ok {
						want = l
					}
				}
				if c.ID != "commit:"+lower(repo)+"@"+str(commits[i], "id") || c.ActorLogin != want || c.AuthorEmail != lower(str(commits[i], "author", "email")) ||
					!c.OccurredAt.Equal(mustTime(t, str(commits[i], "timestamp"))) {
					t.Errorf("%s: %+v", r.ID, c)
				}
			}
		case ex.name == "issues" && len(cs) == 1:
			c := cs[0]
			if c.ID != "issue:"+lower(repo)+"#"+str(ex.body, "issue", "number") || c.ActorLogin != str(ex.body, "issue", "user", "login") {
				t.Errorf("%s: %s by %s", r.ID, c.ID, c.ActorLogin)
			}
		case ex.name == "discussion" && len(cs) == 1:
			if c := cs[0]; c.ID != "issue:"+lower(repo)+"#d"+str(ex.body, "discussion", "number") {
				t.Errorf("%s: %s", r.ID, c.ID)
			}
		case ex.name == "issue_comment" && len(cs) == 1:
			if c := cs[0]; c.ID != "comment:"+lower(repo)+"/issue/"+str(ex.body, "comment", "id") || c.Number == 0 {
				t.Errorf("%s: %s #%d", r.ID, c.ID, c.Number)
			}
		case ex.name == "commit_comment" && len(cs) == 1:
			if c := cs[0]; c.ID != "comment:"+lower(repo)+"/commit/"+str(ex.body, "comment", "id") {
				t.Errorf("%s: %s", r.ID, c.ID)
			}
		case ex.name == "release" && len(cs) == 1:
			if c := cs[0]; c.ID != "release:"+lower(repo)+"/"+str(ex.body, "release", "id") || c.ActorLogin != str(ex.body, "release", "author", "login") {
				t.Errorf("%s: %s by %s", r.ID, c.ID, c.ActorLogin)
			}
		}
	}
	for _, name := range []string{"pull_request", "pull_request_review", "issues", "issue_comment", "push", "release", "commit_comment", "star", "fork", "ping"} {
		if !seen[name] {
			t.Errorf("no %s example", name)
		}
	}
	for _, name := range []string{"pull_request", "pull_request_review", "issues", "issue_comment", "push", "release", "commit_comment"} {
		if rows[name] == 0 {
			t.Errorf("no row from any %s example", name)
		}
	}
	t.Logf("rows by webhook event: %v", rows)
}
