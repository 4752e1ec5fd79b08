// Package events is Giveback's message contract: the structs carried on NATS, the stream and
// subject names, and the schema versions that match schemas/events/*.json; and the contract of
// the KV buckets (kv.go): each bucket's name, the builder of each key, the struct of each value
// (schemas/kv/*.json), and the durable consumer names. Ingest publishes Raw records, enrich
// turns them into Contributions, report reads what enrich stored.
package events

import (
	"encoding/json"
	"strconv"
	"time"
)

// Streams and subjects. A service never names a subject by a literal of its own.
const (
	// StreamRaw holds everything ingest collected, unchanged, for enrich.
	StreamRaw = "GIVEBACK_RAW"
	// SubjectRawPrefix prefixes the raw subjects; the source follows: giveback.raw.gharchive.
	SubjectRawPrefix = "giveback.raw."
	// SubjectRawAll matches every raw subject.
	SubjectRawAll = SubjectRawPrefix + ">"

	// StreamEnriched holds the canonical contributions enrich stored (the live feed).
	StreamEnriched = "GIVEBACK_ENRICHED"
	// SubjectContribution carries one enriched Contribution.
	SubjectContribution = "giveback.enriched.contribution"

	// StreamControl carries changes of reference data (roster, dependencies).
	StreamControl = "GIVEBACK_CONTROL"
	// SubjectControlAll matches every control subject.
	SubjectControlAll = "giveback.control.>"
	// SubjectRoster announces that the roster changed.
	SubjectRoster = "giveback.control.roster"
	// SubjectHydrate asks ingest to fill a trimmed GH Archive event from the REST API.
	SubjectHydrate = "giveback.control.hydrate"

	// StreamDeadLetter keeps the raw records enrich could never process (undecodable, a mapper
	// failure, a row ClickHouse rejects), each unchanged with why, from where and when in headers
	// (bus.DeadLetter), until an operator replays or drops it (`giveback deadletter`).
	StreamDeadLetter = "GIVEBACK_DEADLETTER"
	// SubjectDeadLetterPrefix prefixes the dead-letter subjects; the record's source follows.
	SubjectDeadLetterPrefix = "giveback.deadletter."
	// SubjectDeadLetterAll matches every dead-letter subject.
	SubjectDeadLetterAll = SubjectDeadLetterPrefix + ">"

	// SubjectForget carries `giveback forget` requests to enrich, request/reply on core NATS,
	// outside every stream: the request names a person and must not be kept.
	SubjectForget = "giveback.admin.forget"
)

// Schema versions, each matching the "schema" const of its file in schemas/events.
const (
	SchemaRaw          = "giveback.raw.v1"
	SchemaContribution = "giveback.contribution.v1"
	SchemaRoster       = "giveback.roster.v1"
	SchemaHydrate      = "giveback.hydrate.v1"
	SchemaForget       = "giveback.forget.v1"
	SchemaForgetResult = "giveback.forget_result.v1"
)

// Sources of raw records.
const (
	SourceGHArchive = "gharchive"
	SourceWebhook   = "webhook"
	SourceREST      = "rest"
	// SourceGHArchiveTotals carries, per GH Archive hour, every actor's activity in the
	// repositories the company watches (KindHourTotals, payload HourTotals).
	SourceGHArchiveTotals = "gharchive_totals"
)

// KindHourTotals is the kind of a SourceGHArchiveTotals record.
const KindHourTotals = "hour_totals"

// HourTotals is the payload of a SourceGHArchiveTotals record: every actor's events in the
// watched repositories during one GH Archive hour. Its ID is totals:<hour>, with #<part> after
// the first part when the rows of a busy hour are split over several records.
type HourTotals struct {
	Hour string        `json:"hour"` // 2025-01-01-15
	Rows []ActivityRow `json:"rows"`
}

// ActivityRow counts one actor's events of one type in one repository on one day.
type ActivityRow struct {
	Day    string `json:"day"`  // YYYY-MM-DD
	Repo   string `json:"repo"` // owner/name
	Actor  string `json:"actor"`
	Type   string `json:"type"` // the GH Archive event type
	Events uint64 `json:"events"`
}

// SubjectRaw returns the raw subject for a source.
func SubjectRaw(source string) string { return SubjectRawPrefix + source }

// Raw is one record exactly as a source delivered it, wrapped in an envelope.
//
// Kind is the source's own name for the record: the GH Archive event type ("PullRequestEvent"),
// the webhook event name from X-GitHub-Event ("pull_request"), or the REST object kind
// ("pull_request", "issue", "review", "commit"). ID is the source's id and the JetStream message
// id, so a repeat is dropped: the GH Archive event id, the webhook delivery GUID, or for REST
// objects kind:owner/repo#number@updated_at.
type Raw struct {
	Schema    string            `json:"schema"`
	Source    string            `json:"source"`
	Kind      string            `json:"kind"`
	ID        string            `json:"id"`
	FetchedAt time.Time         `json:"fetched_at"`
	Origin    string            `json:"origin,omitempty"` // where it was read: file:line, URL, delivery
	Meta      map[string]string `json:"meta,omitempty"`
	Payload   json.RawMessage   `json:"payload"`
}

// MsgID returns the JetStream message id of the record: source and id.
func (r *Raw) MsgID() string { return r.Source + ":" + r.ID }

// Contribution kinds.
const (
	KindPullRequest = "pull_request" // one row per PR authored, kept current as it changes
	KindReview      = "review"
	KindIssue       = "issue" // one row per issue opened, kept current
	KindComment     = "comment"
	KindCommit      = "commit"
	KindRelease     = "release"
	// KindMerge is a pull request merged by someone other than its author, credited to the
	// person who merged it (a maintainer's act): one row per pull request, id merge:<repo>#<n>.
	KindMerge = "merge"
)

// Kinds lists every contribution kind, in display order.
var Kinds = []string{KindPullRequest, KindReview, KindMerge, KindIssue, KindComment, KindCommit, KindRelease}

// Contribution is one canonical contribution: the same PR seen by the REST API, GH Archive and a
// webhook has one ID and is one row. Version orders the states of one ID; the highest wins.
type Contribution struct {
	Schema     string    `json:"schema"`
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	OccurredAt time.Time `json:"occurred_at"`
	ActorLogin string    `json:"actor_login"`
	EmployeeID string    `json:"employee_id"`
	Team       string    `json:"team"`
	Repo       string    `json:"repo"`       // owner/name
	RepoOwner  string    `json:"repo_owner"` // owner
	IsUpstream bool      `json:"is_upstream"`
	// Destination classifies the repository: internal, company_oss, upstream, fork, personal.
	Destination           string     `json:"destination,omitempty"`
	Foundation            string     `json:"foundation,omitempty"`
	IsDependency          bool       `json:"is_dependency"`
	DependencyCriticality int        `json:"dependency_criticality,omitempty"`
	Number                int        `json:"number,omitempty"`
	Title                 string     `json:"title,omitempty"`
	State                 string     `json:"state,omitempty"` // open, closed; a review's state lower-cased (approved, changes_requested, commented, dismissed); empty where the kind has none
	Merged                bool       `json:"merged"`
	MergedAt              *time.Time `json:"merged_at,omitempty"`
	ClosedAt              *time.Time `json:"closed_at,omitempty"`
	URL                   string     `json:"url,omitempty"`
	Source                string     `json:"source"`
	RawID                 string     `json:"raw_id"`
	Version               uint64     `json:"version"`                // the state's time in ms from mapper; enrich stores StoredVersion(ms, roster generation)
	AuthorEmail           string     `json:"author_email,omitempty"` // a commit's author e-mail, lower-cased
	// RepoFork and RepoPrivate are what the record said of the repository (webhooks, REST
	// objects, pull requests' base), for classifying the destination; RepoPrivate is nil when
	// the record did not say. GH Archive shows public repositories only.
	RepoFork    bool  `json:"repo_fork,omitempty"`
	RepoPrivate *bool `json:"repo_private,omitempty"`
	// A pull request's size and when someone other than its author first answered it (a
	// comment or a review); zero and nil where the source did not say.
	Additions       int        `json:"additions,omitempty"`
	Deletions       int        `json:"deletions,omitempty"`
	ChangedFiles    int        `json:"changed_files,omitempty"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
}

// RosterChange announces a new roster; enrich re-derives the contributions of the people in it.
type RosterChange struct {
	Schema    string    `json:"schema"`
	ChangedAt time.Time `json:"changed_at"`
	Digest    string    `json:"digest"` // sha256 of the roster file
	Logins    []string  `json:"logins"` // logins whose attribution may have changed
}

// What a Hydrate request asks for.
const (
	HydratePullRequest = "pull_request" // the pull request's details: author, state, merge
	HydratePush        = "push"         // the commits of a push
)

// Hydrate asks ingest to fetch from the REST API what a trimmed GH Archive event (since
// 2025-10-07) lacks: a PullRequestEvent keeps no author, title or merge state, a PushEvent no
// commits. Ingest publishes what it fetches as REST records (pull_request_detail, commit), which
// enrich maps onto the same canonical ids, so the stored rows are updated, not duplicated.
type Hydrate struct {
	Schema string    `json:"schema"`
	Kind   string    `json:"kind"` // HydratePullRequest or HydratePush
	Repo   string    `json:"repo"` // owner/name
	Number int       `json:"number,omitempty"`
	Before string    `json:"before,omitempty"` // a push's previous head; all zeros for a new branch
	Head   string    `json:"head,omitempty"`   // a push's new head
	Actor  string    `json:"actor"`            // who acted in the event (the pusher, the PR's opener or closer)
	At     time.Time `json:"at"`               // when the event happened
	RawID  string    `json:"raw_id"`           // the GH Archive event id
}

// MsgID returns the JetStream message id of the request: one per event and object.
func (h *Hydrate) MsgID() string {
	if h.Kind == HydratePush {
		return "hydrate:push:" + h.Repo + "@" + h.Head + ":" + h.RawID
	}
	return "hydrate:pr:" + h.Repo + "#" + strconv.Itoa(h.Number) + ":" + h.RawID
}
