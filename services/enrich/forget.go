package enrich

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/store"
)

// `giveback forget` removes one person everywhere. The command, as the NATS administrator,
// widens the name it is given to every identity the roster gives that person (PurgeNATS) and
// deletes the stream messages and KV entries that name them; then it sends an events.Forget on
// events.SubjectForget (core NATS request/reply, kept in no stream). One enrich replica (queue
// group), the writer of ClickHouse, widens it the same way, deletes their rows, records the
// forget in forget_audit and replies with what was removed. NATS goes first, so no message
// left in a stream can bring rows back. The roster itself is the company's file: the
// person stays in it until the company removes them or sets opt_out=true, and an opted-out
// person is neither collected nor stored again.

// ForgetStore is the part of the store a forget needs.
type ForgetStore interface {
	Forget(ctx context.Context, p store.Person) (map[string]int64, error)
	RecordForget(ctx context.Context, a store.ForgetAudit) error
}

// ForgetQueue is the queue group of enrich's forget subscription: one replica handles each
// request.
const ForgetQueue = "enrich-forget"

// forgetTimeout bounds one forget: a scan of the streams and a few ClickHouse mutations.
const forgetTimeout = 30 * time.Minute

// How a forget names the person, as recorded in forget_audit.
const (
	NamedByLogin      = "login"
	NamedByEmail      = "email"
	NamedByEmployeeID = "employee_id"
)

var (
	loginPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38})(?:\[bot\])?$`)
	requestID    = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// ParseWho checks the argument of `giveback forget`: a GitHub login, an e-mail or an employee
// id, without blanks or control characters, at most 320 bytes. It returns it trimmed.
func ParseWho(who string) (string, error) {
	w := strings.TrimSpace(who)
	switch {
	case w == "":
		return "", errors.New("forget: give a GitHub login, an e-mail or an employee id")
	case len(w) > 320:
		return "", fmt.Errorf("forget: %d bytes is too long for a login, an e-mail or an employee id (at most 320)", len(w))
	case !utf8.ValidString(w):
		return "", errors.New("forget: the argument is not valid UTF-8")
	}
	for _, r := range w {
		if unicode.IsSpace(r) || unicode.IsControl(r) || !unicode.IsPrint(r) {
			return "", fmt.Errorf("forget: %q holds a blank or control character; give one login, e-mail or employee id", w)
		}
	}
	if strings.Count(w, "@") > 1 || strings.HasPrefix(w, "@") || strings.HasSuffix(w, "@") {
		return "", fmt.Errorf("forget: %q is not an e-mail (one @ between a name and a domain)", w)
	}
	return w, nil
}

// NewForget returns a request to forget who, run by actor, with a random request id.
func NewForget(who, actor string) (events.Forget, error) {
	w, err := ParseWho(who)
	if err != nil {
		return events.Forget{}, err
	}
	a, err := parseActor(actor)
	if err != nil {
		return events.Forget{}, err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return events.Forget{}, fmt.Errorf("forget: request id: %w", err)
	}
	return events.Forget{Schema: events.SchemaForget, RequestID: hex.EncodeToString(b), Who: w, Actor: a}, nil
}

func parseActor(actor string) (string, error) {
	a := strings.TrimSpace(actor)
	if a == "" || len(a) > 128 || !utf8.ValidString(a) || strings.IndexFunc(a, unicode.IsControl) >= 0 {
		return "", errors.New("forget: --actor must name who runs the command (1 to 128 printable characters)")
	}
	return a, nil
}

// DecodeForget reads a forget request and checks every member: the schema version, a request
// id of 32 hex digits, who (ParseWho) and actor. Unknown members are refused.
func DecodeForget(data []byte) (events.Forget, error) {
	var f events.Forget
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return events.Forget{}, fmt.Errorf("forget: decode request: %w", err)
	}
	if d.More() {
		return events.Forget{}, errors.New("forget: decode request: data after the request")
	}
	if f.Schema != events.SchemaForget {
		return events.Forget{}, fmt.Errorf("forget: request schema %q, want %s", f.Schema, events.SchemaForget)
	}
	if !requestID.MatchString(f.RequestID) {
		return events.Forget{}, fmt.Errorf("forget: request_id %q is not 32 hex digits", f.RequestID)
	}
	var err error
	if f.Who, err = ParseWho(f.Who); err != nil {
		return events.Forget{}, err
	}
	if f.Actor, err = parseActor(f.Actor); err != nil {
		return events.Forget{}, err
	}
	if len(f.NATSRemoved) == 0 {
		f.NATSRemoved = nil // "nats_removed": {} says what its absence says
	}
	if len(f.NATSRemoved) > 64 {
		return events.Forget{}, fmt.Errorf("forget: nats_removed names %d places, at most 64", len(f.NATSRemoved))
	}
	for k, v := range f.NATSRemoved {
		if (!strings.HasPrefix(k, "stream.") && !strings.HasPrefix(k, "kv.")) || len(k) > 200 || strings.IndexFunc(k, unicode.IsControl) >= 0 || v < 0 {
			return events.Forget{}, fmt.Errorf("forget: nats_removed %q: %d is not a count of stream.<name> or kv.<bucket>", k, v)
		}
	}
	return f, nil
}

// Resolved is the person a forget names, widened through the roster and the aliases.
type Resolved struct {
	Person   store.Person
	NamedBy  string // NamedByLogin, NamedByEmail or NamedByEmployeeID
	OnRoster bool
	OptedOut bool // every roster row of the person has opt_out=true
}

// Resolve widens who to every login, e-mail and employee id the roster gives the same person
// (any of their rows, in any period), and to the aliases (config identities.aliases) of those
// logins and e-mails; an alias names the person it stands for. Someone not on the roster is
// forgotten by who alone, which must then look like a login or an e-mail; a GitHub noreply
// address also names its login.
func Resolve(ro *roster.Roster, aliases map[string]string, who string) (Resolved, error) {
	w, err := ParseWho(who)
	if err != nil {
		return Resolved{}, err
	}
	lw := strings.ToLower(w)
	var r Resolved
	var logins, emails, ids []string
	lower := make(map[string]string, len(aliases))
	for from, to := range aliases {
		lower[strings.ToLower(from)] = strings.ToLower(to)
	}
	if to, ok := lower[lw]; ok {
		// An alias names the roster login it stands for.
		if strings.Contains(lw, "@") {
			emails = append(emails, lw)
		} else {
			logins = append(logins, lw)
		}
		lw = to
	}
	if ro != nil {
		// Rows that name the person, then every row of the employee ids found.
		want := map[string]bool{}
		for _, p := range ro.Periods {
			switch {
			case p.EmployeeID == w:
				r.NamedBy = NamedByEmployeeID
			case contains(p.Logins, lw), contains(p.Emails, lw):
			default:
				continue
			}
			want[p.EmployeeID] = true
		}
		r.OptedOut = len(want) > 0
		for _, p := range ro.Periods {
			if !want[p.EmployeeID] || (p.EmployeeID == "" && !contains(p.Logins, lw) && !contains(p.Emails, lw)) {
				continue
			}
			r.OnRoster = true
			r.OptedOut = r.OptedOut && p.OptOut
			logins, emails, ids = append(logins, p.Logins...), append(emails, p.Emails...), append(ids, p.EmployeeID)
		}
	}
	if !r.OnRoster {
		r.OptedOut = false
		switch {
		case strings.Contains(lw, "@"):
			emails = append(emails, lw)
		case loginPattern.MatchString(lw):
			logins = append(logins, lw)
		default:
			return Resolved{}, fmt.Errorf("forget: %q is not on the roster and is neither a GitHub login nor an e-mail", w)
		}
	}
	if r.NamedBy == "" {
		r.NamedBy = NamedByLogin
		if strings.Contains(w, "@") {
			r.NamedBy = NamedByEmail
		}
	}
	// Aliases of the person's identities, and the login of a noreply address.
	known := map[string]bool{}
	for _, v := range append(append([]string(nil), logins...), emails...) {
		known[strings.ToLower(v)] = true
	}
	for f, t := range lower {
		if known[t] || known[f] {
			for _, v := range []string{f, t} {
				if strings.Contains(v, "@") {
					emails = append(emails, v)
				} else {
					logins = append(logins, v)
				}
			}
		}
	}
	for _, e := range emails {
		if l, ok := roster.LoginFromNoreply(e); ok {
			logins = append(logins, l)
		}
	}
	r.Person = store.NewPerson(logins, emails, ids)
	return r, nil
}

func contains(ss []string, v string) bool {
	for _, s := range ss {
		if s == v {
			return true
		}
	}
	return false
}

// PurgeNATS widens who through the roster and the aliases and deletes, from every stream and
// KV bucket, what names the person (PurgeStreams, PurgeKV). It returns how many messages and
// keys it deleted, as "stream.<name>" and "kv.<bucket>", for the request's NATSRemoved.
func PurgeNATS(ctx context.Context, js jetstream.JetStream, ro *roster.Roster, aliases map[string]string, who string) (map[string]int64, error) {
	out := map[string]int64{}
	r, err := Resolve(ro, aliases, who)
	if err != nil {
		return out, err
	}
	n, err := PurgeStreams(ctx, js, r.Person)
	for k, v := range n {
		out["stream."+k] = v
	}
	if err != nil {
		return out, err
	}
	kv, err := PurgeKV(ctx, js, r.Person)
	for k, v := range kv {
		out["kv."+k] = v
	}
	return out, err
}

// Forget removes the person a request names from the store, records it in forget_audit with
// what the command removed from NATS, and returns it all. A failure is reported in the result,
// with what was removed before it.
func Forget(ctx context.Context, st ForgetStore, ro *roster.Roster, aliases map[string]string, req events.Forget, log *slog.Logger) events.ForgetResult {
	start := time.Now()
	res := events.ForgetResult{Schema: events.SchemaForgetResult, RequestID: req.RequestID, Removed: map[string]int64{}}
	fail := func(err error) {
		if err != nil && res.Error == "" {
			res.Error = err.Error()
		}
	}
	who, err := Resolve(ro, aliases, req.Who)
	if err != nil {
		res.Error = err.Error()
		res.Took = time.Since(start)
		return res
	}
	res.OnRoster, res.OptedOut = who.OnRoster, who.OptedOut
	res.Identities = len(who.Person.Logins) + len(who.Person.Emails)
	for k, v := range req.NATSRemoved {
		res.Removed[k] = v
	}
	rows, err := st.Forget(ctx, who.Person)
	for k, v := range rows {
		res.Removed["clickhouse."+k] = v
	}
	fail(err)
	for k, v := range res.Removed {
		if v == 0 {
			delete(res.Removed, k)
		}
	}
	res.Took = time.Since(start)
	fail(st.RecordForget(context.WithoutCancel(ctx), store.ForgetAudit{RequestID: req.RequestID, At: start.UTC(), Actor: req.Actor,
		NamedBy: who.NamedBy, OnRoster: who.OnRoster, Identities: res.Identities, Removed: res.Removed, Error: res.Error}))
	if log != nil {
		log.Info("person forgotten", slog.String("request_id", req.RequestID), slog.String("actor", req.Actor), slog.String("named_by", who.NamedBy),
			slog.Any("removed", res.Removed), slog.String("error", res.Error), slog.Duration("took", res.Took))
	}
	return res
}

// matches reports whether a message or value names the person. A cheap search for the
// identities as bytes comes first; Mentions and MentionsText decide.
func matches(p store.Person, data []byte, text ...string) bool {
	for _, t := range text {
		if t != "" && p.MentionsText(t) {
			return true
		}
	}
	lower := bytes.ToLower(data)
	for _, v := range append(append([]string(nil), p.Logins...), p.Emails...) {
		if bytes.Contains(lower, []byte(v)) {
			return p.Mentions(data)
		}
	}
	return false
}

// PurgeStreams deletes, overwriting them (SecureDeleteMsg), the messages of every stream but the
// KV buckets' that name the person: in their data (JSON, searched with Mentions), their subject
// or their message id. It returns how many it deleted per stream. Messages published meanwhile
// are not looked at.
func PurgeStreams(ctx context.Context, js jetstream.JetStream, p store.Person) (map[string]int64, error) {
	out := map[string]int64{}
	names := js.StreamNames(ctx)
	var streams []string
	for n := range names.Name() {
		if !strings.HasPrefix(n, "KV_") && !strings.HasPrefix(n, "OBJ_") {
			streams = append(streams, n)
		}
	}
	if err := names.Err(); err != nil {
		return out, fmt.Errorf("forget: list streams: %w", err)
	}
	for _, name := range streams {
		n, err := purgeStream(ctx, js, name, p)
		if n > 0 {
			out[name] = n
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func purgeStream(ctx context.Context, js jetstream.JetStream, name string, p store.Person) (int64, error) {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("forget: stream %s: %w", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("forget: stream %s: %w", name, err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return 0, nil
	}
	c, err := js.OrderedConsumer(ctx, name, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return 0, fmt.Errorf("forget: read stream %s: %w", name, err)
	}
	var drop []uint64
	left := int(min(info.State.Msgs, 1<<30)) // what the stream held: each fetch asks for no more, so none waits in vain
	for done := false; !done && left > 0; {
		batch, err := c.Fetch(min(500, left), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return 0, fmt.Errorf("forget: read stream %s: %w", name, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			left--
			md, err := m.Metadata()
			if err != nil {
				return 0, fmt.Errorf("forget: read stream %s: %w", name, err)
			}
			if matches(p, m.Data(), m.Subject(), m.Headers().Get(jetstream.MsgIDHeader)) {
				drop = append(drop, md.Sequence.Stream)
			}
			if md.Sequence.Stream >= last {
				done = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return 0, fmt.Errorf("forget: read stream %s: %w", name, err)
		}
		if got == 0 {
			done = true // the rest expired or was deleted meanwhile
		}
	}
	var n int64
	for _, seq := range drop {
		if err := s.SecureDeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, fmt.Errorf("forget: delete message %d of %s: %w", seq, name, err)
		}
		n++
	}
	return n, nil
}

// PurgeKV purges, with every revision, the keys of every KV bucket whose name or value names
// the person: a key with the login as one of its dot-separated parts (status.rest.<login>,
// rest.<search>.<login>), or a value that mentions them. The roster (events.KeyRosterCurrent) is
// the company's file and is left alone, and so are the API tokens (events.BucketTokens), which
// `giveback tokens revoke` removes. It returns how many keys it purged per bucket.
func PurgeKV(ctx context.Context, js jetstream.JetStream, p store.Person) (map[string]int64, error) {
	out := map[string]int64{}
	names := js.KeyValueStoreNames(ctx)
	var buckets []string
	for n := range names.Name() {
		if n != events.BucketTokens {
			buckets = append(buckets, n)
		}
	}
	if err := names.Error(); err != nil {
		return out, fmt.Errorf("forget: list kv buckets: %w", err)
	}
	for _, bucket := range buckets {
		kv, err := js.KeyValue(ctx, bucket)
		if err != nil {
			return out, fmt.Errorf("forget: kv %s: %w", bucket, err)
		}
		s, err := js.Stream(ctx, "KV_"+bucket)
		if err != nil {
			return out, fmt.Errorf("forget: kv %s: %w", bucket, err)
		}
		keys, err := kv.ListKeys(ctx)
		if err != nil {
			return out, fmt.Errorf("forget: kv %s: list keys: %w", bucket, err)
		}
		var hit []string
		for k := range keys.Keys() {
			if k == events.KeyRosterCurrent {
				continue
			}
			if keyNames(p, k) {
				hit = append(hit, k)
				continue
			}
			e, err := kv.Get(ctx, k)
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return out, fmt.Errorf("forget: kv %s: read a key: %w", bucket, err)
			}
			if matches(p, e.Value()) {
				hit = append(hit, k)
			}
		}
		for _, k := range hit {
			// A KV stream refuses the deletion of single messages; a purge of the key's subject
			// removes every revision and leaves no marker that would name the key.
			if err := s.Purge(ctx, jetstream.WithPurgeSubject("$KV."+bucket+"."+k)); err != nil {
				return out, fmt.Errorf("forget: kv %s: purge a key: %w", bucket, err)
			}
			out[bucket]++
		}
	}
	return out, nil
}

// keyNames reports whether a KV key has one of the person's logins or e-mails as one of its
// dot-separated parts (an e-mail spans several).
func keyNames(p store.Person, key string) bool {
	l := strings.ToLower(key)
	parts := strings.Split(l, ".")
	for _, login := range p.Logins {
		if contains(parts, login) {
			return true
		}
	}
	for _, e := range p.Emails {
		if l == e || strings.HasSuffix(l, "."+e) || strings.HasPrefix(l, e+".") || strings.Contains(l, "."+e+".") {
			return true
		}
	}
	return false
}

// runForget answers forget requests until ctx ends; one replica of the queue group handles each.
func (s *Service) runForget(ctx context.Context) error {
	st, ok := s.store.(ForgetStore)
	if !ok {
		s.log.Warn("this store cannot forget people; forget requests go unanswered")
		return nil
	}
	nc := s.js.Conn()
	if nc == nil {
		return errors.New("enrich: forget: no NATS connection")
	}
	sub, err := nc.QueueSubscribe(events.SubjectForget, ForgetQueue, func(m *nats.Msg) {
		res := events.ForgetResult{Schema: events.SchemaForgetResult, Removed: map[string]int64{}}
		req, err := DecodeForget(m.Data)
		if err != nil {
			res.Error = err.Error()
			s.log.Warn("forget request refused", slog.Any("err", err))
		} else {
			fctx, cancel := context.WithTimeout(ctx, forgetTimeout)
			res = Forget(fctx, st, s.roster.Load(), s.ids.aliases, req, s.log)
			cancel()
		}
		data, err := json.Marshal(res)
		if err == nil {
			err = m.Respond(data)
		}
		if err != nil {
			s.log.Error("forget: reply not sent", slog.String("request_id", res.RequestID), slog.Any("err", err))
		}
	})
	if err != nil {
		return fmt.Errorf("enrich: forget: subscribe %s: %w", events.SubjectForget, err)
	}
	<-ctx.Done()
	if err := sub.Drain(); err != nil {
		s.log.Debug("drain forget subscription", slog.Any("err", err))
	}
	return nil
}
