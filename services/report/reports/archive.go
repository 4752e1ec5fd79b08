package reports

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"giveback.dev/platform/store"
)

// Archive keeps every generated report and every delivery attempt in ClickHouse for good
// (tables report_runs and report_deliveries, migration 0012).
type Archive struct {
	st *store.Store
}

// NewArchive returns the archive kept in st.
func NewArchive(st *store.Store) *Archive { return &Archive{st: st} }

// Run is one archived report: how and when it was generated, and its formats.
type Run struct {
	Name        string          `json:"name"`
	Period      string          `json:"period"`
	PeriodFrom  time.Time       `json:"period_from"`
	PeriodTo    time.Time       `json:"period_to"`
	TimeZone    string          `json:"time_zone"`
	Title       string          `json:"title"`
	Subject     string          `json:"subject"`
	Due         time.Time       `json:"due"`
	GeneratedAt time.Time       `json:"generated_at"`
	Late        bool            `json:"late"`
	Trigger     string          `json:"trigger"` // schedule, catch-up, manual
	Replica     string          `json:"replica"`
	Hash        string          `json:"hash"`
	Metrics     string          `json:"metrics_version"`
	Empty       bool            `json:"empty"`
	Numbers     json.RawMessage `json:"numbers,omitempty"`
	Summary     string          `json:"summary,omitempty"`
	HTML        []byte          `json:"-"`
	WebHTML     []byte          `json:"-"`
	Text        []byte          `json:"-"`
	Markdown    []byte          `json:"-"`
	CSV         []byte          `json:"-"`
	PDF         []byte          `json:"-"`
	PDFLetter   []byte          `json:"-"`
	Attempts    []Attempt       `json:"attempts,omitempty"`
}

// Attempt is one delivery attempt.
type Attempt struct {
	Name     string    `json:"-"`
	Period   string    `json:"-"`
	Delivery string    `json:"delivery"`
	Kind     string    `json:"kind"`
	Attempt  int       `json:"attempt"`
	At       time.Time `json:"at"`
	Outcome  string    `json:"outcome"` // sent, failed
	Error    string    `json:"error,omitempty"`
	Took     int64     `json:"took_ms"`
	Replica  string    `json:"replica"`
}

// The outcomes of an Attempt.
const (
	OutcomeSent   = "sent"
	OutcomeFailed = "failed"
)

const tsLayout = "2006-01-02 15:04:05.000"

// row builds one TabSeparated row.
type row struct{ b strings.Builder }

func (r *row) str(s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			r.b.WriteString(`\\`)
		case '\t':
			r.b.WriteString(`\t`)
		case '\n':
			r.b.WriteString(`\n`)
		case '\r':
			r.b.WriteString(`\r`)
		case 0:
			r.b.WriteString(`\0`)
		default:
			r.b.WriteByte(c)
		}
	}
	r.b.WriteByte('\t')
}

func (r *row) time(t time.Time) { r.str(t.UTC().Format(tsLayout)) }

func (r *row) int(n int64) { r.str(strconv.FormatInt(n, 10)) }

func (r *row) bool(v bool) {
	if v {
		r.str("1")
	} else {
		r.str("0")
	}
}

func (r *row) String() string { return strings.TrimSuffix(r.b.String(), "\t") + "\n" }

const runColumns = "name, period, period_from, period_to, time_zone, title, subject, due_at, generated_at, late, trigger, replica, " +
	"hash, metrics_version, empty, numbers, summary, html, web_html, text, markdown, csv, pdf_a4, pdf_letter"

// RecordRun archives a generated report.
func (a *Archive) RecordRun(ctx context.Context, r Run) error {
	var w row
	w.str(r.Name)
	w.str(r.Period)
	w.time(r.PeriodFrom)
	w.time(r.PeriodTo)
	w.str(r.TimeZone)
	w.str(r.Title)
	w.str(r.Subject)
	w.time(r.Due)
	w.time(r.GeneratedAt)
	w.bool(r.Late)
	w.str(r.Trigger)
	w.str(r.Replica)
	w.str(r.Hash)
	w.str(r.Metrics)
	w.bool(r.Empty)
	w.str(string(r.Numbers))
	w.str(r.Summary)
	w.str(string(r.HTML))
	w.str(string(r.WebHTML))
	w.str(string(r.Text))
	w.str(string(r.Markdown))
	w.str(string(r.CSV))
	w.str(base64.StdEncoding.EncodeToString(r.PDF))
	w.str(base64.StdEncoding.EncodeToString(r.PDFLetter))
	q := "INSERT INTO report_runs (" + runColumns + ") FORMAT TabSeparated\n" + w.String()
	if err := a.st.Conn().Exec(ctx, q); err != nil {
		return fmt.Errorf("reports: archive %s %s: %w", r.Name, r.Period, err)
	}
	return nil
}

// RecordAttempt archives one delivery attempt.
func (a *Archive) RecordAttempt(ctx context.Context, at Attempt) error {
	var w row
	w.str(at.Name)
	w.str(at.Period)
	w.str(at.Delivery)
	w.str(at.Kind)
	w.int(int64(at.Attempt))
	w.time(at.At)
	w.str(at.Outcome)
	w.str(at.Error)
	w.int(max(at.Took, 0))
	w.str(at.Replica)
	q := "INSERT INTO report_deliveries (name, period, delivery, kind, attempt, at, outcome, error, took_ms, replica) FORMAT TabSeparated\n" + w.String()
	if err := a.st.Conn().Exec(ctx, q); err != nil {
		return fmt.Errorf("reports: archive attempt %s %s %s: %w", at.Name, at.Period, at.Delivery, err)
	}
	return nil
}

// Runs lists the newest archived run of every period of a report (every report when name is
// ""), newest period first, without the rendered formats; limit bounds the list.
func (a *Archive) Runs(ctx context.Context, name string, limit int) ([]Run, error) {
	where := ""
	if name != "" {
		where = "WHERE name = " + store.Quote(name)
	}
	res, err := a.st.Query(ctx, `SELECT name, period, argMax(period_from, generated_at), argMax(period_to, generated_at),
		argMax(time_zone, generated_at), argMax(title, generated_at), argMax(subject, generated_at), argMax(due_at, generated_at),
		max(generated_at), argMax(late, generated_at), argMax(trigger, generated_at), argMax(replica, generated_at),
		argMax(hash, generated_at), argMax(metrics_version, generated_at), argMax(empty, generated_at), argMax(summary, generated_at)
		FROM report_runs `+where+` GROUP BY name, period ORDER BY max(period_to) DESC, name LIMIT `+strconv.Itoa(max(limit, 1)), nil)
	if err != nil {
		return nil, fmt.Errorf("reports: archive: %w", err)
	}
	out := make([]Run, 0, len(res.Rows))
	for _, v := range res.Rows {
		out = append(out, Run{
			Name: store.AsString(v[0]), Period: store.AsString(v[1]), PeriodFrom: parseTS(v[2]), PeriodTo: parseTS(v[3]),
			TimeZone: store.AsString(v[4]), Title: store.AsString(v[5]), Subject: store.AsString(v[6]), Due: parseTS(v[7]),
			GeneratedAt: parseTS(v[8]), Late: store.AsInt(v[9]) == 1, Trigger: store.AsString(v[10]), Replica: store.AsString(v[11]),
			Hash: store.AsString(v[12]), Metrics: store.AsString(v[13]), Empty: store.AsInt(v[14]) == 1, Summary: store.AsString(v[15]),
		})
	}
	return out, nil
}

// Get returns the newest archived run of a report's period with its formats and every
// delivery attempt; nil when there is none.
func (a *Archive) Get(ctx context.Context, name, period string) (*Run, error) {
	res, err := a.st.Query(ctx, "SELECT "+runColumns+" FROM report_runs WHERE name = "+store.Quote(name)+
		" AND period = "+store.Quote(period)+" ORDER BY generated_at DESC LIMIT 1", nil)
	if err != nil {
		return nil, fmt.Errorf("reports: archive: %w", err)
	}
	if len(res.Rows) == 0 {
		return nil, nil
	}
	v := res.Rows[0]
	s := func(i int) string { return store.AsString(v[i]) }
	r := &Run{
		Name: s(0), Period: s(1), PeriodFrom: parseTS(v[2]), PeriodTo: parseTS(v[3]), TimeZone: s(4), Title: s(5), Subject: s(6),
		Due: parseTS(v[7]), GeneratedAt: parseTS(v[8]), Late: store.AsInt(v[9]) == 1, Trigger: s(10), Replica: s(11), Hash: s(12),
		Metrics: s(13), Empty: store.AsInt(v[14]) == 1, Summary: s(16), HTML: []byte(s(17)), WebHTML: []byte(s(18)),
		Text: []byte(s(19)), Markdown: []byte(s(20)), CSV: []byte(s(21)),
	}
	if json.Valid([]byte(s(15))) {
		r.Numbers = json.RawMessage(s(15))
	}
	if r.PDF, err = base64.StdEncoding.DecodeString(s(22)); err != nil {
		return nil, fmt.Errorf("reports: archive: pdf: %w", err)
	}
	if r.PDFLetter, err = base64.StdEncoding.DecodeString(s(23)); err != nil {
		return nil, fmt.Errorf("reports: archive: pdf: %w", err)
	}
	if r.Attempts, err = a.Attempts(ctx, name, period); err != nil {
		return nil, err
	}
	return r, nil
}

// Attempts lists the delivery attempts of a report's period, oldest first.
func (a *Archive) Attempts(ctx context.Context, name, period string) ([]Attempt, error) {
	res, err := a.st.Query(ctx, "SELECT delivery, kind, attempt, at, outcome, error, took_ms, replica FROM report_deliveries WHERE name = "+
		store.Quote(name)+" AND period = "+store.Quote(period)+" ORDER BY at, delivery", nil)
	if err != nil {
		return nil, fmt.Errorf("reports: archive: %w", err)
	}
	out := make([]Attempt, 0, len(res.Rows))
	for _, v := range res.Rows {
		out = append(out, Attempt{Name: name, Period: period, Delivery: store.AsString(v[0]), Kind: store.AsString(v[1]),
			Attempt: int(store.AsInt(v[2])), At: parseTS(v[3]), Outcome: store.AsString(v[4]), Error: store.AsString(v[5]),
			Took: store.AsInt(v[6]), Replica: store.AsString(v[7])})
	}
	return out, nil
}

// parseTS reads a DateTime64 as ClickHouse prints it, in UTC; zero when it cannot.
func parseTS(v any) time.Time {
	s := store.AsString(v)
	for _, layout := range []string{tsLayout, "2006-01-02 15:04:05", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}
