package report

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/services/report/web"
)

// SourceBuckets are the buckets where ingest keeps the state of the collection.
type SourceBuckets struct {
	Cursors  jetstream.KeyValue // events.BucketCursors: the GH Archive hours backfilled
	Statuses jetstream.KeyValue // events.BucketStatus: the REST sync's and hydration's statuses
	// JS reads the streams: their backlog and consumers for /sources, the live feed (Options.Live).
	JS jetstream.JetStream
}

// OpenSources opens the buckets /sources reads.
func OpenSources(ctx context.Context, js jetstream.JetStream) (SourceBuckets, error) {
	b := SourceBuckets{JS: js}
	var err error
	if b.Cursors, err = js.KeyValue(ctx, events.BucketCursors); err != nil {
		return b, fmt.Errorf("report: bucket %s: %w", events.BucketCursors, err)
	}
	if b.Statuses, err = js.KeyValue(ctx, events.BucketStatus); err != nil {
		return b, fmt.Errorf("report: bucket %s: %w", events.BucketStatus, err)
	}
	return b, nil
}

// ArchiveStatus is the state of the GH Archive backfill.
type ArchiveStatus struct {
	HoursDone int    `json:"hours_done"`
	LastHour  string `json:"last_hour"` // the latest hour backfilled, 2025-01-01T15:00:00Z; empty when none
}

// Sources is the answer of GET /api/v1/sources.
type Sources struct {
	REST      []events.RESTStatus `json:"rest"`
	GHArchive ArchiveStatus       `json:"gharchive"`
	// Hydration is absent until ingest hydrated something.
	Hydration *events.HydrationStatus `json:"hydration,omitempty"`
	// Streams are the NATS streams' backlog and their durable consumers' lag; absent when the
	// server has no NATS connection (Options.Live).
	Streams []StreamStatus `json:"streams,omitempty"`
	// DeadLetters counts the records enrich could never process (events.StreamDeadLetter);
	// absent where there is no such stream.
	DeadLetters *uint64 `json:"dead_letters,omitempty"`
	// LastErrors holds the latest error of each source that records one: the REST sync (the
	// latest among its logins), hydration, and enrich (the latest dead letter).
	LastErrors []SourceError `json:"last_errors"`
	// OverdueReports names the scheduled reports whose last due period was not delivered by its
	// due time and grace period; absent where no report is scheduled (Options.Reports).
	OverdueReports []string `json:"overdue_reports,omitempty"`
}

// StreamStatus is one NATS stream's backlog and the lag of its durable consumers.
type StreamStatus struct {
	Stream    string        `json:"stream"`
	Messages  uint64        `json:"messages"`
	Bytes     uint64        `json:"bytes"`
	LastAt    time.Time     `json:"last_at,omitzero"` // when the newest message was stored
	Consumers []ConsumerLag `json:"consumers"`
	Error     string        `json:"error,omitempty"` // why the state could not be read
}

// ConsumerLag is how far one durable consumer is behind its stream.
type ConsumerLag struct {
	Name        string    `json:"name"`
	Pending     uint64    `json:"num_pending"`     // messages not yet delivered
	AckPending  int       `json:"num_ack_pending"` // delivered, not yet acknowledged
	Redelivered int       `json:"num_redelivered"` // delivered more than once, not yet acknowledged
	LastActive  time.Time `json:"last_active,omitzero"`
}

// SourceError is the latest error one source recorded.
type SourceError struct {
	Source string    `json:"source"` // rest, hydration or enrich
	Detail string    `json:"detail,omitempty"`
	Error  string    `json:"error"`
	At     time.Time `json:"at,omitzero"`
}

// errNoSources answers /sources when the server has not the buckets ingest writes.
var errNoSources = errors.New("the collection state is not available: the report service was started without ingest's cursor and status buckets")

// sources reads the state of the collection from the buckets. A malformed status or hour key is
// skipped and logged.
func (s *Server) sources(ctx context.Context) (Sources, error) {
	out := Sources{REST: []events.RESTStatus{}}
	var last time.Time
	err := s.eachKey(ctx, s.opts.Sources.Cursors, events.KeyHourDonePrefix+">", func(key string) error {
		h, err := events.ParseHourName(strings.TrimPrefix(key, events.KeyHourDonePrefix))
		if err != nil {
			s.log.Warn("sources: skipping a malformed hour key", slog.String("key", key), slog.Any("err", err))
			return nil
		}
		out.GHArchive.HoursDone++
		if h.After(last) {
			last = h
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	err = s.eachKey(ctx, s.opts.Sources.Statuses, events.KeyStatusRESTPrefix+">", func(key string) error {
		var st events.RESTStatus
		ok, err := s.readStatus(ctx, key, &st)
		if ok {
			out.REST = append(out.REST, st)
		}
		return err
	})
	if err != nil {
		return out, err
	}
	var h events.HydrationStatus
	if ok, err := s.readStatus(ctx, events.KeyStatusHydration, &h); err != nil {
		return out, err
	} else if ok {
		out.Hydration = &h
	}
	if !last.IsZero() {
		out.GHArchive.LastHour = last.Format(time.RFC3339)
	}
	sort.Slice(out.REST, func(i, j int) bool { return out.REST[i].Login < out.REST[j].Login })
	out.LastErrors = []SourceError{}
	var rest *SourceError
	for _, st := range out.REST {
		if st.LastError != "" && (rest == nil || st.LastSync.After(rest.At)) {
			rest = &SourceError{Source: "rest", Detail: "login " + st.Login, Error: st.LastError, At: st.LastSync}
		}
	}
	if rest != nil {
		out.LastErrors = append(out.LastErrors, *rest)
	}
	if h := out.Hydration; h != nil && h.LastError != "" {
		out.LastErrors = append(out.LastErrors, SourceError{Source: "hydration", Error: h.LastError, At: h.LastAt})
	}
	if s.opts.Live != nil {
		s.streams(ctx, &out)
	}
	if s.opts.Reports != nil {
		out.OverdueReports = []string{}
		for _, d := range s.opts.Reports.Definitions() {
			if s.opts.Reports.Overdue(d.Name) {
				out.OverdueReports = append(out.OverdueReports, d.Name)
			}
		}
	}
	return out, nil
}

// streams reads the state of Giveback's streams and their durable consumers, the dead-letter
// count and the latest dead letter's reason into out. A stream that does not answer is listed
// with its error rather than failing the page.
func (s *Server) streams(ctx context.Context, out *Sources) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, name := range []string{events.StreamRaw, events.StreamEnriched, events.StreamControl, events.StreamDeadLetter} {
		st, err := s.opts.Live.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		ss := StreamStatus{Stream: name, Consumers: []ConsumerLag{}}
		if err != nil {
			s.log.Warn("sources: stream state", slog.String("stream", name), slog.Any("err", err))
			ss.Error = err.Error()
			out.Streams = append(out.Streams, ss)
			continue
		}
		info := st.CachedInfo()
		ss.Messages, ss.Bytes, ss.LastAt = info.State.Msgs, info.State.Bytes, info.State.LastTime.UTC()
		if info.State.Msgs == 0 {
			ss.LastAt = time.Time{}
		}
		cl := st.ListConsumers(ctx)
		for ci := range cl.Info() {
			if ci.Config.Durable == "" {
				continue // an ephemeral consumer: a live page's, or a command's
			}
			c := ConsumerLag{Name: ci.Name, Pending: ci.NumPending, AckPending: ci.NumAckPending, Redelivered: ci.NumRedelivered}
			if ci.Delivered.Last != nil {
				c.LastActive = ci.Delivered.Last.UTC()
			}
			ss.Consumers = append(ss.Consumers, c)
		}
		if err := cl.Err(); err != nil {
			s.log.Warn("sources: consumers", slog.String("stream", name), slog.Any("err", err))
			ss.Error = "consumers: " + err.Error()
		}
		sort.Slice(ss.Consumers, func(i, j int) bool { return ss.Consumers[i].Name < ss.Consumers[j].Name })
		out.Streams = append(out.Streams, ss)
		if name != events.StreamDeadLetter {
			continue
		}
		n := info.State.Msgs
		out.DeadLetters = &n
		if n == 0 {
			continue
		}
		d, err := bus.GetDeadLetter(ctx, s.opts.Live, info.State.LastSeq)
		if err != nil {
			if !errors.Is(err, bus.ErrNoDeadLetter) {
				s.log.Warn("sources: latest dead letter", slog.Any("err", err))
			}
			continue
		}
		out.LastErrors = append(out.LastErrors, SourceError{Source: "enrich", Detail: fmt.Sprintf("%s of a %s record; %d dead letters", d.Stage, d.Source, n),
			Error: d.Reason, At: d.FailedAt.UTC()})
	}
}

// eachKey calls f with each key of kv matching filter, until f fails.
func (s *Server) eachKey(ctx context.Context, kv jetstream.KeyValue, filter string, f func(key string) error) error {
	lister, err := kv.ListKeysFiltered(ctx, filter)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: sources: list keys: %w", err)
	}
	defer func() {
		// Once every key was read the lister has already unsubscribed, and Stop says so.
		if err := lister.Stop(); err != nil && !errors.Is(err, nats.ErrBadSubscription) {
			s.log.Warn("sources: stop key lister", slog.Any("err", err))
		}
	}()
	for key := range lister.Keys() {
		if err := f(key); err != nil {
			return err
		}
	}
	return nil
}

// readStatus decodes the JSON status under key of the status bucket into v. It reports false,
// and logs, when the key is absent or its value is malformed; an error means the bucket did not
// answer.
func (s *Server) readStatus(ctx context.Context, key string, v any) (bool, error) {
	e, err := s.opts.Sources.Statuses.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil // never written, or deleted meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("report: sources: read %s: %w", key, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		s.log.Warn("sources: skipping a malformed status", slog.String("key", key), slog.Any("err", err))
		return false, nil
	}
	return true, nil
}

// sourcesAPI serves GET /api/v1/sources:
//
//	{"rest": [{"login": "octocat", "last_sync": "…", "next_sync": "…", "cursors": {"author": "…", …},
//	  "items": 3, "requests": 5, "not_modified": 4, "remaining": 4990, "reset": "…", "last_error": ""}, …],
//	 "gharchive": {"hours_done": 24, "last_hour": "2025-01-01T23:00:00Z"},
//	 "hydration": {"requests": 120, "pull_requests": 40, "commits": 300, "gone": 1, "counted": 150,
//	  "not_modified": 12, "watched": 9, "last_error": "", "last_at": "…"}}
//
// Without the cursor and status buckets it answers 503.
func (s *Server) sourcesAPI(w http.ResponseWriter, r *http.Request) {
	if s.opts.Sources.Cursors == nil || s.opts.Sources.Statuses == nil {
		s.writeJSON(w, r, http.StatusServiceUnavailable, apiError{Error: errNoSources.Error()})
		return
	}
	src, err := s.sources(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, src)
}

//go:embed web/assets/sources.html
var sourcesHTML string

// pageFuncs are the template functions of the sources, live and console pages.
var pageFuncs = template.FuncMap{
	"at": func(t time.Time) string { // a time to the minute, in UTC; "—" for none
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}

var sourcesTmpl = web.NewPage("sources", sourcesHTML, pageFuncs)

type sourcesView struct {
	Chrome web.Chrome
	Sources
	Failing int
}

// sourcesPage serves GET /sources: the state of the collection as a page, in the dashboard's
// style.
func (s *Server) sourcesPage(w http.ResponseWriter, r *http.Request) {
	v := sourcesView{Chrome: web.Chrome{Company: s.opts.Company, Title: "Sources", Active: "sources", Base: "./", Nav: s.nav(),
		Subtitle: "What ingest has collected, and when it collects next; the NATS streams' backlog · times in UTC"}}
	status := http.StatusOK
	if s.opts.Sources.Cursors == nil || s.opts.Sources.Statuses == nil {
		v.Chrome.Error, status = errNoSources.Error(), http.StatusServiceUnavailable
	} else if src, err := s.sources(r.Context()); err != nil {
		s.log.Error("sources page", slog.Any("err", err))
		v.Chrome.Error, status = "the cursor or status bucket did not answer; the server log has the detail", http.StatusInternalServerError
	} else {
		v.Sources = src
		for _, st := range src.REST {
			if st.LastError != "" {
				v.Failing++
			}
		}
	}
	if s.st != nil {
		if fr, err := freshness(r.Context(), s.st); err == nil {
			v.Chrome.Fresh = fr
		}
	}
	var buf bytes.Buffer
	if err := sourcesTmpl.Execute(&buf, v); err != nil {
		s.log.Error("sources page", slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.writePage(w, status, &buf, "sources page")
}
