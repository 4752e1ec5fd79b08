package demo

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// The simulation runs a day at a time. Each day the people and the repositories act (open a
// pull request, review one, comment, push, release, star…); an action that has a life, such as
// a pull request, schedules its later events (reviews, comments, the merge) into the buckets of
// the days they fall on. A day's bucket is complete once the day has been generated, because
// nothing is ever scheduled before the moment that caused it; it is then sorted and written.

// kind is the kind of a scheduled event.
type kind uint8

const (
	kPROpened kind = iota
	kPRClosed
	kReview
	kIssueOpened
	kIssueClosed
	kComment
	kPush      // n commits by who on ref tag (empty: main)
	kMergePush // the squashed commit of a merged pull request
	kRelease
	kCreateTag
	kCreateBranch
	kWatch
	kFork
)

// Review states.
const (
	reviewApproved uint8 = iota
	reviewCommented
	reviewChangesRequested
)

// ev is one scheduled event; its JSON is built when it is written.
type ev struct {
	t     int64
	seq   uint32
	kind  kind
	state uint8
	n     uint16
	actor *actor
	repo  *repo
	it    *item
	who   *actor
	tag   string
}

// item is a pull request or an issue.
type item struct {
	id, issueID int64
	number      int
	pr          bool
	repo        *repo
	author      *actor
	title       string
	branch      string
	created     int64
	end         int64 // when it closes, possibly after the period
	closed      int64 // end when within the period, else 0: open throughout
	merged      bool  // pull request merged; issue closed as completed
	closer      *actor
	commits     int
	additions   int
	deletions   int
	files       int
}

// closedAt reports whether the item is closed at t.
func (it *item) closedAt(t int64) bool { return it.closed != 0 && t >= it.closed }

type repoState struct {
	next                int
	open                []*item
	major, minor, patch int
}

// idClock hands out ids that grow with time, as GitHub's do, and never repeat.
type idClock struct {
	base, perSec float64
	last         int64
}

const idEpoch = 1672531200 // 2023-01-01

func (c *idClock) next(t int64) int64 {
	v := max(int64(c.base+float64(t-idEpoch)*c.perSec), 1)
	if v <= c.last {
		v = c.last + 1
	}
	c.last = v
	return v
}

type sim struct {
	*Generator
	r          *rand.Rand
	day0       int64
	nDays      int
	cur        int64
	buckets    [][]ev
	seq        uint32
	st         []repoState
	teamPeople [][]*person
	scale      float64
	ids        struct{ event, pr, issue, review, comment, release, push, fork idClock }
}

// defaultPerDay is the average number of events a day at scale 1 (measured over two years).
const defaultPerDay = 280

func (g *Generator) newSim() *sim {
	s := &sim{Generator: g, r: rand.New(rand.NewPCG(uint64(g.opt.Seed), 0x6576656e7473)), scale: 1}
	if g.opt.EventsPerDay > 0 {
		s.scale = float64(g.opt.EventsPerDay) / defaultPerDay
	}
	s.day0 = dayOf(g.from)
	if g.to > g.from {
		s.nDays = int((g.to - s.day0 + day - 1) / day)
	}
	s.buckets = make([][]ev, s.nDays)
	s.st = make([]repoState, len(g.repos))
	for i, rp := range g.repos {
		h := hashName(rp.name)
		s.st[i] = repoState{next: rp.number, major: int(h % 3), minor: int(h>>8) % 30, patch: 0}
		if rp.company {
			s.st[i].major, s.st[i].minor = 0, 1+int(h>>8)%9
		}
	}
	s.teamPeople = make([][]*person, len(g.teams))
	for _, p := range g.people {
		s.teamPeople[p.team] = append(s.teamPeople[p.team], p)
		if p.team2 != p.team {
			s.teamPeople[p.team2] = append(s.teamPeople[p.team2], p)
		}
	}
	s.ids.event = idClock{base: 26e9, perSec: 300}
	if g.opt.IDBase != 0 {
		s.ids.event = idClock{last: g.opt.IDBase} // perSec 0: one more than the last
	}
	s.ids.pr = idClock{base: 1.19e9, perSec: 17}
	s.ids.issue = idClock{base: 1.515e9, perSec: 20}
	s.ids.review = idClock{base: 1.23e9, perSec: 20.5}
	s.ids.comment = idClock{base: 1.37e9, perSec: 19}
	s.ids.release = idClock{base: 8.8e7, perSec: 1.66}
	s.ids.push = idClock{base: 1.23e10, perSec: 152}
	s.ids.fork = idClock{base: 5.8e8, perSec: 5}
	return s
}

// Events calls fn for every event in time order, with the hour the event falls in and its JSON
// line (without the newline). line is only valid during the call. An error from fn stops the
// generation and is returned.
func (g *Generator) Events(fn func(hour time.Time, line []byte) error) error {
	s := g.newSim()
	var buf []byte
	hourT, hour := int64(math.MinInt64), time.Time{}
	for di := range s.nDays {
		s.genDay(di)
		b := s.buckets[di]
		slices.SortFunc(b, func(x, y ev) int {
			if c := cmp.Compare(x.t, y.t); c != 0 {
				return c
			}
			return cmp.Compare(x.seq, y.seq)
		})
		for i := range b {
			e := &b[i]
			if e.t < s.from || e.t >= s.to {
				continue
			}
			if h := e.t - e.t%3600; h != hourT {
				hourT, hour = h, time.Unix(h, 0).UTC()
			}
			buf = s.appendEvent(buf[:0], e, s.ids.event.next(e.t))
			if err := fn(hour, buf); err != nil {
				return err
			}
		}
		s.buckets[di] = nil
	}
	return nil
}

// add schedules an event; one after the period is dropped.
func (s *sim) add(e ev) {
	if e.t < s.cur {
		e.t = s.cur
	}
	if e.t >= s.to {
		return
	}
	di := int((e.t - s.day0) / day)
	s.seq++
	e.seq = s.seq
	s.buckets[di] = append(s.buckets[di], e)
}

func (s *sim) poisson(l float64) int {
	if l <= 0 {
		return 0
	}
	if l > 30 {
		return max(int(math.Round(l+math.Sqrt(l)*s.r.NormFloat64())), 0)
	}
	limit, k, p := math.Exp(-l), 0, 1.0
	for {
		p *= s.r.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

// lognormal returns a duration in seconds around median (seconds).
func (s *sim) lognormal(median, sigma float64) int64 {
	return max(int64(median*math.Exp(sigma*s.r.NormFloat64())), 120)
}

// Hour-of-day weights: employees by their local time, outsiders by UTC (they are everywhere).
var (
	workHours    = cumulative([]float64{.2, .1, .05, .05, .05, .1, .3, .8, 1.6, 2.6, 3, 3, 2.2, 2.6, 3, 3, 2.8, 2.2, 1.4, 1, .9, .8, .6, .4})
	outsideHours = cumulative([]float64{1.4, 1.3, 1.3, 1.4, 1.5, 1.6, 1.8, 2, 2.2, 2.3, 2.3, 2.3, 2.4, 2.6, 2.8, 2.9, 2.8, 2.6, 2.3, 2, 1.8, 1.7, 1.6, 1.5})
)

func cumulative(w []float64) []float64 {
	out := make([]float64, len(w))
	sum := 0.0
	for i, v := range w {
		sum += v
		out[i] = sum
	}
	return out
}

func (s *sim) hourFrom(cum []float64) int64 {
	x := s.r.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, x)
	return int64(min(i, 23))
}

// empTime returns a moment of day d in the person's working rhythm.
func (s *sim) empTime(p *person, d int64) int64 {
	sec := s.hourFrom(workHours)*3600 + s.r.Int64N(3600) - p.offset
	return d + ((sec%day)+day)%day
}

func (s *sim) outTime(d int64) int64 { return d + s.hourFrom(outsideHours)*3600 + s.r.Int64N(3600) }

// workTime moves a follow-up by an employee out of their night into the next morning.
func (s *sim) workTime(a *actor, t int64) int64 {
	if a.person == nil {
		return t
	}
	h := (((t+a.person.offset)%day + day) % day) / 3600
	switch {
	case h < 8:
		return t + (8-h)*3600 + s.r.Int64N(7200)
	case h >= 21:
		return t + (32-h)*3600 + s.r.Int64N(7200)
	}
	return t
}

// weekday returns 0 for Sunday … 6 for Saturday.
func weekday(t int64) int { return int(((t/day)%7 + 11) % 7) }

func holiday(t int64) bool {
	_, m, d := civil(t / day)
	return (m == 12 && d >= 23) || (m == 1 && d == 1)
}

func (s *sim) genDay(di int) {
	d := s.day0 + int64(di)*day
	s.cur = d
	frac := min(max(float64(d-s.from)/float64(max(s.to-s.from, 1)), 0), 1)
	wd := weekday(d)
	empDay, outDay := 1.0, 1.0
	if wd == 0 || wd == 6 {
		empDay, outDay = 0.1, 0.55
	}
	if holiday(d) {
		empDay, outDay = empDay*0.25, outDay*0.6
	}
	growth := 0.55 + 0.9*frac
	for _, p := range s.people {
		f, employed := 1.0, true
		switch {
		case p.employedAt(d):
		case d < p.start && p.before:
			f, employed = 0.3, false
		case p.end != 0 && d > p.end && p.after:
			f, employed = 0.35, false
		default:
			continue
		}
		l := 1.1 * p.weight * f * empDay * growth * s.scale
		for n := s.poisson(l); n > 0; n-- {
			s.personAction(p, d, employed)
		}
		// Their own repositories and forks, evenings and weekends included.
		for n := s.poisson(sideRate * p.weight * f * growth * s.scale); n > 0; n-- {
			s.sideAction(p, d)
		}
	}
	outGrowth := (0.85 + 0.3*frac) * outDay * s.scale
	for _, rp := range s.repos {
		s.repoDay(rp, d, outGrowth)
	}
}

// personAction is one thing an employee (or a former or future one) does on day d.
func (s *sim) personAction(p *person, d int64, employed bool) {
	t := s.empTime(p, d)
	a := p.actors[0]
	if len(p.actors) > 1 && s.r.IntN(3) == 0 {
		a = p.actors[1]
	}
	team := p.teamAt(t)
	own, up := p.own[team], p.up[team]
	pick := func() *repo {
		if employed && len(own) > 0 && s.r.IntN(100) < 25 {
			return own[s.r.IntN(len(own))]
		}
		return up[s.r.IntN(len(up))]
	}
	x := s.r.IntN(100)
	switch {
	case x < 30:
		s.openPR(a, pick(), t)
	case x < 50:
		rp := pick()
		if it := s.openItem(rp, t, true, a); it != nil {
			s.review(a, it, t, s.reviewState(false))
		} else {
			s.openPR(a, rp, t)
		}
	case x < 58:
		s.openIssue(a, pick(), t)
	case x < 74:
		rp := pick()
		if it := s.openItem(rp, t, false, a); it != nil {
			s.add(ev{t: t, kind: kComment, actor: a, repo: rp, it: it})
		}
	case x < 86:
		if employed && len(own) > 0 {
			rp := own[s.r.IntN(len(own))]
			s.add(ev{t: t, kind: kPush, actor: a, repo: rp, who: a, n: uint16(1 + s.poisson(1.2))})
		} else {
			s.openPR(a, up[s.r.IntN(len(up))], t)
		}
	case x < 93:
		s.add(ev{t: t, kind: kWatch, actor: a, repo: s.repos[s.r.IntN(len(s.repos))]})
	case x < 96:
		s.add(ev{t: t, kind: kFork, actor: a, repo: up[s.r.IntN(len(up))]})
	default:
		if employed && len(own) > 0 {
			s.add(ev{t: t, kind: kCreateBranch, actor: a, repo: own[s.r.IntN(len(own))], tag: a.login + "/" + slugs[s.r.IntN(len(slugs))]})
		}
	}
}

// sideRate is how many actions a person of weight 1 takes in their own repositories and forks
// on a day. It is set so that, as in a real GH Archive hour seen through a roster of its busiest
// actors, the people's own repositories take about 2.4 contributions for every upstream one, and
// forks about 1 in 100 of all, as across all of that hour's actors (TestSideWorkProportions).
const sideRate = 0.72

// sideAction is one thing a person does outside the company's and upstream repositories: a push
// to one of their own repositories (most of it), a pull request there, or a pull request to a
// fork someone else owns.
func (s *sim) sideAction(p *person, d int64) {
	if len(p.mine) == 0 {
		return
	}
	t := s.outTime(d)
	rp := p.mine[s.r.IntN(len(p.mine))]
	a := p.actors[0] // either login may act, in a repository of either
	if len(p.actors) > 1 && s.r.IntN(3) == 0 {
		a = p.actors[1]
	}
	x := s.r.IntN(100)
	switch {
	case x < 4 && len(p.forks) > 0:
		s.openPR(a, p.forks[s.r.IntN(len(p.forks))], t)
	case x < 8:
		s.openPR(a, rp, t)
	default:
		s.add(ev{t: t, kind: kPush, actor: a, repo: rp, who: a, n: uint16(1 + s.poisson(1.2))})
	}
}

// repoDay is what the rest of the world does in a repository on day d.
func (s *sim) repoDay(rp *repo, d int64, f float64) {
	if rp.side {
		return
	}
	pop := float64(rp.pop)
	var prs, issues, comments, watches, forks, pushes, branches, releases float64
	switch {
	case rp.company && rp.oss:
		prs, issues, comments, watches, forks, releases = 0.12, 0.15, 0.2, 0.9, 0.15, 1.0/18
	case rp.company:
		watches, forks, releases = 0.15, 0.02, 1.0/30
	default:
		prs, issues, comments, watches, forks = 0.12*pop, 0.08*pop, 0.15*pop, 0.3*pop, 0.08*pop
		pushes, branches, releases = 0.06*pop, 0.03*pop, 1.0/21
	}
	outsider := func() *actor { return rp.outsiders[s.r.IntN(len(rp.outsiders))] }
	for n := s.poisson(prs * f); n > 0; n-- {
		s.openPR(outsider(), rp, s.outTime(d))
	}
	for n := s.poisson(issues * f); n > 0; n-- {
		s.openIssue(outsider(), rp, s.outTime(d))
	}
	for n := s.poisson(comments * f); n > 0; n-- {
		t := s.outTime(d)
		a := outsider()
		if it := s.openItem(rp, t, false, a); it != nil {
			s.add(ev{t: t, kind: kComment, actor: a, repo: rp, it: it})
		}
	}
	for n := s.poisson(watches * f); n > 0; n-- {
		a := outsider()
		if s.r.IntN(3) == 0 {
			a = s.outsiders[s.r.IntN(len(s.outsiders))]
		}
		s.add(ev{t: s.outTime(d), kind: kWatch, actor: a, repo: rp})
	}
	for n := s.poisson(forks * f); n > 0; n-- {
		s.add(ev{t: s.outTime(d), kind: kFork, actor: s.outsiders[s.r.IntN(len(s.outsiders))], repo: rp})
	}
	for n := s.poisson(pushes * f); n > 0; n-- {
		t := s.outTime(d)
		if m := s.maintainer(rp, t, nil); m != nil {
			s.add(ev{t: s.workTime(m, t), kind: kPush, actor: m, repo: rp, who: m, n: uint16(1 + s.poisson(0.8))})
		}
	}
	for n := s.poisson(branches * f); n > 0; n-- {
		t := s.outTime(d)
		if m := s.maintainer(rp, t, nil); m != nil {
			s.add(ev{t: t, kind: kCreateBranch, actor: m, repo: rp, tag: "release-" + slugs[s.r.IntN(len(slugs))]})
		}
	}
	wd := weekday(d)
	if rp.company && wd >= 1 && wd <= 5 && s.r.IntN(100) < int(25*s.scale+0.5) {
		s.openPR(s.bots.dependabot, rp, d+6*3600+s.r.Int64N(3600))
	}
	if s.r.Float64() < releases*min(s.scale, 3) {
		s.release(rp, s.outTime(d))
	}
}

// maintainer picks someone who can merge in rp on t, other than not.
func (s *sim) maintainer(rp *repo, t int64, not *actor) *actor {
	for range 8 {
		var a *actor
		if rp.company {
			team := s.teamPeople[rp.team]
			p := team[s.r.IntN(len(team))]
			if !p.employedAt(t) {
				continue
			}
			a = p.actors[0]
		} else {
			a = rp.mainters[s.r.IntN(len(rp.mainters))]
		}
		if a != not && (not == nil || a.person == nil || a.person != not.person) {
			return a
		}
	}
	return nil
}

// reviewer picks who reviews a pull request in rp: maintainers mostly, and upstream sometimes a
// colleague of the company from a team that works there.
func (s *sim) reviewer(rp *repo, t int64, author *actor) *actor {
	if !rp.company && len(rp.focusTeams) > 0 && s.r.IntN(100) < 22 {
		team := s.teamPeople[rp.focusTeams[s.r.IntN(len(rp.focusTeams))]]
		p := team[s.r.IntN(len(team))]
		if p.employedAt(t) && p != author.person {
			return p.actors[0]
		}
	}
	return s.maintainer(rp, t, author)
}

func (s *sim) reviewState(last bool) uint8 {
	if last {
		return reviewApproved
	}
	switch x := s.r.IntN(100); {
	case x < 45:
		return reviewApproved
	case x < 82:
		return reviewCommented
	default:
		return reviewChangesRequested
	}
}

func (s *sim) review(a *actor, it *item, t int64, state uint8) {
	s.add(ev{t: t, kind: kReview, actor: a, repo: it.repo, it: it, state: state})
}

// openItem picks an open pull request (pr) or any open item in rp at t not authored by a.
func (s *sim) openItem(rp *repo, t int64, pr bool, a *actor) *item {
	st := &s.st[rp.idx]
	open := st.open[:0]
	for _, it := range st.open { // forget what closed
		if it.end > t {
			open = append(open, it)
		}
	}
	clear(st.open[len(open):])
	st.open = open
	if len(open) == 0 {
		return nil
	}
	for range 6 {
		it := open[s.r.IntN(len(open))]
		if (pr && !it.pr) || it.author == a || it.created >= t {
			continue
		}
		if a.person != nil && it.author.person == a.person {
			continue
		}
		return it
	}
	return nil
}

func (s *sim) newItem(rp *repo, author *actor, t int64, pr bool) *item {
	st := &s.st[rp.idx]
	it := &item{number: st.next, pr: pr, repo: rp, author: author, created: t}
	st.next++
	if !rp.company {
		st.next += s.r.IntN(2 * rp.pop) // numbers taken by activity outside the simulation
	}
	if pr {
		it.id = s.ids.pr.next(t)
		it.issueID = s.ids.issue.next(t)
		slug := slugs[s.r.IntN(len(slugs))]
		if author == s.bots.dependabot {
			dep := deps[s.r.IntN(len(deps))]
			it.title = "build(deps): bump " + dep + " to the latest version"
			it.branch = "dependabot/" + slug
		} else {
			it.title = prVerbs[s.r.IntN(len(prVerbs))] + " " + subjects[s.r.IntN(len(subjects))]
			it.branch = slug
		}
		it.commits = 1 + s.poisson(1.5)
		it.additions = 1 + int(s.r.ExpFloat64()*120)
		it.deletions = int(s.r.ExpFloat64() * 40)
		it.files = 1 + s.poisson(2)
	} else {
		it.id = s.ids.issue.next(t)
		it.issueID = it.id
		it.title = issueTitles[s.r.IntN(len(issueTitles))] + " " + subjects[s.r.IntN(len(subjects))]
	}
	const capOpen = 400
	if len(st.open) >= capOpen {
		copy(st.open, st.open[1:])
		st.open = st.open[:capOpen-1]
	}
	st.open = append(st.open, it)
	return it
}

// openPR opens a pull request and schedules its life: branch pushes, reviews, comments, and the
// merge or the close.
func (s *sim) openPR(author *actor, rp *repo, t int64) {
	it := s.newItem(rp, author, t, true)
	if rp.company && !author.bot && author.person != nil {
		s.add(ev{t: t - 60 - s.r.Int64N(1800), kind: kCreateBranch, actor: author, repo: rp, tag: it.branch})
	}
	s.add(ev{t: t, kind: kPROpened, actor: author, repo: rp, it: it})
	median, sigma, mergeP := 2.5*day, 1.4, 78
	if rp.company {
		median, sigma, mergeP = 0.5*day, 1.1, 92
	}
	if author.bot {
		median, mergeP = 1.5*day, 85
	}
	dur := s.lognormal(median, sigma)
	stale := s.r.IntN(100) < 6
	merged := s.r.IntN(100) < mergeP
	it.end = t + dur
	if stale {
		it.end = math.MaxInt64
	}
	if !stale && it.end < s.to {
		it.closed, it.merged = it.end, merged
	}
	nrev := s.poisson(1.7)
	if rp.company {
		nrev = s.poisson(1.2)
	}
	var reviewers []*actor
	for i := range nrev {
		rt := t + int64(float64(dur)*(0.05+0.9*float64(i+1)/float64(nrev+1)))
		rv := s.reviewer(rp, rt, author)
		if rv == nil {
			continue
		}
		reviewers = append(reviewers, rv)
		s.review(rv, it, min(s.workTime(rv, rt), t+dur-60), s.reviewState(merged && i == nrev-1))
	}
	for n := s.poisson(1.4); n > 0; n-- {
		ct := t + int64(float64(dur)*s.r.Float64())
		c := author
		if s.r.IntN(100) >= 35 {
			if len(reviewers) > 0 && s.r.IntN(2) == 0 {
				c = reviewers[s.r.IntN(len(reviewers))]
			} else if m := s.maintainer(rp, ct, nil); m != nil {
				c = m
			}
		}
		if c.bot {
			continue
		}
		s.add(ev{t: s.workTime(c, ct), kind: kComment, actor: c, repo: rp, it: it})
	}
	if rp.company && !author.bot {
		for n := s.poisson(1.0); n > 0; n-- {
			pt := t + int64(float64(dur)*s.r.Float64())
			s.add(ev{t: pt, kind: kPush, actor: author, repo: rp, who: author, tag: it.branch, n: uint16(1 + s.poisson(0.7))})
		}
	}
	if stale {
		return
	}
	var closer *actor
	switch {
	case merged && rp.mergeBot != nil && s.r.IntN(100) < 80:
		closer = rp.mergeBot
	case merged && rp.company && !author.bot && s.r.IntN(2) == 0:
		closer = author
	case !merged && !author.bot && s.r.IntN(2) == 0:
		closer = author
	default:
		closer = s.maintainer(rp, it.end, author)
	}
	if closer == nil {
		closer = author
	}
	it.closer = closer
	s.add(ev{t: it.end, kind: kPRClosed, actor: closer, repo: rp, it: it})
	if merged {
		s.add(ev{t: it.end + 1 + s.r.Int64N(20), kind: kMergePush, actor: closer, repo: rp, it: it, who: author, n: 1})
	}
}

// openIssue opens an issue and schedules its comments and its close.
func (s *sim) openIssue(author *actor, rp *repo, t int64) {
	it := s.newItem(rp, author, t, false)
	s.add(ev{t: t, kind: kIssueOpened, actor: author, repo: rp, it: it})
	dur := s.lognormal(6*day, 1.6)
	closes := s.r.IntN(100) < 70
	it.end = t + dur
	if !closes {
		it.end = math.MaxInt64
	}
	if closes && it.end < s.to {
		it.closed, it.merged = it.end, s.r.IntN(100) < 80
	}
	span := dur
	if !closes {
		span = 20 * day
	}
	for n := s.poisson(1.8); n > 0; n-- {
		ct := t + int64(float64(span)*s.r.Float64())
		c := author
		if s.r.IntN(100) >= 30 {
			if m := s.maintainer(rp, ct, nil); m != nil {
				c = m
			} else {
				c = rp.outsiders[s.r.IntN(len(rp.outsiders))]
			}
		}
		s.add(ev{t: s.workTime(c, ct), kind: kComment, actor: c, repo: rp, it: it})
	}
	if !closes {
		return
	}
	closer := author
	if s.r.IntN(100) < 65 {
		if m := s.maintainer(rp, it.end, nil); m != nil {
			closer = m
		}
	}
	it.closer = closer
	s.add(ev{t: it.end, kind: kIssueClosed, actor: closer, repo: rp, it: it})
}

// release tags and publishes the repository's next version.
func (s *sim) release(rp *repo, t int64) {
	var a *actor
	if s.r.IntN(100) < 30 {
		a = s.bots.actions
	} else if a = s.maintainer(rp, t, nil); a == nil {
		return
	}
	st := &s.st[rp.idx]
	if s.r.IntN(100) < 20 {
		st.minor, st.patch = st.minor+1, 0
	} else {
		st.patch++
	}
	tag := "v" + itoa(st.major) + "." + itoa(st.minor) + "." + itoa(st.patch)
	s.add(ev{t: t - 30 - s.r.Int64N(600), kind: kCreateTag, actor: a, repo: rp, tag: tag})
	s.add(ev{t: t, kind: kRelease, actor: a, repo: rp, tag: tag})
}
