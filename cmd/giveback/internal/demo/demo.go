// Package demo generates a fictional company's open source activity: a roster and two years of
// GH Archive events, seeded and deterministic, so Giveback can be tried and measured without a
// token or the network.
//
// The company is Northwind Labs (GitHub orgs northwind-labs and northwind-oss, e-mail domain
// northwind.example): about 50 people in 5 teams, each team focused on a set of real upstream
// repositories and a few of the company's own. The events are written exactly as GH Archive
// writes them, one JSON object a line, and include what the pipeline must cope with: outside
// contributors in the same repositories, maintainers reviewing and merging the company's pull
// requests, people with two logins, a team move, a leaver and a late hire who contribute outside
// their employment, an opted-out employee, bots, and the noise of stars, forks and branches.
package demo

import (
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"giveback.dev/platform/roster"
)

// Options shape the generated company and its activity. Zero values take the defaults.
type Options struct {
	Seed      int64
	Employees int // default 50, at least 12
	Teams     int // default 5, between 1 and 7
	// From and To bound the activity; To defaults to the current hour, From to two years
	// before To. The same Seed, Employees, Teams, From, To and EventsPerDay give the same bytes.
	From, To time.Time
	// EventsPerDay scales the volume: the average number of events a day over the period.
	// Zero gives the default, about 300 a day (about 200,000 events over two years).
	EventsPerDay int
	// IDBase, when not zero, numbers the events IDBase+1, IDBase+2, … in time order instead of
	// the GitHub-like ids that grow with time, so that sets generated with different bases never
	// share an event id (a JetStream message id): a benchmark can publish two sets.
	IDBase int64
}

// Company names the fictional company, in the terms of Giveback's configuration.
type Company struct {
	Name         string
	Orgs         []string
	EmailDomains []string
}

// Generator produces the roster and the events of one company. It holds no state between
// calls: Events and WriteHours produce the same output every time.
type Generator struct {
	opt       Options
	from, to  int64 // unix seconds
	teams     []teamDef
	people    []*person
	repos     []*repo
	outsiders []*actor
	bots      struct{ dependabot, actions, k8sRobot *actor }
}

// NewGenerator returns a generator for the options, with defaults filled in.
func NewGenerator(o Options) *Generator {
	if o.Employees <= 0 {
		o.Employees = 50
	}
	o.Employees = max(o.Employees, 12)
	if o.Teams <= 0 {
		o.Teams = 5
	}
	o.Teams = min(o.Teams, len(teamDefs))
	if o.To.IsZero() {
		o.To = time.Now().UTC().Truncate(time.Hour)
	}
	if o.From.IsZero() {
		o.From = o.To.AddDate(-2, 0, 0)
	}
	if o.EventsPerDay < 0 {
		o.EventsPerDay = 0
	}
	g := &Generator{opt: o, from: o.From.Unix(), to: o.To.Unix(), teams: teamDefs[:o.Teams]}
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x6e6f727468776e64)) // "northwnd"
	ids := &idSet{seen: map[int64]bool{}, logins: map[string]bool{}}
	g.buildRepos()
	g.buildPeople(r, ids)
	g.buildOutsiders(r, ids)
	g.buildSideRepos(r)
	return g
}

// Company returns the company the data belongs to.
func (g *Generator) Company() Company {
	return Company{Name: companyName, Orgs: []string{orgLabs, orgOSS}, EmailDomains: []string{emailDomain}}
}

const (
	companyName = "Northwind Labs"
	orgLabs     = "northwind-labs"
	orgOSS      = "northwind-oss"
	emailDomain = "northwind.example"
	day         = 86400
)

// teamDef is a team with the upstream repositories it works on and the company's own.
type teamDef struct {
	name     string
	upstream []string
	own      []string
}

var teamDefs = []teamDef{
	{"Platform", []string{"kubernetes/kubernetes", "etcd-io/etcd", "containerd/containerd", "helm/helm", "argoproj/argo-cd", "hashicorp/terraform", "golang/go"},
		[]string{orgLabs + "/platform-api", orgOSS + "/nwctl"}},
	{"Data", []string{"ClickHouse/ClickHouse", "apache/kafka", "nats-io/nats-server", "nats-io/nats.go", "python/cpython", "apache/arrow"},
		[]string{orgLabs + "/data-pipeline", orgOSS + "/clickhouse-sink"}},
	{"Observability", []string{"prometheus/prometheus", "grafana/grafana", "open-telemetry/opentelemetry-go", "open-telemetry/opentelemetry-collector", "prometheus/client_golang", "jaegertracing/jaeger"},
		[]string{orgLabs + "/observability-stack", orgOSS + "/otel-northwind-exporter"}},
	{"Networking", []string{"envoyproxy/envoy", "cilium/cilium", "istio/istio", "coredns/coredns", "rust-lang/rust", "hyperium/hyper"},
		[]string{orgLabs + "/edge-gateway", orgOSS + "/envoy-ratelimit"}},
	{"Web", []string{"facebook/react", "vercel/next.js", "nodejs/node", "microsoft/TypeScript", "vitejs/vite", "tailwindlabs/tailwindcss"},
		[]string{orgLabs + "/web-app", orgOSS + "/react-timeline"}},
	{"Security", []string{"sigstore/cosign", "open-policy-agent/opa", "aquasecurity/trivy"},
		[]string{orgLabs + "/security-tools"}},
	{"Developer Experience", []string{"golangci/golangci-lint", "goreleaser/goreleaser", "microsoft/vscode"},
		[]string{orgOSS + "/devbox-templates"}},
}

// upstreamInfo is a repository's popularity (how busy it is, 1–5) and its pull request number
// at the start of 2023, so numbers look like the project's own.
var upstreamInfo = map[string]struct{ pop, number int }{
	"kubernetes/kubernetes": {5, 115000}, "etcd-io/etcd": {2, 15100}, "containerd/containerd": {2, 8000},
	"helm/helm": {2, 11600}, "argoproj/argo-cd": {3, 11900}, "hashicorp/terraform": {3, 32400}, "golang/go": {4, 57500},
	"ClickHouse/ClickHouse": {4, 44800}, "apache/kafka": {3, 13000}, "nats-io/nats-server": {2, 3750},
	"nats-io/nats.go": {1, 1170}, "python/cpython": {4, 100500}, "apache/arrow": {3, 33400},
	"prometheus/prometheus": {3, 11800}, "grafana/grafana": {4, 61000}, "open-telemetry/opentelemetry-go": {2, 3500},
	"open-telemetry/opentelemetry-collector": {2, 6900}, "prometheus/client_golang": {1, 1190}, "jaegertracing/jaeger": {2, 4100},
	"envoyproxy/envoy": {3, 24700}, "cilium/cilium": {3, 22900}, "istio/istio": {3, 42600}, "coredns/coredns": {1, 5800},
	"rust-lang/rust": {5, 106000}, "hyperium/hyper": {1, 3100}, "facebook/react": {3, 25900}, "vercel/next.js": {4, 44500},
	"nodejs/node": {4, 46100}, "microsoft/TypeScript": {3, 52000}, "vitejs/vite": {3, 11600}, "tailwindlabs/tailwindcss": {2, 10200},
	"sigstore/cosign": {1, 2550}, "open-policy-agent/opa": {2, 5600}, "aquasecurity/trivy": {2, 3400},
	"golangci/golangci-lint": {2, 3500}, "goreleaser/goreleaser": {2, 3700}, "microsoft/vscode": {5, 170000},
}

// repo is a repository with its JSON fragments built once.
type repo struct {
	idx        int
	id         int64
	name       string // owner/name
	owner      string
	company    bool
	oss        bool // northwind-oss: outside contributors come
	team       int  // owning team of a company repo, -1 upstream
	pop        int
	number     int // first number in the period
	mergeBot   *actor
	outsiders  []*actor // outside contributors, repeated by weight
	mainters   []*actor // maintainers who review, merge, close and release
	json       []byte   // {"id":…,"name":…,"url":…}
	orgJSON    []byte
	apiURL     string // https://api.github.com/repos/owner/name
	htmlURL    string // https://github.com/owner/name
	focusTeams []int  // teams whose people work here
	side       bool   // a person's own repository or a fork: only the people who own or use it act
	fork       bool   // a fork of an upstream project, owned by someone outside the company
}

// person is one employee; a person has one or two logins (actors).
type person struct {
	idx         int
	employeeID  string
	name        string
	email       string   // work e-mail
	emails      []string // on the roster
	commitMail  string   // the e-mail on their commits
	actors      []*actor
	team, team2 int
	moveAt      int64 // team2 from this day on; 0 never
	start, end  int64 // end: 0 still employed; otherwise the last day
	optOut      bool
	before      bool // contributes before being hired
	after       bool // keeps contributing after leaving
	weight      float64
	offset      int64     // seconds east of UTC
	own, up     [][]*repo // per team: the company's and upstream repositories this person works in
	mine        []*repo   // the person's own repositories, under any of their logins
	forks       []*repo   // forks owned by outsiders that the person sends pull requests to
}

// actor is a GitHub account with its JSON fragments built once.
type actor struct {
	id        int64
	login     string
	name      string
	email     string
	person    *person // nil for outsiders
	bot       bool
	actorJSON []byte // the top-level "actor" object
	userJSON  []byte // the "user" object inside payloads
}

type idSet struct {
	seen   map[int64]bool
	logins map[string]bool
}

func (s *idSet) id(r *rand.Rand, lo, hi int64) int64 {
	for {
		v := lo + r.Int64N(hi-lo)
		if !s.seen[v] {
			s.seen[v] = true
			return v
		}
	}
}

func hashName(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func (g *Generator) buildRepos() {
	add := func(name string, team int) *repo {
		for _, r := range g.repos {
			if r.name == name {
				return r
			}
		}
		owner, _, _ := strings.Cut(name, "/")
		h := hashName(name)
		rp := &repo{idx: len(g.repos), name: name, owner: owner, team: -1,
			apiURL: "https://api.github.com/repos/" + name, htmlURL: "https://github.com/" + name}
		if owner == orgLabs || owner == orgOSS {
			rp.company, rp.oss, rp.team = true, owner == orgOSS, team
			rp.id = 600_000_000 + int64(h%60_000_000)
			rp.pop, rp.number = 1, 40+int(h%400)
		} else {
			info := upstreamInfo[name]
			rp.id = 1_000_000 + int64(h%400_000_000)
			rp.pop, rp.number = max(info.pop, 1), max(info.number, 1)
		}
		rp.json = fmt.Appendf(nil, `{"id":%d,"name":%q,"url":%q}`, rp.id, name, rp.apiURL)
		orgID := int64(100_000 + hashName(owner)%90_000_000)
		switch owner {
		case orgLabs:
			orgID = 151_802_311
		case orgOSS:
			orgID = 151_802_644
		}
		rp.orgJSON = fmt.Appendf(nil, `{"id":%d,"login":%q,"gravatar_id":"","url":"https://api.github.com/orgs/%s","avatar_url":"https://avatars.githubusercontent.com/u/%d?"}`,
			orgID, owner, owner, orgID)
		g.repos = append(g.repos, rp)
		return rp
	}
	for ti, t := range g.teams {
		for _, n := range t.upstream {
			rp := add(n, -1)
			rp.focusTeams = append(rp.focusTeams, ti)
		}
		for _, n := range t.own {
			rp := add(n, ti)
			rp.focusTeams = append(rp.focusTeams, ti)
		}
	}
}

func newActor(id int64, login, name, email string, bot bool) *actor {
	a := &actor{id: id, login: login, name: name, email: email, bot: bot}
	display, urlLogin, html, typ := login, login, "https://github.com/"+login, "User"
	if bot {
		display = strings.TrimSuffix(login, "[bot]")
		urlLogin = strings.ReplaceAll(strings.ReplaceAll(login, "[", "%5B"), "]", "%5D")
		html, typ = "https://github.com/apps/"+display, "Bot"
	}
	a.actorJSON = fmt.Appendf(nil, `{"id":%d,"login":%q,"display_login":%q,"gravatar_id":"","url":"https://api.github.com/users/%s","avatar_url":"https://avatars.githubusercontent.com/u/%d?"}`,
		id, login, display, login, id)
	a.userJSON = fmt.Appendf(nil, `{"login":%q,"id":%d,"avatar_url":"https://avatars.githubusercontent.com/u/%d?v=4","gravatar_id":"","url":"https://api.github.com/users/%s","html_url":%q,"type":%q,"user_view_type":"public","site_admin":false}`,
		login, id, id, urlLogin, html, typ)
	return a
}

var firstNames = []string{"Ada", "Bram", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas",
	"Kasia", "Liam", "Maya", "Nikolai", "Oona", "Pablo", "Quinn", "Rania", "Soren", "Tamsin", "Umar", "Vera",
	"Wen", "Ximena", "Yusuf", "Zofia", "Anders", "Bea", "Carlos", "Dalia", "Emeka", "Freya", "Gustavo", "Hana",
	"Ivo", "Jana", "Kofi", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Rafael", "Sanna", "Tomas", "Uma",
	"Viktor", "Yara", "Zane", "Alma", "Bjorn", "Cyrus", "Daria", "Eero", "Femi", "Gaia", "Hugo", "Ilse"}

var lastNames = []string{"Okafor", "Lindqvist", "Moreau", "Nakamura", "Petrov", "Alvarez", "Jensen", "Kowalski",
	"Haddad", "Brennan", "Costa", "Dubois", "Eriksen", "Fischer", "Gallo", "Horvath", "Ivanova", "Johansson",
	"Kaur", "Larsen", "Mensah", "Novak", "Oliveira", "Park", "Quint", "Rossi", "Schmidt", "Tanaka", "Ueda",
	"Varga", "Weber", "Yilmaz", "Zhou", "Abara", "Bauer", "Chen", "Dimitrov", "Esposito", "Fontaine", "Grant",
	"Hoang", "Ibrahim", "Kim", "Lopez", "Marsh", "Nieminen", "Ortiz", "Pereira", "Reyes", "Svensson"}

// loginFor invents a GitHub login in one of the shapes people choose.
func loginFor(r *rand.Rand, first, last string, ids *idSet) string {
	f, l := strings.ToLower(first), strings.ToLower(last)
	for try := 0; ; try++ {
		var s string
		switch r.IntN(6) {
		case 0:
			s = f + l
		case 1:
			s = f[:1] + l
		case 2:
			s = f + "-" + l
		case 3:
			s = l + f[:1] + strconv.Itoa(10+r.IntN(89))
		case 4:
			s = f + strconv.Itoa(70+r.IntN(30))
		default:
			s = f + l[:1] + "dev"
		}
		if try > 4 {
			s += strconv.Itoa(r.IntN(1000))
		}
		if !ids.logins[s] {
			ids.logins[s] = true
			return s
		}
	}
}

func dayOf(t int64) int64 { return t - ((t%day)+day)%day }

func (g *Generator) buildPeople(r *rand.Rand, ids *idSet) {
	n := g.opt.Employees
	span := g.to - g.from
	names := map[string]bool{}
	offsets := []int64{-8, -5, -5, 0, 1, 1, 1, 1, 2, 2, 5}
	earliest := time.Date(2014, 1, 6, 0, 0, 0, 0, time.UTC).Unix()
	for i := range n {
		p := &person{idx: i, employeeID: fmt.Sprintf("NW-%04d", 1001+i)}
		var first, last string
		for {
			first, last = firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
			if !names[first+last] {
				names[first+last] = true
				break
			}
		}
		p.name = first + " " + last
		p.email = strings.ToLower(first + "." + last + "@" + emailDomain)
		p.emails = []string{p.email}
		p.commitMail = p.email
		p.team = i % len(g.teams)
		p.team2 = p.team
		latest := g.from - 45*day
		p.start = dayOf(earliest + r.Int64N(max(latest-earliest, day)))
		p.weight = 0.25 + r.ExpFloat64()*0.8
		p.offset = offsets[r.IntN(len(offsets))] * 3600
		login := loginFor(r, first, last, ids)
		a := newActor(ids.id(r, 1_000_000, 190_000_000), login, p.name, p.email, false)
		a.person = p
		p.actors = []*actor{a}
		if r.IntN(5) == 0 { // commits from the GitHub no-reply address
			p.commitMail = strconv.FormatInt(a.id, 10) + "+" + login + "@users.noreply.github.com"
		}
		g.people = append(g.people, p)
	}
	perm := r.Perm(n)
	// Three people with a second login (a work account next to a personal one).
	for _, i := range perm[0:3] {
		p := g.people[i]
		login := p.actors[0].login + "-nw"
		ids.logins[login] = true
		a := newActor(ids.id(r, 1_000_000, 190_000_000), login, p.name, p.email, false)
		a.person = p
		p.actors = append(p.actors, a)
	}
	// Two people whose roster lists the no-reply address they commit with.
	for _, i := range perm[3:5] {
		p := g.people[i]
		p.commitMail = strconv.FormatInt(p.actors[0].id, 10) + "+" + p.actors[0].login + "@users.noreply.github.com"
		p.emails = append(p.emails, p.commitMail)
	}
	// One team move, one leaver, one hire in the middle, one opt-out.
	mover := g.people[perm[5]]
	mover.team2 = (mover.team + 1) % len(g.teams)
	if mover.team2 != mover.team {
		mover.moveAt = dayOf(g.from + span*45/100)
	}
	leaver := g.people[perm[6]]
	leaver.end, leaver.after = dayOf(g.from+span*62/100), true
	mid := g.people[perm[7]]
	mid.start, mid.before = dayOf(g.from+span/2), true
	g.people[perm[8]].optOut = true
	// Growth: more hires through the period.
	for _, i := range perm[9 : 9+n/8] {
		p := g.people[i]
		p.start = dayOf(g.from + span/10 + r.Int64N(max(span*8/10, day)))
		p.before = r.IntN(2) == 0
	}
	// A few very active people, and a few who rarely contribute.
	for k, w := range []float64{7, 5.5, 4.5} {
		g.people[perm[n-1-k]].weight = w
	}
	for _, i := range perm[n-9 : n-4] {
		g.people[i].weight = 0.05
	}
	// Favourite repositories: a few of the team's upstream ones and all of its own.
	for _, p := range g.people {
		p.own, p.up = make([][]*repo, len(g.teams)), make([][]*repo, len(g.teams))
		for ti := range g.teams {
			if ti != p.team && ti != p.team2 {
				continue
			}
			for _, rp := range g.repos {
				if rp.company && rp.team == ti {
					p.own[ti] = append(p.own[ti], rp)
				}
			}
			up := g.teamUpstream(ti)
			k := 2 + r.IntN(3)
			for _, j := range r.Perm(len(up)) {
				if k == 0 {
					break
				}
				// Busier projects are chosen more often.
				if r.IntN(6) < up[j].pop+1 {
					p.up[ti] = append(p.up[ti], up[j])
					k--
				}
			}
			if len(p.up[ti]) == 0 {
				p.up[ti] = p.own[ti]
			}
		}
	}
}

func (g *Generator) teamUpstream(ti int) []*repo {
	var out []*repo
	for _, rp := range g.repos {
		if !rp.company && containsInt(rp.focusTeams, ti) {
			out = append(out, rp)
		}
	}
	return out
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

var outsiderShapes = []string{"dev", "io", "hq", "codes", "x", "", "", ""}

func (g *Generator) buildOutsiders(r *rand.Rand, ids *idSet) {
	g.bots.dependabot = newActor(49699333, "dependabot[bot]", "dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", true)
	g.bots.actions = newActor(41898282, "github-actions[bot]", "github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com", true)
	g.bots.k8sRobot = newActor(20407524, "k8s-ci-robot", "Kubernetes Prow Robot", "k8s-ci-robot@users.noreply.github.com", false)
	for _, b := range []*actor{g.bots.dependabot, g.bots.actions, g.bots.k8sRobot} {
		ids.seen[b.id], ids.logins[b.login] = true, true
	}
	for _, rp := range g.repos {
		if rp.name == "kubernetes/kubernetes" {
			rp.mergeBot = g.bots.k8sRobot
		}
	}
	n := 40 * len(g.repos)
	for range n {
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		login := loginFor(r, first, last, ids)
		if s := outsiderShapes[r.IntN(len(outsiderShapes))]; s != "" && !ids.logins[login+s] {
			login += s
			ids.logins[login] = true
		}
		name := first + " " + last
		a := newActor(ids.id(r, 200_000, 210_000_000), login, name, "", false)
		a.email = strconv.FormatInt(a.id, 10) + "+" + login + "@users.noreply.github.com"
		g.outsiders = append(g.outsiders, a)
	}
	// Each outsider works in one to three repositories, some much more than others.
	for _, a := range g.outsiders {
		w := 1 + int(r.ExpFloat64()*1.5)
		for range 1 + r.IntN(3) {
			rp := g.pickRepo(r)
			for range w {
				rp.outsiders = append(rp.outsiders, a)
			}
		}
	}
	for _, rp := range g.repos {
		for len(rp.outsiders) < 12 {
			rp.outsiders = append(rp.outsiders, g.outsiders[r.IntN(len(g.outsiders))])
		}
		if rp.company {
			continue // maintainers of company repositories are the owning team
		}
		for range 3 + rp.pop {
			rp.mainters = append(rp.mainters, rp.outsiders[r.IntN(len(rp.outsiders))])
		}
	}
	// The three most active people maintain one of their team's upstream projects.
	for _, p := range g.people {
		if p.weight < 4 {
			continue
		}
		up := g.teamUpstream(p.team)
		if len(up) == 0 {
			continue
		}
		rp := up[r.IntN(len(up))]
		rp.mainters = append(rp.mainters, p.actors[0], p.actors[0])
	}
}

// pickRepo picks a repository for an outsider, weighted towards busy upstream projects.
func (g *Generator) pickRepo(r *rand.Rand) *repo {
	for {
		rp := g.repos[r.IntN(len(g.repos))]
		w := rp.pop
		if rp.company && !rp.oss {
			continue
		}
		if r.IntN(5) < w {
			return rp
		}
	}
}

// employedAt reports whether the person works at the company on t.
func (p *person) employedAt(t int64) bool {
	return t >= p.start && (p.end == 0 || t < p.end+day)
}

// teamAt returns the person's team on t.
func (p *person) teamAt(t int64) int {
	if p.moveAt != 0 && t >= p.moveAt {
		return p.team2
	}
	return p.team
}

// RosterCSV writes the roster in Giveback's format (roster.Header), one row per period.
func (g *Generator) RosterCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(roster.Header); err != nil {
		return fmt.Errorf("demo: roster: %w", err)
	}
	date := func(t int64) string { return time.Unix(t, 0).UTC().Format(time.DateOnly) }
	for _, p := range g.people {
		logins := make([]string, len(p.actors))
		for i, a := range p.actors {
			logins[i] = a.login
		}
		row := func(team int, start, end int64) []string {
			e := ""
			if end != 0 {
				e = date(end)
			}
			return []string{p.employeeID, p.name, g.teams[team].name, strings.Join(logins, ";"), strings.Join(p.emails, ";"),
				date(start), e, strconv.FormatBool(p.optOut)}
		}
		rows := [][]string{row(p.team, p.start, p.end)}
		if p.moveAt != 0 {
			rows = [][]string{row(p.team, p.start, p.moveAt-day), row(p.team2, p.moveAt, p.end)}
		}
		if err := cw.WriteAll(rows); err != nil {
			return fmt.Errorf("demo: roster: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("demo: roster: %w", err)
	}
	return nil
}

// personalNames are names of repositories people keep under their own login.
var personalNames = []string{"dotfiles", "notes", "blog", "homelab", "scripts", "advent-of-code", "playground",
	"nvim-config", "resume", "side-project", "til", "experiments"}

// buildSideRepos gives every person one to three repositories of their own (some under their
// second login) and one fork of an upstream project owned by an outsider, as real GitHub
// activity has: most of what busy people push goes to their own repositories, a little to forks.
func (g *Generator) buildSideRepos(r *rand.Rand) {
	add := func(name string, fork bool, mainters ...*actor) *repo {
		owner, _, _ := strings.Cut(name, "/")
		rp := &repo{idx: len(g.repos), name: name, owner: owner, team: -1, pop: 1, number: 1, side: true, fork: fork,
			id: 1_000_000 + int64(hashName(name)%400_000_000), mainters: mainters,
			apiURL: "https://api.github.com/repos/" + name, htmlURL: "https://github.com/" + name}
		rp.json = fmt.Appendf(nil, `{"id":%d,"name":%q,"url":%q}`, rp.id, name, rp.apiURL)
		for range 3 {
			rp.outsiders = append(rp.outsiders, g.outsiders[r.IntN(len(g.outsiders))])
		}
		g.repos = append(g.repos, rp)
		return rp
	}
	for _, p := range g.people {
		for i, j := range r.Perm(len(personalNames))[:1+r.IntN(3)] {
			a := p.actors[0]
			if len(p.actors) > 1 && i%2 == 1 {
				a = p.actors[1]
			}
			friend := g.outsiders[r.IntN(len(g.outsiders))]
			p.mine = append(p.mine, add(a.login+"/"+personalNames[j], false, a, friend))
		}
		up := p.up[p.team]
		if len(up) == 0 || up[0].company {
			continue
		}
		src := up[r.IntN(len(up))]
		_, name, _ := strings.Cut(src.name, "/")
		owner := src.outsiders[r.IntN(len(src.outsiders))]
		p.forks = append(p.forks, add(owner.login+"/"+name, true, owner))
	}
}
