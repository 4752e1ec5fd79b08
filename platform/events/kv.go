package events

import (
	"crypto/sha1" // #nosec G505 -- key names, not signatures
	hexenc "encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The KV buckets, each named for what it holds. The writer and every reader of a key name it by
// the constants and builders below, never by a literal of their own; the JSON Schema of each
// value is in schemas/kv.
const (
	// BucketCursors holds ingest's progress: the cursor of each REST search of each login
	// (KeyRESTCursor), the ETag of each REST response processed (KeyETag) and one key per GH
	// Archive hour backfilled (KeyHourDone). Ingest writes it; report reads the hours.
	BucketCursors = "giveback_cursors"
	// BucketRoster holds the roster loaded by `giveback roster load` (KeyRosterCurrent), its
	// generation (KeyRosterGeneration) and the company (KeyRosterCompany). The administrator writes it;
	// the services read it.
	BucketRoster = "giveback_roster"
	// BucketStatus holds what the collection did, for the report service: the REST sync's
	// status per login (KeyStatusREST, RESTStatus) and the hydration's (KeyStatusHydration,
	// HydrationStatus). Ingest writes it; report reads it.
	BucketStatus = "giveback_status"
	// BucketHydrateWatch holds the open pull requests hydration re-checks until they are closed
	// (KeyHydrateOpen, HydrateOpen). Only ingest reads and writes it.
	BucketHydrateWatch = "giveback_hydrate_watch"
	// BucketWatchedRepos holds the repositories whose whole activity ingest counts
	// (KeyTotalsRepos). Enrich writes it; ingest reads it.
	BucketWatchedRepos = "giveback_watched_repos"
)

// Buckets lists every bucket of the contract above.
var Buckets = []string{BucketCursors, BucketRoster, BucketStatus, BucketHydrateWatch, BucketWatchedRepos}

// Buckets declared by their owners with settings of their own, outside Buckets.
const (
	// BucketTokens holds the report service's API tokens, hashed (platform/auth). The
	// administrator writes it (`giveback tokens`); every report replica watches it.
	BucketTokens = "giveback_tokens"
	// BucketWebhookBodies holds the hashes of recent webhook bodies, with a TTL, so that ingest
	// recognises a signed body replayed under another delivery id.
	BucketWebhookBodies = "giveback_webhook_bodies"
	// BucketReportClaims holds one ReportClaim per delivery of a scheduled report's period
	// (KeyReportClaim), so that among several report replicas exactly one sends it, and one
	// ReportArchived per period (KeyReportArchived), so that one archives it. The report
	// service creates and writes it.
	BucketReportClaims = "giveback_report_claims"
)

// KeyReportClaim returns the key of the claim on one delivery of one report's period:
// report.<name>.<period>.<delivery>, the dots of the period written as underscores
// (report.monthly.2026-10.smtp).
func KeyReportClaim(report, period, delivery string) string {
	return "report." + report + "." + strings.ReplaceAll(period, ".", "_") + "." + delivery
}

// KeyReportArchived returns the key of the marker that one replica archives a report's period:
// archived.<name>.<period>, the dots of the period written as underscores
// (archived.monthly.2026-10).
func KeyReportArchived(report, period string) string {
	return "archived." + report + "." + strings.ReplaceAll(period, ".", "_")
}

// The states of a ReportArchived.
const (
	ArchiveWriting = "writing" // a replica is writing the run to the archive until Expires
	ArchiveDone    = "done"    // the run with Hash is in the archive
)

// ReportArchived is the value of a KeyReportArchived: which replica archives the run of a
// period, and the hash of its numbers. Replicas that claimed different deliveries of one period
// each build the report; the first creates the key and archives it, and the others, whose
// numbers have the same hash, do not archive it again. A run with other numbers (the data
// changed between the builds) is archived too, and so is a forced re-run.
type ReportArchived struct {
	State   string    `json:"state"`
	Owner   string    `json:"owner"`   // the replica writing or having written the run
	Hash    string    `json:"hash"`    // the run's Report.Hash
	Claimed time.Time `json:"claimed"` // when the write began
	Expires time.Time `json:"expires"` // when a writing marker may be taken over
}

// The states of a ReportClaim.
const (
	ClaimSending = "sending" // a replica holds the claim until Expires and is sending
	ClaimDone    = "done"    // the delivery succeeded; it is never sent again without --force
	ClaimFailed  = "failed"  // every attempt failed; a re-send is an admin's decision
)

// ReportClaim is the value of a KeyReportClaim: who sends a delivery, and how it ended. A
// replica takes a claim by creating the key, or by replacing (compare-and-set on the revision)
// one whose State is sending and whose Expires has passed.
type ReportClaim struct {
	State    string    `json:"state"`
	Owner    string    `json:"owner"`   // the replica holding or having held the claim
	Claimed  time.Time `json:"claimed"` // when it was (last) taken
	Expires  time.Time `json:"expires"` // when a sending claim may be taken over
	Attempts int       `json:"attempts"`
	Done     time.Time `json:"done,omitzero"` // when it was sent (done) or given up (failed)
	Error    string    `json:"error,omitempty"`
}

// Keys of BucketRoster. `giveback roster load` writes the roster file's bytes under
// KeyRosterCurrent and bumps KeyRosterGeneration (a decimal counter), then publishes a
// RosterChange; every enrich replica reads its roster from there. KeyRosterCompany (company.go)
// is in the same bucket.
const (
	KeyRosterCurrent    = "roster.current"
	KeyRosterGeneration = "roster.generation"
)

// KeyTotalsRepos is the key of BucketWatchedRepos holding the repositories whose whole activity
// ingest counts, a JSON array of owner/name: enrich writes it, ingest reads it.
const KeyTotalsRepos = "totals.repos"

// Keys of BucketCursors.
const (
	// KeyRESTCursorPrefix prefixes the cursors of the REST searches.
	KeyRESTCursorPrefix = "rest."
	// KeyETagPrefix prefixes the ETags of REST responses.
	KeyETagPrefix = "rest.etag."
	// KeyHourDonePrefix prefixes the GH Archive hours backfilled.
	KeyHourDonePrefix = "gharchive.hour."
)

// KeyRESTCursor returns the key of the cursor (an RFC 3339 time) of one REST search of a login:
// rest.<search>.<login>, e.g. rest.reviewed.octocat.
func KeyRESTCursor(search, login string) string {
	return KeyRESTCursorPrefix + search + "." + strings.ToLower(login)
}

// KeyETag returns the key of the ETag (an ETag value, JSON) of a REST request URL:
// rest.etag.<sha1 of the URL>.
func KeyETag(url string) string {
	sum := sha1.Sum([]byte(url)) // #nosec G401 -- a key name, not a signature
	return KeyETagPrefix + hexenc.EncodeToString(sum[:])
}

// ETag is the value of a KeyETag: what ingest keeps of a response it processed, to ask again
// with If-None-Match. Next is the response's rel="next" page (0 for the last), since a 304 has
// no body to page on.
type ETag struct {
	ETag string `json:"etag"`
	Next int    `json:"next,omitempty"`
}

// HourName returns a GH Archive hour as GH Archive names it, without extension: 2025-01-01-5.
func HourName(h time.Time) string {
	h = h.UTC()
	return fmt.Sprintf("%s-%d", h.Format(time.DateOnly), h.Hour())
}

// ParseHourName reads an hour named as HourName writes it (a zero-padded hour is read too).
func ParseHourName(s string) (time.Time, error) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD-H", s)
	}
	day, err := time.Parse(time.DateOnly, s[:i])
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD-H: %w", s, err)
	}
	h, err := strconv.Atoi(s[i+1:])
	if err != nil || h < 0 || h > 23 {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD-H: bad hour", s)
	}
	return day.Add(time.Duration(h) * time.Hour), nil
}

// KeyHourDone returns the key that marks a GH Archive hour as backfilled (its value is when, in
// RFC 3339): gharchive.hour.<YYYY-MM-DD-H>.
func KeyHourDone(h time.Time) string { return KeyHourDonePrefix + HourName(h) }

// Keys of BucketStatus.
const (
	// KeyStatusRESTPrefix prefixes the REST sync's status of each login.
	KeyStatusRESTPrefix = "status.rest."
	// KeyStatusHydration holds the HydrationStatus.
	KeyStatusHydration = "status.hydrate"
)

// KeyStatusREST returns the key of a login's RESTStatus: status.rest.<login>.
func KeyStatusREST(login string) string { return KeyStatusRESTPrefix + strings.ToLower(login) }

// RESTStatus is what the last REST sync of one login did, stored under KeyStatusREST(login)
// after each sync of the login.
type RESTStatus struct {
	Login       string               `json:"login"`
	LastSync    time.Time            `json:"last_sync"`          // when the last sync of the login ended
	NextSync    time.Time            `json:"next_sync,omitzero"` // when the next is due (zero outside a running sync)
	Cursor      time.Time            `json:"cursor,omitzero"`    // updated_at reached by the author search
	Cursors     map[string]time.Time `json:"cursors,omitempty"`  // the cursor of each search
	Items       int                  `json:"items"`              // records published by the last sync
	Requests    int                  `json:"requests"`           // requests the rate limit counted
	NotModified int                  `json:"not_modified"`       // 304 answers (free)
	LastError   string               `json:"last_error"`         // the last sync's error, empty when it succeeded
	Remaining   int                  `json:"remaining"`          // requests left in the rate limit GitHub reported last
	Reset       time.Time            `json:"reset,omitzero"`     // when that rate limit resets
}

// HydrationStatus is what the hydration of trimmed GH Archive events did since it was first set
// up, stored under KeyStatusHydration.
type HydrationStatus struct {
	Requests     int       `json:"requests"`      // hydration requests handled
	PullRequests int       `json:"pull_requests"` // pull request details published
	Commits      int       `json:"commits"`       // commits published
	Gone         int       `json:"gone"`          // objects GitHub no longer shows (deleted, private, force-pushed away)
	Invalid      int       `json:"invalid"`       // requests with a value that may not go into an API path: not requested
	Counted      int       `json:"counted"`       // requests the rate limit counted
	NotModified  int       `json:"not_modified"`  // 304 answers (free)
	Watched      int       `json:"watched"`       // open pull requests re-checked each cycle
	LastError    string    `json:"last_error"`
	LastAt       time.Time `json:"last_at,omitzero"`
}

// KeyHydrateOpenPrefix prefixes the keys of BucketHydrateWatch.
const KeyHydrateOpenPrefix = "hydrate.open."

// KeyHydrateOpen returns the key of a watched pull request: hydrate.open.<sha1 of owner/name#n>.
func KeyHydrateOpen(repo string, number int) string {
	sum := sha1.Sum([]byte(strings.ToLower(repo) + "#" + strconv.Itoa(number))) // #nosec G401 -- a key name
	return KeyHydrateOpenPrefix + hexenc.EncodeToString(sum[:])
}

// HydrateOpen is the value of a KeyHydrateOpen: a pull request hydration found open.
type HydrateOpen struct {
	Repo   string    `json:"repo"`
	Number int       `json:"number"`
	Actor  string    `json:"actor"`
	Since  time.Time `json:"since"` // when hydration first found it open
}

// The durable consumers. Replicas of a service share its consumer, so each message is handled
// once.
const (
	// DurableEnrich is enrich's consumer of StreamRaw.
	DurableEnrich = "enrich"
	// DurableEnrichRoster is enrich's consumer of roster changes (SubjectRoster).
	DurableEnrichRoster = "enrich-roster"
	// DurableIngestHydrate is ingest's consumer of hydration requests (SubjectHydrate).
	DurableIngestHydrate = "ingest-hydrate"
)
