package gharchive

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// klauspost/compress/gzip is a drop-in for compress/gzip whose inflate is faster on GH
	// Archive dumps (BenchmarkGunzip measures both); it is already in the build through
	// nats-server and clickhouse-go, so it costs no new dependency.
	"github.com/klauspost/compress/gzip"

	"giveback.dev/platform/events"
)

// ErrMissing is returned for an hour whose dump does not exist (a 404, or no file).
var ErrMissing = errors.New("hour dump not found")

// Reader reads GH Archive hours and emits one events.Raw per event line.
type Reader struct {
	// Source is a directory holding the dumps or an http(s) base URL such as
	// https://data.gharchive.org/.
	Source string
	// Parallel is how many hours are read at once (default 1).
	Parallel int
	// Filter, when set, keeps only the lines it accepts (see LoginFilter); the others are
	// counted in Stats.Filtered without being parsed.
	Filter func(line []byte) bool
	// Done, when set, reports hours already finished; they are skipped.
	Done func(ctx context.Context, hour time.Time) bool
	// Watch, when set, names the repositories (owner/name, any case) whose every event is
	// counted, before Filter drops a line, per day, repository, actor and event type.
	Watch map[string]bool
	// Totals, when set with Watch, receives the counts of an hour after its last event was
	// emitted and before Finished; rows may be empty. Its error stops the read, as an emit
	// error does.
	Totals func(ctx context.Context, hour time.Time, rows []events.ActivityRow) error
	// Finished, when set, is called after every event of an hour was emitted without error.
	// Its error stops the read, as an emit error does.
	Finished func(ctx context.Context, hour time.Time) error
	// HTTPClient fetches from an http(s) Source (default http.DefaultClient).
	HTTPClient *http.Client
	// ProgressEvery is how often progress is reported while hours are read (default 2s);
	// progress is also reported after each hour.
	ProgressEvery time.Duration
	// MaxLineBytes bounds one event line (default 64 MiB); a longer line is malformed.
	MaxLineBytes int
	Log          *slog.Logger
	// now is the clock for FetchedAt; tests set it.
	now func() time.Time
}

// Stats counts what a Read did.
type Stats struct {
	Hours        int   // hours asked for
	SkippedHours int   // already done (Reader.Done)
	MissingHours int   // no dump for the hour
	FailedHours  int   // dump unreadable or truncated
	Lines        int64 // lines read
	Filtered     int64 // lines the filter dropped
	Malformed    int64 // lines kept by the filter that were not events
	Events       int64 // events emitted
	Bytes        int64 // uncompressed bytes read
}

func (s *Stats) add(o Stats) {
	s.SkippedHours += o.SkippedHours
	s.MissingHours += o.MissingHours
	s.FailedHours += o.FailedHours
	s.Lines += o.Lines
	s.Filtered += o.Filtered
	s.Malformed += o.Malformed
	s.Events += o.Events
	s.Bytes += o.Bytes
}

// Progress is a snapshot of a Read under way.
type Progress struct {
	HoursDone    int // finished, skipped, missing or failed
	HoursTotal   int
	Events       int64
	Lines        int64
	Bytes        int64
	Elapsed      time.Duration
	EventsPerSec float64
}

// emitError marks a failure of emit or Finished: the bus is in trouble, so the read stops.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }
func (e emitError) Unwrap() error { return e.err }

// defaultMaxLine bounds an event line when Reader.MaxLineBytes is not set.
const defaultMaxLine = 64 << 20

// maxLoggedMalformed bounds the malformed lines logged one by one per hour.
const maxLoggedMalformed = 20

// Read reads the hours, Parallel at a time, and calls emit for every event kept. A missing hour
// is logged and counted; an unreadable or truncated one is counted and its error, naming the
// file, is joined into the error returned once every other hour was read (the events it
// emitted before the failure stay emitted; a re-run repeats them and JetStream drops the
// repeats). An error from emit or Finished, or ctx ending, stops the read and is returned. emit
// may be called from several goroutines at once; progress is called from one at a time.
func (r *Reader) Read(ctx context.Context, hours []time.Time, emit func(context.Context, *events.Raw) error, progress func(Progress)) (Stats, error) {
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With(slog.String("component", "gharchive"))
	parallel := max(r.Parallel, 1)
	total := Stats{Hours: len(hours)}
	start := time.Now()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watch := make(map[string]struct{}, len(r.Watch))
	for repo, ok := range r.Watch {
		if ok {
			watch[strings.ToLower(strings.TrimSpace(repo))] = struct{}{}
		}
	}

	var (
		mu        sync.Mutex // guards total, hourErrs, hoursDone and progress calls
		hourErrs  []error
		hoursDone int
		live      liveCounts
	)
	report := func() {
		if progress == nil {
			return
		}
		el := time.Since(start)
		p := Progress{HoursDone: hoursDone, HoursTotal: len(hours), Events: live.events.Load(),
			Lines: live.lines.Load(), Bytes: live.bytes.Load(), Elapsed: el}
		if el > 0 {
			p.EventsPerSec = float64(p.Events) / el.Seconds()
		}
		progress(p)
	}

	work := make(chan time.Time)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for h := range work {
				st, err := r.readHour(ctx, h, emit, &live, watch, log)
				mu.Lock()
				total.add(st)
				hoursDone++
				var ee emitError
				switch {
				case err == nil:
				case errors.As(err, &ee):
					cancel(ee.err)
				case ctx.Err() != nil:
				case errors.Is(err, ErrMissing):
					total.MissingHours++
					log.Warn("hour missing", slog.String("hour", HourKey(h)), slog.Any("err", err))
				default:
					total.FailedHours++
					hourErrs = append(hourErrs, err)
					log.Error("hour failed", slog.String("hour", HourKey(h)), slog.Any("err", err))
				}
				report()
				mu.Unlock()
			}
		})
	}

	tickerDone := make(chan struct{})
	var tickerWG sync.WaitGroup
	tickerWG.Go(func() {
		every := r.ProgressEvery
		if every <= 0 {
			every = 2 * time.Second
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-tickerDone:
				return
			case <-t.C:
				mu.Lock()
				report()
				mu.Unlock()
			}
		}
	})

feed:
	for _, h := range hours {
		if r.Done != nil && r.Done(ctx, h) {
			mu.Lock()
			total.SkippedHours++
			hoursDone++
			mu.Unlock()
			log.Debug("hour already done", slog.String("hour", HourKey(h)))
			continue
		}
		select {
		case work <- h:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(tickerDone)
	tickerWG.Wait()

	if err := context.Cause(ctx); err != nil {
		return total, fmt.Errorf("gharchive: %w", err)
	}
	return total, errors.Join(hourErrs...)
}

// liveCounts feed progress while hours are still being read.
type liveCounts struct {
	events, lines, bytes atomic.Int64
}

// open returns the dump of the hour and its name; the error wraps ErrMissing when there is none.
func (r *Reader) open(ctx context.Context, h time.Time) (io.ReadCloser, string, error) {
	name := FileName(h)
	if strings.HasPrefix(r.Source, "http://") || strings.HasPrefix(r.Source, "https://") {
		u, err := url.JoinPath(r.Source, name)
		if err != nil {
			return nil, name, fmt.Errorf("gharchive: url for %s: %w", name, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, name, fmt.Errorf("gharchive: request %s: %w", u, err)
		}
		client := r.HTTPClient
		if client == nil {
			client = http.DefaultClient
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, name, fmt.Errorf("gharchive: get %s: %w", u, err)
		}
		switch {
		case resp.StatusCode == http.StatusNotFound:
			resp.Body.Close()
			return nil, name, fmt.Errorf("gharchive: get %s: %w", u, ErrMissing)
		case resp.StatusCode != http.StatusOK:
			resp.Body.Close()
			return nil, name, fmt.Errorf("gharchive: get %s: %s", u, resp.Status)
		}
		return resp.Body, name, nil
	}
	for _, n := range []string{name, paddedName(h)} {
		f, err := os.Open(filepath.Join(r.Source, n))
		if err == nil {
			return f, n, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, n, fmt.Errorf("gharchive: %w", err)
		}
	}
	return nil, name, fmt.Errorf("gharchive: %s in %s: %w", name, r.Source, ErrMissing)
}

// readHour reads one hour. Its stats never count the hour itself; Read does.
func (r *Reader) readHour(ctx context.Context, h time.Time, emit func(context.Context, *events.Raw) error, live *liveCounts, watch map[string]struct{}, log *slog.Logger) (Stats, error) {
	var st Stats
	tot := newTotals(watch)
	body, name, err := r.open(ctx, h)
	if err != nil {
		return st, err
	}
	defer body.Close()
	gz, err := gzip.NewReader(body)
	if err != nil {
		return st, fmt.Errorf("gharchive: %s: gzip: %w", name, err)
	}
	defer gz.Close()

	now := r.now
	if now == nil {
		now = time.Now
	}
	maxLine := r.MaxLineBytes
	if maxLine <= 0 {
		maxLine = defaultMaxLine
	}
	br := bufio.NewReaderSize(gz, 1<<20)
	var (
		long     []byte // a line longer than br's buffer, gathered piece by piece
		oversize bool   // the current line passed maxLine and is being dropped
		lineNo   int64
	)
	for {
		chunk, rerr := br.ReadSlice('\n')
		if errors.Is(rerr, bufio.ErrBufferFull) {
			if !oversize {
				long = append(long, chunk...)
				if len(long) > maxLine {
					oversize, long = true, nil
				}
			}
			st.Bytes += int64(len(chunk))
			live.bytes.Add(int64(len(chunk)))
			continue
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return st, fmt.Errorf("gharchive: %s: line %d: %w", name, lineNo+1, rerr)
		}
		st.Bytes += int64(len(chunk))
		live.bytes.Add(int64(len(chunk)))
		line := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			line = long
		}
		if len(line) > 0 || oversize {
			if lineNo%1024 == 0 && ctx.Err() != nil {
				return st, context.Cause(ctx)
			}
			lineNo++
			st.Lines++
			live.lines.Add(1)
			before := st.Events
			if err := r.handleLine(ctx, line, oversize, name, lineNo, now, emit, tot, &st, log); err != nil {
				return st, err
			}
			live.events.Add(st.Events - before)
		}
		long, oversize = long[:0], false
		if rerr != nil { // io.EOF
			break
		}
	}
	if st.Malformed > maxLoggedMalformed {
		log.Warn("malformed lines", slog.String("file", name), slog.Int64("count", st.Malformed))
	}
	if ctx.Err() != nil {
		return st, context.Cause(ctx)
	}
	if tot != nil && r.Totals != nil {
		if err := r.Totals(ctx, h, tot.rows(h.UTC().Format(time.DateOnly))); err != nil {
			return st, emitError{fmt.Errorf("%s: hour totals: %w", name, err)}
		}
	}
	if r.Finished != nil {
		if err := r.Finished(ctx, h); err != nil {
			return st, emitError{fmt.Errorf("%s: finish hour: %w", name, err)}
		}
	}
	return st, nil
}

// handleLine filters, parses and emits one line. Only an emit error is returned.
func (r *Reader) handleLine(ctx context.Context, line []byte, oversize bool, name string, lineNo int64,
	now func() time.Time, emit func(context.Context, *events.Raw) error, tot *totals, st *Stats, log *slog.Logger) error {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) == 0 && !oversize {
		return nil
	}
	if tot != nil && !oversize {
		tot.count(line)
	}
	if r.Filter != nil && !oversize && !r.Filter(line) {
		st.Filtered++
		return nil
	}
	var id, kind string
	var err error
	if oversize {
		err = fmt.Errorf("%w: line longer than the %d bytes allowed", ErrMalformed, cmp.Or(r.MaxLineBytes, defaultMaxLine))
	} else {
		id, kind, err = ParseLine(line)
	}
	if err != nil {
		st.Malformed++
		if st.Malformed <= maxLoggedMalformed {
			log.Warn("malformed line skipped", slog.String("file", name), slog.Int64("line", lineNo), slog.Any("err", err))
		}
		return nil
	}
	raw := &events.Raw{
		Schema:    events.SchemaRaw,
		Source:    events.SourceGHArchive,
		Kind:      kind,
		ID:        id,
		FetchedAt: now().UTC(),
		Origin:    fmt.Sprintf("%s:%d", name, lineNo),
		Payload:   bytes.Clone(line),
	}
	if err := emit(ctx, raw); err != nil {
		return emitError{fmt.Errorf("%s:%d: emit %s: %w", name, lineNo, id, err)}
	}
	st.Events++
	return nil
}
