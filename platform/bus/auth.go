package bus

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"giveback.dev/platform/events"
)

// The users of the bus: one per service, and an administrator for the commands that change
// reference data (the roster, tokens) and declare what the services need.
const (
	UserIngest = "ingest"
	UserEnrich = "enrich"
	UserReport = "report"
	UserAdmin  = "admin"
)

// Users lists every user of the bus.
var Users = []string{UserIngest, UserEnrich, UserReport, UserAdmin}

// Permissions are the subjects a user may publish to and subscribe to. Deny wins over allow.
type Permissions struct {
	PublishAllow   []string
	PublishDeny    []string
	SubscribeAllow []string
	// Responses lets the user answer the requests it receives (one reply each, within
	// ResponseExpiry), whatever their reply subject.
	Responses bool
}

// ResponseExpiry is how long a user with Responses may take to answer a request: longer than
// enrich takes to forget a person.
const ResponseExpiry = 35 * time.Minute

// jsAPI is the JetStream API prefix.
const jsAPI = "$JS.API."

// declare allows creating, updating and reading the configuration of the named streams.
func declare(streams ...string) []string {
	var s []string
	for _, st := range streams {
		s = append(s, jsAPI+"STREAM.CREATE."+st, jsAPI+"STREAM.UPDATE."+st, jsAPI+"STREAM.INFO."+st)
	}
	return s
}

// consume allows creating consumers on a stream, pulling from them and settling their messages.
// Consumer names are not pinned: a consumer can only read the stream, which the user may read.
func consume(stream string) []string {
	return []string{
		jsAPI + "STREAM.INFO." + stream,
		jsAPI + "CONSUMER.CREATE." + stream,
		jsAPI + "CONSUMER.CREATE." + stream + ".>",
		jsAPI + "CONSUMER.DURABLE.CREATE." + stream + ".>",
		jsAPI + "CONSUMER.INFO." + stream + ".>",
		jsAPI + "CONSUMER.MSG.NEXT." + stream + ".>",
		jsAPI + "CONSUMER.DELETE." + stream + ".>",
		"$JS.ACK." + stream + ".>",
		"$JS.FC." + stream + ".>",
	}
}

// streamStatus allows reading the state of the named streams and of their consumers, and
// nothing of their messages.
func streamStatus(streams ...string) []string {
	var s []string
	for _, st := range streams {
		s = append(s, jsAPI+"STREAM.INFO."+st, jsAPI+"CONSUMER.LIST."+st, jsAPI+"CONSUMER.INFO."+st+".>")
	}
	return s
}

// kvRead allows reading, listing and watching a KV bucket.
func kvRead(bucket string) []string {
	st := "KV_" + bucket
	return append(consume(st),
		jsAPI+"DIRECT.GET."+st,
		jsAPI+"DIRECT.GET."+st+".>",
		jsAPI+"STREAM.MSG.GET."+st,
	)
}

// kvWrite allows writing the keys (NATS subject patterns) of a bucket.
func kvWrite(bucket string, keys ...string) []string {
	var s []string
	for _, k := range keys {
		s = append(s, "$KV."+bucket+"."+k)
	}
	return s
}

// declareAll allows declaring what EnsureStreams declares: every stream and every bucket.
func declareAll() []string {
	d := declare(events.StreamRaw, events.StreamEnriched, events.StreamControl, events.StreamDeadLetter)
	for _, b := range events.Buckets {
		d = append(d, declare("KV_"+b)...)
	}
	return d
}

// PermissionsOf returns the permissions of a user of the bus; an unknown user has none.
//
//   - ingest publishes the raw subjects, writes its cursors, ETags and finished hours, its
//     statuses and its watch list, reads the roster and the watched repositories, and consumes
//     hydration requests;
//   - enrich consumes the raw stream and roster changes, publishes contributions and hydration
//     requests, dead-letters the raw records it can never process, reads the roster, writes only
//     the watched repositories, and answers forget requests;
//   - report reads the cursors (the hours backfilled), the statuses, the roster and the live feed of
//     contributions, sees the streams' backlog, their consumers' lag and the latest dead
//     letter, and keeps the claims of its scheduled reports;
//   - every service reads the token bucket (and may create it, empty);
//   - admin declares and writes everything of Giveback's: streams, buckets, the roster.
//
// A bucket that still holds keys of an earlier version (buckets.go) is written by nobody but the
// administrator in those keys, so nothing reaches a bucket through the copy that its users may
// not write themselves.
func PermissionsOf(user string) Permissions {
	// Every service authenticates HTTP requests against the token bucket, and creates it
	// (empty) when it is missing; only the administrator writes tokens.
	common := slices.Concat([]string{jsAPI + "INFO"}, declare("KV_"+events.BucketTokens), kvRead(events.BucketTokens))
	inbox := []string{"_INBOX.>"}
	var p Permissions
	switch user {
	case UserIngest:
		p.PublishAllow = slices.Concat(common,
			[]string{events.SubjectRawAll},
			declareAll(),
			consume(events.StreamControl),
			kvRead(events.BucketCursors),
			kvWrite(events.BucketCursors, events.KeyRESTCursorPrefix+">", events.KeyHourDonePrefix+">"),
			kvRead(events.BucketStatus),
			kvWrite(events.BucketStatus, ">"),
			kvRead(events.BucketHydrateWatch),
			kvWrite(events.BucketHydrateWatch, ">"),
			kvRead(events.BucketRoster),
			kvRead(events.BucketWatchedRepos),
			declare("KV_"+events.BucketWebhookBodies),
			kvRead(events.BucketWebhookBodies),
			kvWrite(events.BucketWebhookBodies, ">"),
		)
	case UserEnrich:
		p.PublishAllow = slices.Concat(common,
			[]string{events.SubjectContribution, events.SubjectHydrate, events.SubjectDeadLetterAll},
			declareAll(),
			consume(events.StreamRaw),
			consume(events.StreamControl),
			kvRead(events.BucketRoster),
			kvRead(events.BucketWatchedRepos),
			kvWrite(events.BucketWatchedRepos, events.KeyTotalsRepos),
		)
		// `giveback forget` asks enrich over core NATS, request and reply.
		p.SubscribeAllow = []string{events.SubjectForget}
		p.Responses = true
	case UserReport:
		p.PublishAllow = slices.Concat(common,
			kvRead(events.BucketCursors),
			kvRead(events.BucketStatus),
			// The roster's end dates (departures) and opt-outs (people).
			kvRead(events.BucketRoster),
			consume(events.StreamEnriched),
			// For /sources: the backlog of each stream, the lag of its durable consumers, and
			// the reason of the latest dead letter.
			streamStatus(events.StreamRaw, events.StreamEnriched, events.StreamControl, events.StreamDeadLetter),
			[]string{jsAPI + "STREAM.MSG.GET." + events.StreamDeadLetter, jsAPI + "DIRECT.GET." + events.StreamDeadLetter,
				jsAPI + "DIRECT.GET." + events.StreamDeadLetter + ".>"},
			// The scheduled reports' claims, which only the report service keeps.
			declare("KV_"+events.BucketReportClaims),
			kvRead(events.BucketReportClaims),
			kvWrite(events.BucketReportClaims, ">"),
		)
		// The result cache of a report service of its own drops its answers when enrich
		// announces stored contributions or reference data changes (report.Server.FollowChanges).
		p.SubscribeAllow = append(p.SubscribeAllow, events.SubjectContribution, events.SubjectControlAll)
	case UserAdmin:
		p.PublishAllow = []string{"giveback.>", "$JS.API.>", "$KV.>", "$JS.ACK.>", "$JS.FC.>"}
	default:
		return Permissions{}
	}
	p.SubscribeAllow = append(p.SubscribeAllow, inbox...)
	slices.Sort(p.SubscribeAllow)
	slices.Sort(p.PublishAllow)
	p.PublishAllow = slices.Compact(p.PublishAllow)
	slices.Sort(p.PublishDeny)
	return p
}

// Credentials are how a client authenticates to NATS and which server certificates it trusts.
// The zero value connects anonymously over plain TCP.
type Credentials struct {
	User     string
	Password string
	// CAFile verifies the server's certificate (TLS is used when any of the three is set);
	// CertFile and KeyFile present a client certificate.
	CAFile, CertFile, KeyFile string
}

// CredentialsFileName is the name of the file, in the embedded server's directory, that holds
// the generated passwords of its users.
const CredentialsFileName = "credentials.json"

// LoadOrCreatePasswords reads the passwords of the bus users from path, a JSON object of user →
// password, generating the file (mode 0600) with a random password for each user missing from
// it. The embedded server and the commands that reach it share these passwords.
func LoadOrCreatePasswords(path string) (map[string]string, error) {
	pw := map[string]string{}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &pw); err != nil {
			return nil, fmt.Errorf("bus: credentials %s: not a JSON object of user to password: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("bus: credentials: %w", err)
	}
	changed := false
	for _, u := range Users {
		if len(pw[u]) >= 16 {
			continue
		}
		var r [24]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, fmt.Errorf("bus: credentials: %w", err)
		}
		pw[u] = base64.RawURLEncoding.EncodeToString(r[:])
		changed = true
	}
	if !changed {
		return pw, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("bus: credentials: %w", err)
	}
	b, err = json.MarshalIndent(pw, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bus: credentials: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("bus: credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("bus: credentials: %w", err)
	}
	return pw, nil
}

// ReadPasswords reads a credentials file written by LoadOrCreatePasswords (or by hand, in the
// same shape) without creating it.
func ReadPasswords(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bus: credentials: %w", err)
	}
	pw := map[string]string{}
	if err := json.Unmarshal(b, &pw); err != nil {
		return nil, fmt.Errorf("bus: credentials %s: not a JSON object of user to password: %w", path, err)
	}
	return pw, nil
}

// ServerAuthConfig returns the authorization block of a nats-server configuration file with
// every Giveback user and its permissions; each password is read by the server from the
// environment variable GIVEBACK_NATS_<USER>_PASSWORD. The compose and Kubernetes NATS
// configurations carry this block verbatim (a test checks they do).
func ServerAuthConfig() string {
	var b strings.Builder
	b.WriteString("authorization {\n  users: [\n")
	list := func(indent, key string, subjects []string) {
		if len(subjects) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s%s: [\n", indent, key)
		for _, s := range subjects {
			fmt.Fprintf(&b, "%s  %q\n", indent, s)
		}
		fmt.Fprintf(&b, "%s]\n", indent)
	}
	for _, u := range Users {
		p := PermissionsOf(u)
		fmt.Fprintf(&b, "    {\n      user: %s\n      password: $%s\n      permissions: {\n", u, PasswordEnv(u))
		b.WriteString("        publish: {\n")
		list("          ", "allow", p.PublishAllow)
		list("          ", "deny", p.PublishDeny)
		b.WriteString("        }\n        subscribe: {\n")
		list("          ", "allow", p.SubscribeAllow)
		b.WriteString("        }\n")
		if p.Responses {
			fmt.Fprintf(&b, "        allow_responses: {max: 1, expires: %q}\n", ResponseExpiry.String())
		}
		b.WriteString("      }\n    }\n")
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

// PasswordEnv is the environment variable a NATS server configuration reads a user's password
// from: GIVEBACK_NATS_INGEST_PASSWORD and so on.
func PasswordEnv(user string) string {
	return "GIVEBACK_NATS_" + strings.ToUpper(user) + "_PASSWORD"
}
