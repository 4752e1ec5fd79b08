package demo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	depimport "giveback.dev/platform/deps"
	"giveback.dev/platform/roster"
	"giveback.dev/services/ingest/gharchive"
)

var (
	testFrom = time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	testTo   = time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)
)

func digest(t *testing.T, o Options) (sum [32]byte, n int) {
	t.Helper()
	h := sha256.New()
	err := NewGenerator(o).Events(func(_ time.Time, line []byte) error {
		n++
		h.Write(line)
		h.Write([]byte{'\n'})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, n
}

func TestDeterministic(t *testing.T) {
	o := Options{Seed: 7, From: testFrom, To: testFrom.AddDate(0, 0, 20)}
	a, n := digest(t, o)
	b, _ := digest(t, o)
	if a != b {
		t.Fatal("same options gave different events")
	}
	if n == 0 {
		t.Fatal("no events")
	}
	o.Seed = 8
	if c, _ := digest(t, o); c == a {
		t.Fatal("another seed gave the same events")
	}
	var r1, r2 bytes.Buffer
	if err := NewGenerator(Options{Seed: 7, From: testFrom, To: testTo}).RosterCSV(&r1); err != nil {
		t.Fatal(err)
	}
	if err := NewGenerator(Options{Seed: 7, From: testFrom, To: testTo}).RosterCSV(&r2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r1.Bytes(), r2.Bytes()) {
		t.Fatal("same options gave different rosters")
	}
}

// event is what the test reads of a line; pointers tell a missing member from a zero one.
type event struct {
	ID    *string `json:"id"`
	Type  string  `json:"type"`
	Actor *user   `json:"actor"`
	Repo  *struct {
		ID        int64
		Name, URL string
	} `json:"repo"`
	Payload   *json.RawMessage        `json:"payload"`
	Public    *bool                   `json:"public"`
	CreatedAt string                  `json:"created_at"`
	Org       *struct{ Login string } `json:"org"`
}

type user struct {
	ID           int64   `json:"id"`
	Login        string  `json:"login"`
	DisplayLogin *string `json:"display_login"`
	GravatarID   *string `json:"gravatar_id"`
	URL          string  `json:"url"`
	AvatarURL    string  `json:"avatar_url"`
}

type pr struct {
	Number    int     `json:"number"`
	HTMLURL   string  `json:"html_url"`
	Title     string  `json:"title"`
	State     string  `json:"state"`
	User      *user   `json:"user"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
	ClosedAt  *string `json:"closed_at"`
	MergedAt  *string `json:"merged_at"`
	Merged    *bool   `json:"merged"`
}

type payload struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	PullRequest *pr    `json:"pull_request"`
	Issue       *pr    `json:"issue"`
	Review      *struct {
		ID          int64  `json:"id"`
		User        *user  `json:"user"`
		State       string `json:"state"`
		SubmittedAt string `json:"submitted_at"`
		HTMLURL     string `json:"html_url"`
	} `json:"review"`
	Comment *struct {
		ID        int64  `json:"id"`
		User      *user  `json:"user"`
		CreatedAt string `json:"created_at"`
		HTMLURL   string `json:"html_url"`
	} `json:"comment"`
	Commits []struct {
		SHA      string `json:"sha"`
		Author   struct{ Email, Name string }
		Message  string `json:"message"`
		Distinct bool   `json:"distinct"`
		URL      string `json:"url"`
	} `json:"commits"`
	Size         *int   `json:"size"`
	DistinctSize *int   `json:"distinct_size"`
	PushID       int64  `json:"push_id"`
	Ref          string `json:"ref"`
	Head         string `json:"head"`
	Before       string `json:"before"`
	RefType      string `json:"ref_type"`
	Forkee       *struct {
		FullName string `json:"full_name"`
	} `json:"forkee"`
	Release *struct {
		ID          int64  `json:"id"`
		TagName     string `json:"tag_name"`
		Name        string `json:"name"`
		Author      *user  `json:"author"`
		PublishedAt string `json:"published_at"`
		HTMLURL     string `json:"html_url"`
	} `json:"release"`
}

var (
	sha40   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	numeric = regexp.MustCompile(`^[1-9][0-9]*$`)
)

func TestEventsFormat(t *testing.T) {
	g := NewGenerator(Options{Seed: 1, From: testFrom, To: testTo})
	seen := map[string]bool{}
	types := map[string]int{}
	opened := map[string]bool{}
	var last time.Time
	var prs, mergedPRs, unmergedPRs int
	n := 0
	err := g.Events(func(hour time.Time, line []byte) error {
		n++
		fail := func(format string, args ...any) error {
			return fmt.Errorf("event %d: %s\n%s", n, fmt.Sprintf(format, args...), line)
		}
		if !json.Valid(line) {
			return fail("not JSON")
		}
		if id, kind, err := gharchive.ParseLine(line); err != nil || kind == "" || id == "" {
			return fail("gharchive.ParseLine: %v", err)
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			return fail("%v", err)
		}
		if e.ID == nil || !numeric.MatchString(*e.ID) || seen[*e.ID] {
			return fail("id missing, not numeric or repeated")
		}
		seen[*e.ID] = true
		types[e.Type]++
		if e.Actor == nil || e.Actor.ID == 0 || e.Actor.Login == "" || e.Actor.DisplayLogin == nil || e.Actor.GravatarID == nil ||
			e.Actor.URL != "https://api.github.com/users/"+e.Actor.Login || !strings.HasPrefix(e.Actor.AvatarURL, "https://avatars.githubusercontent.com/u/") {
			return fail("actor")
		}
		if e.Repo == nil || e.Repo.ID == 0 || strings.Count(e.Repo.Name, "/") != 1 || e.Repo.URL != "https://api.github.com/repos/"+e.Repo.Name {
			return fail("repo")
		}
		// The company's and upstream projects' repositories belong to orgs; a person's own
		// repository and a fork belong to a user, and GH Archive names no org then.
		if e.Org != nil && !strings.HasPrefix(e.Repo.Name, e.Org.Login+"/") {
			return fail("org")
		}
		if e.Public == nil || !*e.Public || e.Payload == nil {
			return fail("public or payload")
		}
		at, err := time.Parse(time.RFC3339, e.CreatedAt)
		if err != nil || !strings.HasSuffix(e.CreatedAt, "Z") || len(e.CreatedAt) != 20 {
			return fail("created_at %q", e.CreatedAt)
		}
		if at.Before(last) || at.Before(testFrom) || !at.Before(testTo) {
			return fail("created_at %s out of order or range", at)
		}
		last = at
		if !hour.Equal(at.Truncate(time.Hour)) {
			return fail("hour %s for %s", hour, at)
		}
		var p payload
		if err := json.Unmarshal(*e.Payload, &p); err != nil {
			return fail("payload: %v", err)
		}
		key := func(num int) string { return e.Repo.Name + "#" + strconv.Itoa(num) }
		switch e.Type {
		case "PullRequestEvent":
			q := p.PullRequest
			if q == nil || q.Number != p.Number || q.User == nil || q.Merged == nil || q.Title == "" ||
				q.HTMLURL != "https://github.com/"+e.Repo.Name+"/pull/"+strconv.Itoa(q.Number) || q.CreatedAt == "" || q.UpdatedAt != e.CreatedAt {
				return fail("pull_request")
			}
			switch p.Action {
			case "opened":
				if q.State != "open" || q.ClosedAt != nil || *q.Merged || q.User.Login != e.Actor.Login {
					return fail("opened pull request")
				}
				opened[key(q.Number)] = true
			case "closed":
				if q.State != "closed" || q.ClosedAt == nil || (*q.Merged != (q.MergedAt != nil)) {
					return fail("closed pull request")
				}
				if !opened[key(q.Number)] {
					return fail("closed a pull request never opened")
				}
				prs++
				if *q.Merged {
					mergedPRs++
				} else {
					unmergedPRs++
				}
			default:
				return fail("action %q", p.Action)
			}
		case "PullRequestReviewEvent":
			r := p.Review
			if p.Action != "created" || r == nil || r.ID == 0 || r.User == nil || r.User.Login != e.Actor.Login || r.SubmittedAt != e.CreatedAt ||
				!strings.Contains(r.HTMLURL, "#pullrequestreview-") || p.PullRequest == nil || p.PullRequest.Number == 0 || p.PullRequest.User == nil {
				return fail("review")
			}
			if r.State != "approved" && r.State != "commented" && r.State != "changes_requested" {
				return fail("review state %q", r.State)
			}
			if !opened[key(p.PullRequest.Number)] {
				return fail("review of a pull request never opened")
			}
		case "IssuesEvent":
			i := p.Issue
			if i == nil || i.Number == 0 || i.User == nil || i.Title == "" || i.CreatedAt == "" || i.UpdatedAt == "" ||
				i.HTMLURL != "https://github.com/"+e.Repo.Name+"/issues/"+strconv.Itoa(i.Number) {
				return fail("issue")
			}
			switch p.Action {
			case "opened":
				if i.State != "open" || i.ClosedAt != nil {
					return fail("opened issue")
				}
				opened[key(i.Number)] = true
			case "closed":
				if i.State != "closed" || i.ClosedAt == nil || !opened[key(i.Number)] {
					return fail("closed issue")
				}
			default:
				return fail("action %q", p.Action)
			}
		case "IssueCommentEvent":
			c := p.Comment
			if p.Action != "created" || c == nil || c.ID == 0 || c.User == nil || c.User.Login != e.Actor.Login || c.CreatedAt != e.CreatedAt ||
				!strings.Contains(c.HTMLURL, "#issuecomment-") || p.Issue == nil || p.Issue.Number == 0 || !opened[key(p.Issue.Number)] {
				return fail("comment")
			}
		case "PushEvent":
			if len(p.Commits) == 0 || p.Size == nil || *p.Size != len(p.Commits) || p.DistinctSize == nil || p.PushID == 0 ||
				!strings.HasPrefix(p.Ref, "refs/heads/") || !sha40.MatchString(p.Head) || !sha40.MatchString(p.Before) ||
				p.Head != p.Commits[len(p.Commits)-1].SHA {
				return fail("push")
			}
			for _, c := range p.Commits {
				if !sha40.MatchString(c.SHA) || !strings.Contains(c.Author.Email, "@") || c.Author.Name == "" || c.Message == "" || !c.Distinct ||
					c.URL != "https://api.github.com/repos/"+e.Repo.Name+"/commits/"+c.SHA {
					return fail("commit")
				}
			}
		case "ReleaseEvent":
			r := p.Release
			if p.Action != "published" || r == nil || r.ID == 0 || r.TagName == "" || r.Name == "" || r.Author == nil ||
				r.PublishedAt != e.CreatedAt || r.HTMLURL != "https://github.com/"+e.Repo.Name+"/releases/tag/"+r.TagName {
				return fail("release")
			}
		case "CreateEvent":
			if p.RefType != "branch" && p.RefType != "tag" {
				return fail("ref_type")
			}
		case "ForkEvent":
			if p.Forkee == nil || !strings.HasPrefix(p.Forkee.FullName, e.Actor.Login+"/") {
				return fail("forkee")
			}
		case "WatchEvent":
			if p.Action != "started" {
				return fail("watch")
			}
		default:
			return fail("type %q", e.Type)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"PullRequestEvent", "PullRequestReviewEvent", "IssuesEvent", "IssueCommentEvent", "PushEvent",
		"ReleaseEvent", "WatchEvent", "ForkEvent", "CreateEvent"} {
		if types[typ] == 0 {
			t.Errorf("no %s in %d events", typ, n)
		}
	}
	if mergedPRs < unmergedPRs*3 || unmergedPRs == 0 {
		t.Errorf("%d pull requests closed: %d merged, %d not; want most merged and some not", prs, mergedPRs, unmergedPRs)
	}
}

func TestCompanyActivity(t *testing.T) {
	g := NewGenerator(Options{Seed: 1, From: testFrom, To: testTo})
	co := g.Company()
	if co.Name != "Northwind Labs" || len(co.Orgs) != 2 || co.EmailDomains[0] != "northwind.example" {
		t.Fatalf("company %+v", co)
	}
	var buf bytes.Buffer
	if err := g.RosterCSV(&buf); err != nil {
		t.Fatal(err)
	}
	ro, err := roster.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	keep := gharchive.LoginFilter(ro.Logins(), co.Orgs)
	var employee, outsider, own, upstreamByUs, kept int
	err = g.Events(func(_ time.Time, line []byte) error {
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		at, _ := time.Parse(time.RFC3339, e.CreatedAt)
		_, isEmployee := ro.ByLogin(e.Actor.Login, at)
		owner, _, _ := strings.Cut(e.Repo.Name, "/")
		isOwn := owner == co.Orgs[0] || owner == co.Orgs[1]
		switch {
		case isEmployee:
			employee++
			if !isOwn {
				upstreamByUs++
			}
		default:
			outsider++
		}
		if isOwn {
			own++
		}
		if keep(line) {
			kept++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("employees %d (upstream %d), others %d, in own orgs %d, kept by the roster filter %d", employee, upstreamByUs, outsider, own, kept)
	if employee == 0 || outsider == 0 || own == 0 || upstreamByUs == 0 {
		t.Fatal("want activity by employees upstream and in the company's orgs, and by outside contributors")
	}
	if kept <= employee || kept >= employee+outsider {
		t.Errorf("roster filter kept %d of %d events, want more than the employees' own %d", kept, employee+outsider, employee)
	}
}

func TestRoster(t *testing.T) {
	g := NewGenerator(Options{Seed: 3, From: testFrom.AddDate(-2, 0, 0), To: testFrom})
	var buf bytes.Buffer
	if err := g.RosterCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), strings.Join(roster.Header, ",")+"\n") {
		t.Fatalf("header: %q", strings.SplitN(buf.String(), "\n", 2)[0])
	}
	ro, err := roster.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	from := g.opt.From
	byID := map[string][]roster.Period{}
	var twoLogins, leavers, hired, optOut int
	for _, p := range ro.Periods {
		byID[p.EmployeeID] = append(byID[p.EmployeeID], p)
		if len(p.Logins) > 1 {
			twoLogins++
		}
		if p.OptOut {
			optOut++
		}
		if p.Start.After(from) {
			hired++
		}
		for _, e := range p.Emails {
			if !strings.HasSuffix(e, "@northwind.example") && !strings.HasSuffix(e, "@users.noreply.github.com") {
				t.Errorf("e-mail %s", e)
			}
		}
	}
	if len(byID) != 50 {
		t.Errorf("%d employees, want 50", len(byID))
	}
	moves := 0
	for id, ps := range byID {
		switch len(ps) {
		case 1:
			if !ps[0].End.IsZero() {
				leavers++
			}
		case 2:
			a, b := ps[0], ps[1]
			if a.Team == b.Team || a.End.IsZero() || !a.End.AddDate(0, 0, 1).Equal(b.Start) {
				t.Errorf("%s: periods %s–%s (%s) and %s– (%s) are not a team move", id, a.Start, a.End, a.Team, b.Start, b.Team)
			}
			moves++
		default:
			t.Errorf("%s has %d periods", id, len(ps))
		}
	}
	if twoLogins < 2 || moves != 1 || leavers != 1 || hired < 1 || optOut != 1 || len(ro.Teams()) != 5 {
		t.Errorf("two logins %d, moves %d, leavers %d, hired in the period %d, opted out %d, teams %d",
			twoLogins, moves, leavers, hired, optOut, len(ro.Teams()))
	}
}

var hourName = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})-(\d|1\d|2[0-3])\.json\.gz$`)

func TestWriteHours(t *testing.T) {
	if got := HourFile(time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)); got != "2025-01-02-3.json.gz" {
		t.Errorf("HourFile = %s", got)
	}
	dir := t.TempDir()
	g := NewGenerator(Options{Seed: 1, From: testFrom, To: testFrom.AddDate(0, 0, 3)})
	files, events, err := g.WriteHours(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 || len(entries) != files || files > 72 {
		t.Fatalf("%d files written, %d in the directory", files, len(entries))
	}
	lines := 0
	for _, de := range entries {
		m := hourName.FindStringSubmatch(de.Name())
		if m == nil {
			t.Fatalf("file name %s", de.Name())
		}
		f, err := os.Open(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		prefix := `"created_at":"` + m[1] + "T" + pad2(m[2]) + ":"
		for sc.Scan() {
			lines++
			if !bytes.Contains(sc.Bytes(), []byte(prefix)) {
				t.Fatalf("%s: event of another hour: %s", de.Name(), sc.Bytes())
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if lines != events {
		t.Errorf("%d lines in the files, %d events reported", lines, events)
	}
}

func pad2(h string) string {
	if len(h) == 1 {
		return "0" + h
	}
	return h
}

func TestEventsPerDay(t *testing.T) {
	const perDay = 2000
	from := testFrom
	_, n := digest(t, Options{Seed: 2, From: from, To: from.AddDate(0, 0, 14), EventsPerDay: perDay})
	if got := float64(n) / 14; got < perDay*0.6 || got > perDay*1.4 {
		t.Errorf("%.0f events a day, want about %d", got, perDay)
	}
}

func TestEventsStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := NewGenerator(Options{Seed: 1, From: testFrom, To: testTo}).Events(func(time.Time, []byte) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("err %v after %d events", err, n)
	}
}

func TestAppendTime(t *testing.T) {
	for _, ts := range []int64{0, 951782400, 1735743600, 1709164799, 4102444800, 1672531199} {
		want := time.Unix(ts, 0).UTC().Format("2006-01-02T15:04:05Z")
		if got := string(appendTime(nil, ts)); got != want {
			t.Errorf("appendTime(%d) = %s, want %s", ts, got, want)
		}
	}
}

func BenchmarkEvents(b *testing.B) {
	g := NewGenerator(Options{Seed: 1, From: testFrom, To: testFrom.AddDate(0, 0, 30), EventsPerDay: 5000})
	var events, size int
	b.ResetTimer()
	for b.Loop() {
		err := g.Events(func(_ time.Time, line []byte) error {
			events++
			size += len(line)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/float64(events), "B/event")
}

func TestIDBase(t *testing.T) {
	var ids []string
	err := NewGenerator(Options{Seed: 1, From: testFrom, To: testFrom.AddDate(0, 0, 2), IDBase: 20_000_000_000}).Events(func(_ time.Time, line []byte) error {
		id, _, err := gharchive.ParseLine(line)
		ids = append(ids, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) < 2 || ids[0] != "20000000001" || ids[len(ids)-1] != strconv.Itoa(20_000_000_000+len(ids)) {
		t.Fatalf("ids %s … %s for %d events", ids[0], ids[len(ids)-1], len(ids))
	}
}

// The demo's manifests are go.mod files the dependency importer reads: every module maps to a
// repository but helm's (no known source for its vanity path), some the demo company contributes
// to, some not.
func TestWriteManifests(t *testing.T) {
	dir := t.TempDir()
	n, err := NewGenerator(Options{Seed: 1}).WriteManifests(dir)
	if err != nil || n != len(demoServices) {
		t.Fatalf("WriteManifests = %d, %v", n, err)
	}
	ms, errs := depimport.Load([]string{dir})
	if len(errs) > 0 || len(ms) != n {
		t.Fatalf("Load: %d manifests, errors %v", len(ms), errs)
	}
	ds, unmapped := depimport.Aggregate(ms)
	byRepo := map[string]int{}
	for _, d := range ds {
		byRepo[d.Repo] = d.Criticality
	}
	if byRepo["prometheus/client_golang"] != 5 || byRepo["open-telemetry/opentelemetry-go"] != 4 || byRepo["nats-io/nats.go"] != 2 || byRepo["spf13/cobra"] != 2 {
		t.Fatalf("dependencies %v", byRepo)
	}
	if len(unmapped) != 1 || unmapped[0].Name != "helm.sh/helm/v3" {
		t.Fatalf("unmapped %+v", unmapped)
	}
	contributed := map[string]bool{}
	for _, td := range teamDefs {
		for _, r := range td.upstream {
			contributed[strings.ToLower(r)] = true
		}
	}
	var some, none int
	for r := range byRepo {
		if contributed[r] {
			some++
		} else {
			none++
		}
	}
	if some < 4 || none < 4 {
		t.Fatalf("%d dependencies the demo contributes to and %d it does not; want several of each", some, none)
	}
}
