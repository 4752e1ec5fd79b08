package demo

import (
	"strconv"
)

// The JSON is appended by hand, in GH Archive's member order (id, type, actor, repo, payload,
// public, created_at, org), from fragments built once per actor and repository: generating a
// million events must take seconds, and reflection would take most of them.

var typeNames = [...]string{
	kPROpened: "PullRequestEvent", kPRClosed: "PullRequestEvent", kReview: "PullRequestReviewEvent",
	kIssueOpened: "IssuesEvent", kIssueClosed: "IssuesEvent", kComment: "IssueCommentEvent",
	kPush: "PushEvent", kMergePush: "PushEvent", kRelease: "ReleaseEvent", kCreateTag: "CreateEvent",
	kCreateBranch: "CreateEvent", kWatch: "WatchEvent", kFork: "ForkEvent",
}

var reviewStates = [...]string{reviewApproved: "approved", reviewCommented: "commented", reviewChangesRequested: "changes_requested"}

func (s *sim) appendEvent(b []byte, e *ev, id int64) []byte {
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `","type":"`...)
	b = append(b, typeNames[e.kind]...)
	b = append(b, `","actor":`...)
	b = append(b, e.actor.actorJSON...)
	b = append(b, `,"repo":`...)
	b = append(b, e.repo.json...)
	b = append(b, `,"payload":`...)
	switch e.kind {
	case kPROpened, kPRClosed:
		action := "opened"
		if e.kind == kPRClosed {
			action = "closed"
		}
		b = append(b, `{"action":"`...)
		b = append(b, action...)
		b = append(b, `","number":`...)
		b = strconv.AppendInt(b, int64(e.it.number), 10)
		b = append(b, `,"pull_request":`...)
		b = s.appendPR(b, e.it, e.t, true)
		b = append(b, '}')
	case kReview:
		rid := s.ids.review.next(e.t)
		b = append(b, `{"action":"created","review":{"id":`...)
		b = strconv.AppendInt(b, rid, 10)
		b = append(b, `,"user":`...)
		b = append(b, e.actor.userJSON...)
		b = append(b, `,"body":`...)
		if e.state == reviewCommented {
			b = appendString(b, commentBodies[int(rid%int64(len(commentBodies)))])
		} else {
			b = append(b, "null"...)
		}
		b = append(b, `,"commit_id":"`...)
		b = appendSHA(b, uint64(e.it.id), 1)
		b = append(b, `","submitted_at":"`...)
		b = appendTime(b, e.t)
		b = append(b, `","state":"`...)
		b = append(b, reviewStates[e.state]...)
		b = append(b, `","html_url":"`...)
		b = append(b, e.repo.htmlURL...)
		b = append(b, "/pull/"...)
		b = strconv.AppendInt(b, int64(e.it.number), 10)
		b = append(b, "#pullrequestreview-"...)
		b = strconv.AppendInt(b, rid, 10)
		b = append(b, `","pull_request_url":"`...)
		b = append(b, e.repo.apiURL...)
		b = append(b, "/pulls/"...)
		b = strconv.AppendInt(b, int64(e.it.number), 10)
		b = append(b, `","author_association":"`...)
		b = append(b, association(e.actor, e.repo)...)
		b = append(b, `"},"pull_request":`...)
		b = s.appendPR(b, e.it, e.t, false)
		b = append(b, '}')
	case kIssueOpened, kIssueClosed:
		action := "opened"
		if e.kind == kIssueClosed {
			action = "closed"
		}
		b = append(b, `{"action":"`...)
		b = append(b, action...)
		b = append(b, `","issue":`...)
		b = s.appendIssue(b, e.it, e.t)
		b = append(b, '}')
	case kComment:
		cid := s.ids.comment.next(e.t)
		b = append(b, `{"action":"created","issue":`...)
		b = s.appendIssue(b, e.it, e.t)
		b = append(b, `,"comment":{"url":"`...)
		b = append(b, e.repo.apiURL...)
		b = append(b, "/issues/comments/"...)
		b = strconv.AppendInt(b, cid, 10)
		b = append(b, `","html_url":"`...)
		b = appendItemHTML(b, e.it)
		b = append(b, "#issuecomment-"...)
		b = strconv.AppendInt(b, cid, 10)
		b = append(b, `","issue_url":"`...)
		b = append(b, e.repo.apiURL...)
		b = append(b, "/issues/"...)
		b = strconv.AppendInt(b, int64(e.it.number), 10)
		b = append(b, `","id":`...)
		b = strconv.AppendInt(b, cid, 10)
		b = append(b, `,"user":`...)
		b = append(b, e.actor.userJSON...)
		b = append(b, `,"created_at":"`...)
		b = appendTime(b, e.t)
		b = append(b, `","updated_at":"`...)
		b = appendTime(b, e.t)
		b = append(b, `","author_association":"`...)
		b = append(b, association(e.actor, e.repo)...)
		b = append(b, `","body":`...)
		b = appendString(b, commentBodies[int(cid%int64(len(commentBodies)))])
		b = append(b, `}}`...)
	case kPush, kMergePush:
		b = s.appendPush(b, e, id)
	case kRelease:
		rid := s.ids.release.next(e.t)
		b = append(b, `{"action":"published","release":{"url":"`...)
		b = append(b, e.repo.apiURL...)
		b = append(b, "/releases/"...)
		b = strconv.AppendInt(b, rid, 10)
		b = append(b, `","html_url":"`...)
		b = append(b, e.repo.htmlURL...)
		b = append(b, "/releases/tag/"...)
		b = append(b, e.tag...)
		b = append(b, `","id":`...)
		b = strconv.AppendInt(b, rid, 10)
		b = append(b, `,"author":`...)
		b = append(b, e.actor.userJSON...)
		b = append(b, `,"tag_name":"`...)
		b = append(b, e.tag...)
		b = append(b, `","target_commitish":"main","name":"`...)
		b = append(b, e.tag...)
		b = append(b, `","draft":false,"prerelease":false,"created_at":"`...)
		b = appendTime(b, e.t-120)
		b = append(b, `","published_at":"`...)
		b = appendTime(b, e.t)
		b = append(b, `","assets":[],"body":"## What's Changed\n\n* Bug fixes and improvements"}}`...)
	case kCreateTag, kCreateBranch:
		refType := "tag"
		if e.kind == kCreateBranch {
			refType = "branch"
		}
		b = append(b, `{"ref":`...)
		b = appendString(b, e.tag)
		b = append(b, `,"ref_type":"`...)
		b = append(b, refType...)
		b = append(b, `","master_branch":"main","description":null,"pusher_type":"user"}`...)
	case kWatch:
		b = append(b, `{"action":"started"}`...)
	case kFork:
		fid := s.ids.fork.next(e.t)
		short := e.repo.name[len(e.repo.owner)+1:]
		b = append(b, `{"forkee":{"id":`...)
		b = strconv.AppendInt(b, fid, 10)
		b = append(b, `,"name":"`...)
		b = append(b, short...)
		b = append(b, `","full_name":"`...)
		b = append(b, e.actor.login...)
		b = append(b, '/')
		b = append(b, short...)
		b = append(b, `","private":false,"owner":`...)
		b = append(b, e.actor.userJSON...)
		b = append(b, `,"html_url":"https://github.com/`...)
		b = append(b, e.actor.login...)
		b = append(b, '/')
		b = append(b, short...)
		b = append(b, `","description":null,"fork":true,"url":"https://api.github.com/repos/`...)
		b = append(b, e.actor.login...)
		b = append(b, '/')
		b = append(b, short...)
		b = append(b, `","created_at":"`...)
		b = appendTime(b, e.t)
		b = append(b, `","updated_at":"`...)
		b = appendTime(b, e.t)
		b = append(b, `","pushed_at":"`...)
		b = appendTime(b, e.t-3600)
		b = append(b, `","default_branch":"main","visibility":"public","public":true}}`...)
	}
	b = append(b, `,"public":true,"created_at":"`...)
	b = appendTime(b, e.t)
	if e.repo.orgJSON == nil { // a user's repository: GH Archive names no org
		return append(b, `"}`...)
	}
	b = append(b, `","org":`...)
	b = append(b, e.repo.orgJSON...)
	return append(b, '}')
}

// association is the actor's author_association in the repository.
func association(a *actor, rp *repo) string {
	if a.person != nil && rp.company {
		return "MEMBER"
	}
	for _, m := range rp.mainters {
		if m == a {
			return "MEMBER"
		}
	}
	return "CONTRIBUTOR"
}

func appendItemHTML(b []byte, it *item) []byte {
	b = append(b, it.repo.htmlURL...)
	if it.pr {
		b = append(b, "/pull/"...)
	} else {
		b = append(b, "/issues/"...)
	}
	return strconv.AppendInt(b, int64(it.number), 10)
}

// appendPR writes a pull_request object as of t; full adds what PullRequestEvent carries
// beyond the review event's copy (merged, merged_by, sizes).
func (s *sim) appendPR(b []byte, it *item, t int64, full bool) []byte {
	closed := it.closedAt(t)
	rp := it.repo
	num := int64(it.number)
	b = append(b, `{"url":"`...)
	b = append(b, rp.apiURL...)
	b = append(b, "/pulls/"...)
	b = strconv.AppendInt(b, num, 10)
	b = append(b, `","id":`...)
	b = strconv.AppendInt(b, it.id, 10)
	b = append(b, `,"html_url":"`...)
	b = appendItemHTML(b, it)
	b = append(b, `","issue_url":"`...)
	b = append(b, rp.apiURL...)
	b = append(b, "/issues/"...)
	b = strconv.AppendInt(b, num, 10)
	b = append(b, `","number":`...)
	b = strconv.AppendInt(b, num, 10)
	if closed {
		b = append(b, `,"state":"closed"`...)
	} else {
		b = append(b, `,"state":"open"`...)
	}
	b = append(b, `,"locked":false,"title":`...)
	b = appendString(b, it.title)
	b = append(b, `,"user":`...)
	b = append(b, it.author.userJSON...)
	b = append(b, `,"body":`...)
	b = appendString(b, prBodies[int(it.id%int64(len(prBodies)))])
	b = append(b, `,"created_at":"`...)
	b = appendTime(b, it.created)
	b = append(b, `","updated_at":"`...)
	b = appendTime(b, t)
	b = append(b, '"')
	mergedNow := closed && it.merged
	if closed {
		b = append(b, `,"closed_at":"`...)
		b = appendTime(b, it.closed)
		b = append(b, '"')
	} else {
		b = append(b, `,"closed_at":null`...)
	}
	if mergedNow {
		b = append(b, `,"merged_at":"`...)
		b = appendTime(b, it.closed)
		b = append(b, `","merge_commit_sha":"`...)
		b = appendSHA(b, uint64(it.id), 2)
		b = append(b, '"')
	} else {
		b = append(b, `,"merged_at":null,"merge_commit_sha":null`...)
	}
	b = append(b, `,"labels":[],"draft":false,"head":{"label":"`...)
	b = append(b, it.author.login...)
	b = append(b, ':')
	b = append(b, it.branch...)
	b = append(b, `","ref":"`...)
	b = append(b, it.branch...)
	b = append(b, `","sha":"`...)
	b = appendSHA(b, uint64(it.id), 1)
	b = append(b, `"},"base":{"label":"`...)
	b = append(b, rp.owner...)
	b = append(b, `:main","ref":"main","sha":"`...)
	b = appendSHA(b, uint64(it.id), 3)
	if rp.fork { // the base repository says it is a fork
		b = append(b, `","repo":{"id":`...)
		b = strconv.AppendInt(b, rp.id, 10)
		b = append(b, `,"full_name":`...)
		b = appendString(b, rp.name)
		b = append(b, `,"fork":true,"private":false}`...)
		b = append(b, `},"author_association":"`...)
	} else {
		b = append(b, `"},"author_association":"`...)
	}
	b = append(b, association(it.author, rp)...)
	b = append(b, '"')
	if full {
		if mergedNow {
			b = append(b, `,"merged":true,"merged_by":`...)
			b = append(b, it.closer.userJSON...)
		} else {
			b = append(b, `,"merged":false,"merged_by":null`...)
		}
		b = append(b, `,"commits":`...)
		b = strconv.AppendInt(b, int64(it.commits), 10)
		b = append(b, `,"additions":`...)
		b = strconv.AppendInt(b, int64(it.additions), 10)
		b = append(b, `,"deletions":`...)
		b = strconv.AppendInt(b, int64(it.deletions), 10)
		b = append(b, `,"changed_files":`...)
		b = strconv.AppendInt(b, int64(it.files), 10)
	}
	return append(b, '}')
}

// appendIssue writes an issue object as of t; a pull request's issue carries "pull_request".
func (s *sim) appendIssue(b []byte, it *item, t int64) []byte {
	closed := it.closedAt(t)
	rp := it.repo
	num := int64(it.number)
	b = append(b, `{"url":"`...)
	b = append(b, rp.apiURL...)
	b = append(b, "/issues/"...)
	b = strconv.AppendInt(b, num, 10)
	b = append(b, `","repository_url":"`...)
	b = append(b, rp.apiURL...)
	b = append(b, `","html_url":"`...)
	b = appendItemHTML(b, it)
	b = append(b, `","id":`...)
	b = strconv.AppendInt(b, it.issueID, 10)
	b = append(b, `,"number":`...)
	b = strconv.AppendInt(b, num, 10)
	b = append(b, `,"title":`...)
	b = appendString(b, it.title)
	b = append(b, `,"user":`...)
	b = append(b, it.author.userJSON...)
	if closed {
		b = append(b, `,"labels":[],"state":"closed"`...)
	} else {
		b = append(b, `,"labels":[],"state":"open"`...)
	}
	b = append(b, `,"locked":false,"created_at":"`...)
	b = appendTime(b, it.created)
	b = append(b, `","updated_at":"`...)
	b = appendTime(b, t)
	b = append(b, '"')
	if closed {
		b = append(b, `,"closed_at":"`...)
		b = appendTime(b, it.closed)
		b = append(b, '"')
	} else {
		b = append(b, `,"closed_at":null`...)
	}
	b = append(b, `,"author_association":"`...)
	b = append(b, association(it.author, rp)...)
	b = append(b, '"')
	if it.pr {
		b = append(b, `,"draft":false,"pull_request":{"url":"`...)
		b = append(b, rp.apiURL...)
		b = append(b, "/pulls/"...)
		b = strconv.AppendInt(b, num, 10)
		b = append(b, `","html_url":"`...)
		b = appendItemHTML(b, it)
		if closed && it.merged {
			b = append(b, `","merged_at":"`...)
			b = appendTime(b, it.closed)
			b = append(b, `"}`...)
		} else {
			b = append(b, `","merged_at":null}`...)
		}
	}
	b = append(b, `,"body":`...)
	b = appendString(b, issueBodies[int(it.id%int64(len(issueBodies)))])
	switch {
	case !closed || it.pr:
		b = append(b, `,"state_reason":null}`...)
	case it.merged:
		b = append(b, `,"state_reason":"completed"}`...)
	default:
		b = append(b, `,"state_reason":"not_planned"}`...)
	}
	return b
}

// appendPush writes a PushEvent payload: direct commits by e.who, or a merged pull request's
// squashed commit authored by its author and pushed by whoever merged it.
func (s *sim) appendPush(b []byte, e *ev, id int64) []byte {
	n := int(max(e.n, 1))
	pid := s.ids.push.next(e.t)
	seed := uint64(id)
	b = append(b, `{"repository_id":`...)
	b = strconv.AppendInt(b, e.repo.id, 10)
	b = append(b, `,"push_id":`...)
	b = strconv.AppendInt(b, pid, 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"distinct_size":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"ref":"refs/heads/`...)
	if e.tag != "" {
		b = append(b, e.tag...)
	} else {
		b = append(b, "main"...)
	}
	b = append(b, `","head":"`...)
	b = appendSHA(b, seed, uint64(n))
	b = append(b, `","before":"`...)
	b = appendSHA(b, seed, 0)
	b = append(b, `","commits":[`...)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b = append(b, ',')
		}
		b = append(b, `{"sha":"`...)
		b = appendSHA(b, seed, uint64(i))
		b = append(b, `","author":{"email":`...)
		w := e.who
		if w == nil {
			w = e.actor
		}
		mail := w.email
		if w.person != nil {
			mail = w.person.commitMail
		}
		b = appendString(b, mail)
		b = append(b, `,"name":`...)
		b = appendString(b, w.name)
		b = append(b, `},"message":`...)
		if e.kind == kMergePush {
			b = appendString(b, e.it.title+" (#"+itoa(e.it.number)+")")
		} else {
			b = appendString(b, commitMessages[int((seed+uint64(i))%uint64(len(commitMessages)))])
		}
		b = append(b, `,"distinct":true,"url":"`...)
		b = append(b, e.repo.apiURL...)
		b = append(b, "/commits/"...)
		b = appendSHA(b, seed, uint64(i))
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendSHA writes 40 hex digits derived from seed and i.
func appendSHA(b []byte, seed, i uint64) []byte {
	const hex = "0123456789abcdef"
	x := seed*0x9e3779b97f4a7c15 + i*0xbf58476d1ce4e5b9 + 0x94d049bb133111eb
	for w := 0; w < 3; w++ {
		v := splitmix(&x)
		digits := 16
		if w == 2 {
			digits = 8
		}
		for d := 0; d < digits; d++ {
			b = append(b, hex[v>>60])
			v <<= 4
		}
	}
	return b
}

func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// appendTime writes unix seconds as 2006-01-02T15:04:05Z without going through time.Time.
func appendTime(b []byte, t int64) []byte {
	days, sec := t/day, t%day
	if sec < 0 {
		days, sec = days-1, sec+day
	}
	y, m, d := civil(days)
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T')
	h, mi, s := sec/3600, sec/60%60, sec%60
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), 'Z')
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
// days_from_civil inverted).
func civil(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func itoa(v int) string { return strconv.Itoa(v) }
