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
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The state of the collection, read from ingest's cursor bucket, where ingest writes it: the
// REST sync's status per login under status.rest.<login> (githubsync.LoginStatus as JSON) and
// a key gharchive.hour.<YYYY-MM-DD-H> per GH Archive hour backfilled. Report never talks to
// ingest itself.
const (
	keyRESTStatus = "status.rest."
	keyArchive    = "gharchive.hour."
	keyHydration  = "status.hydrate" // githubsync.HydrationStatusKey
)

// RESTStatus is the state of the REST sync of one login, as ingest stored it.
type RESTStatus struct {
	Login       string               `json:"login"`
	LastSync    time.Time            `json:"last_sync"`
	NextSync    time.Time            `json:"next_sync,omitzero"`
	Cursors     map[string]time.Time `json:"cursors,omitempty"`
	Items       int                  `json:"items"`
	Requests    int                  `json:"requests"`
	NotModified int                  `json:"not_modified"`
	Remaining   int                  `json:"remaining"`
	Reset       time.Time            `json:"reset,omitzero"`
	LastError   string               `json:"last_error"`
}

// ArchiveStatus is the state of the GH Archive backfill.
type ArchiveStatus struct {
	HoursDone int    `json:"hours_done"`
	LastHour  string `json:"last_hour"` // the latest hour backfilled, 2025-01-01T15:00:00Z; empty when none
}

// HydrationStatus is what the hydration of trimmed GH Archive events did since ingest started.
type HydrationStatus struct {
	Requests     int       `json:"requests"`
	PullRequests int       `json:"pull_requests"`
	Commits      int       `json:"commits"`
	Gone         int       `json:"gone"`
	Counted      int       `json:"counted"`
	NotModified  int       `json:"not_modified"`
	Watched      int       `json:"watched"`
	LastError    string    `json:"last_error"`
	LastAt       time.Time `json:"last_at,omitzero"`
}

// Sources is the answer of GET /api/v1/sources.
type Sources struct {
	REST      []RESTStatus  `json:"rest"`
	GHArchive ArchiveStatus `json:"gharchive"`
	// Hydration is absent until ingest hydrated something.
	Hydration *HydrationStatus `json:"hydration,omitempty"`
}

// errNoSources answers /sources when the server has no cursor bucket.
var errNoSources = errors.New("the collection state is not available: the report service was started without ingest's cursor bucket")

// sources reads the state of the collection from the bucket. A malformed status is skipped and
// logged.
func (s *Server) sources(ctx context.Context) (Sources, error) {
	out := Sources{REST: []RESTStatus{}}
	lister, err := s.opts.Sources.ListKeysFiltered(ctx, keyRESTStatus+">", keyArchive+">", keyHydration)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("report: sources: list keys: %w", err)
	}
	defer func() {
		// Once every key was read the lister has already unsubscribed, and Stop says so.
		if err := lister.Stop(); err != nil && !errors.Is(err, nats.ErrBadSubscription) {
			s.log.Warn("sources: stop key lister", slog.Any("err", err))
		}
	}()
	var last time.Time
	for key := range lister.Keys() {
		switch {
		case strings.HasPrefix(key, keyArchive):
			h, err := parseArchiveHour(strings.TrimPrefix(key, keyArchive))
			if err != nil {
				s.log.Warn("sources: skipping a malformed hour key", slog.String("key", key), slog.Any("err", err))
				continue
			}
			out.GHArchive.HoursDone++
			if h.After(last) {
				last = h
			}
		case strings.HasPrefix(key, keyRESTStatus):
			var st RESTStatus
			if ok, err := s.readStatus(ctx, key, &st); err != nil {
				return out, err
			} else if ok {
				out.REST = append(out.REST, st)
			}
		case key == keyHydration:
			var h HydrationStatus
			if ok, err := s.readStatus(ctx, key, &h); err != nil {
				return out, err
			} else if ok {
				out.Hydration = &h
			}
		}
	}
	if !last.IsZero() {
		out.GHArchive.LastHour = last.Format(time.RFC3339)
	}
	sort.Slice(out.REST, func(i, j int) bool { return out.REST[i].Login < out.REST[j].Login })
	return out, nil
}

// readStatus decodes the JSON status under key into v. It reports false, and logs, when the key
// was deleted meanwhile or its value is malformed; an error means the bucket did not answer.
func (s *Server) readStatus(ctx context.Context, key string, v any) (bool, error) {
	e, err := s.opts.Sources.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil // deleted meanwhile
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

// parseArchiveHour reads GH Archive's hour name, 2025-01-01-5.
func parseArchiveHour(s string) (time.Time, error) {
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

// sourcesAPI serves GET /api/v1/sources:
//
//	{"rest": [{"login": "octocat", "last_sync": "…", "next_sync": "…", "cursors": {"author": "…", …},
//	  "items": 3, "requests": 5, "not_modified": 4, "remaining": 4990, "reset": "…", "last_error": ""}, …],
//	 "gharchive": {"hours_done": 24, "last_hour": "2025-01-01T23:00:00Z"},
//	 "hydration": {"requests": 120, "pull_requests": 40, "commits": 300, "gone": 1, "counted": 150,
//	  "not_modified": 12, "watched": 9, "last_error": "", "last_at": "…"}}
//
// Without the cursor bucket it answers 503.
func (s *Server) sourcesAPI(w http.ResponseWriter, r *http.Request) {
	if s.opts.Sources == nil {
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

//go:embed web/assets/style.css
var sourcesCSS string

var sourcesTmpl = template.Must(template.New("sources").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}).Parse(sourcesHTML))

type sourcesView struct {
	Company string
	CSS     template.CSS
	Error   string
	Sources
	Failing int
}

// sourcesPage serves GET /sources: the state of the collection as a page, in the dashboard's
// style.
func (s *Server) sourcesPage(w http.ResponseWriter, r *http.Request) {
	v := sourcesView{Company: s.opts.Company, CSS: template.CSS(sourcesCSS)} // #nosec G203 -- our own stylesheet
	status := http.StatusOK
	if s.opts.Sources == nil {
		v.Error, status = errNoSources.Error(), http.StatusServiceUnavailable
	} else if src, err := s.sources(r.Context()); err != nil {
		s.log.Error("sources page", slog.Any("err", err))
		v.Error, status = "the cursor bucket did not answer; the server log has the detail", http.StatusInternalServerError
	} else {
		v.Sources = src
		for _, st := range src.REST {
			if st.LastError != "" {
				v.Failing++
			}
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
