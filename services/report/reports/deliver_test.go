package reports

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// mimePart is one leaf part of a parsed message.
type mimePart struct {
	ctype, cid, disposition string
	body                    []byte
}

// leaves parses a MIME entity into its leaf parts, decoding base64 and quoted-printable.
func leaves(t *testing.T, ctype string, body io.Reader, header map[string][]string) []mimePart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		t.Fatalf("content type %q: %v", ctype, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		get := func(k string) string {
			if v := header[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		if get("Content-Transfer-Encoding") == "base64" {
			if b, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(b))); err != nil {
				t.Fatalf("%s: base64: %v", mt, err)
			}
		}
		return []mimePart{{ctype: mt, cid: get("Content-Id"), disposition: get("Content-Disposition"), body: b}}
	}
	var out []mimePart
	r := multipart.NewReader(body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable itself
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", mt, err)
		}
		out = append(out, leaves(t, p.Header.Get("Content-Type"), p, p.Header)...)
	}
}

// The mail a real SMTP server receives holds the plain text, the HTML referencing its chart by
// Content-ID, the chart as a PNG with that Content-ID, the PDF and the CSV appendix.
func TestSMTPMessageParts(t *testing.T) {
	tg := newTargets(t)
	var b built
	p, _ := PeriodFor(PeriodPreviousMonth, due, time.UTC)
	rep, err := b.build(t)(context.Background(), monthly(nil), p, due, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep.Subject = "Giveback — octobre 2026"
	d := tg.deliveries()[0]
	if err := (Senders{}).Send(context.Background(), d, rep); err != nil {
		t.Fatal(err)
	}
	msgs := tg.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if got := strings.Join(msgs[0].To, " "); got != "cto@example.com ospo@example.com" || msgs[0].From != "reports@example.com" {
		t.Errorf("envelope from %q to %q", msgs[0].From, got)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil || subj != rep.Subject {
		t.Errorf("subject %q (%v)", subj, err)
	}
	if m.Header.Get("Cc") != "ospo@example.com" {
		t.Errorf("Cc %q", m.Header.Get("Cc"))
	}
	parts := leaves(t, m.Header.Get("Content-Type"), m.Body, nil)
	var types []string
	for _, p := range parts {
		types = append(types, p.ctype)
	}
	if want := []string{"text/plain", "text/html", "image/png", "application/pdf", "text/csv"}; !slices.Equal(types, want) {
		t.Fatalf("parts %v, want %v", types, want)
	}
	if string(parts[0].body) != "42 pull requests merged upstream\r\n" {
		t.Errorf("text part %q", parts[0].body)
	}
	if !strings.Contains(string(parts[1].body), `<img src="cid:trend-prs"`) || !strings.Contains(string(parts[1].body), "42 pull requests") {
		t.Errorf("html part %q", parts[1].body)
	}
	if parts[2].cid != "<trend-prs>" || !strings.HasPrefix(parts[2].disposition, "inline") {
		t.Errorf("image part Content-ID %q, disposition %q", parts[2].cid, parts[2].disposition)
	}
	if img, err := png.Decode(bytes.NewReader(parts[2].body)); err != nil || img.Bounds().Dx() != 4 {
		t.Errorf("image part is not the chart's PNG: %v", err)
	}
	if !bytes.Equal(parts[3].body, rep.PDF) || !strings.Contains(parts[3].disposition, `filename="giveback-monthly-2026-10.pdf"`) {
		t.Errorf("pdf part %q, %q", parts[3].body, parts[3].disposition)
	}
	if string(parts[4].body) != "section,metric,value\nheadline,upstream_prs_merged,42\n" {
		t.Errorf("csv part %q", parts[4].body)
	}
}

// refusingBackend is an SMTP server that refuses every recipient.
type refusingBackend struct{}

func (refusingBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return refusingSession{}, nil }

type refusingSession struct{}

func (refusingSession) Reset()                               { /* nothing kept */ }
func (refusingSession) Logout() error                        { return nil }
func (refusingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (refusingSession) Data(io.Reader) error                 { return nil }
func (refusingSession) Rcpt(string, *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
}

// faultyListener accepts connections and either holds them silent (a server that times out)
// or closes them at once (one that drops the connection).
func faultyListener(t *testing.T, hold bool) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if hold {
				held = append(held, c)
			} else {
				c.Close()
			}
		}
	}()
	a := ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// SMTP servers that refuse, time out or drop the connection, and a Slack that answers 500, are
// retried with backoff and recorded attempt by attempt in the archive, and marked failed; a
// Teams that fails once succeeds on its retry; the other targets receive the report. The
// overdue report is flagged and its owner told once.
func TestFailingDeliveriesAreRetriedAndRecorded(t *testing.T) {
	srv, _, js := testkit.NATS(t)
	st := testkit.Store(t)
	tg := newTargets(t)
	tg.slackFail.Store(1000)
	tg.teamsFail.Store(1)
	refusing := smtp.NewServer(refusingBackend{})
	refusing.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go refusing.Serve(ln)
	t.Cleanup(func() { refusing.Close() })
	refHost, refPort := ln.Addr().(*net.TCPAddr).IP.String(), ln.Addr().(*net.TCPAddr).Port
	toHost, toPort := faultyListener(t, true)
	dropHost, dropPort := faultyListener(t, false)
	ds := tg.deliveries()
	smtpDelivery := func(name, host string, port int) Delivery {
		d := ds[0]
		d.Name, d.Host, d.Port = name, host, port
		return d
	}
	ds = append(ds, smtpDelivery("smtp-refusing", refHost, refPort), smtpDelivery("smtp-timeout", toHost, toPort), smtpDelivery("smtp-drop", dropHost, dropPort))
	def := monthly(ds)
	var b built
	reg := prometheus.NewRegistry()
	s := replica(t, srv, "r1", []Definition{def}, b.build(t), func(o *ServiceOptions) {
		o.Now = func() time.Time { return due.Add(7 * time.Hour) } // read by Statuses and the age metric
		o.Store = st
		o.Registry = reg
		o.Senders.SMTP.Timeout = 300 * time.Millisecond
	})
	if err := s.Tick(context.Background(), due); err != nil {
		t.Fatal(err)
	}
	tg.check(t)
	if got := tg.counts(); got != "smtp=1 slack=0 teams=1 webhook=1 directory=1" {
		t.Fatalf("deliveries: %s", got)
	}
	run, err := s.Archive().Get(context.Background(), "monthly", "2026-10")
	if err != nil || run == nil {
		t.Fatalf("archived run: %v, %v", run, err)
	}
	if run.Trigger != TriggerSchedule || run.Late || run.Hash != "9c1e" || !bytes.Equal(run.PDF, []byte("%PDF-1.4\n% a4\n%%EOF\n")) ||
		!strings.Contains(string(run.WebHTML), "42 pull requests") || run.TimeZone != "Europe/Berlin" || run.Replica != "r1" {
		t.Errorf("archived run %+v", run)
	}
	outcomes := map[string][]string{}
	for _, a := range run.Attempts {
		o := a.Outcome
		if a.Error != "" {
			o += ": " + a.Error
		}
		outcomes[a.Delivery] = append(outcomes[a.Delivery], o)
	}
	for name, want := range map[string][]string{
		"smtp": {"sent"}, "webhook": {"sent"}, "directory": {"sent"},
		"teams":         {"failed: reports: post: 500 Internal Server Error: server error", "sent"},
		"slack":         {"failed: reports: post: 500 Internal Server Error: internal_error", "failed: reports: post: 500 Internal Server Error: internal_error", "failed: reports: post: 500 Internal Server Error: internal_error"},
		"smtp-refusing": {"RCPT TO cto@example.com: 550", "550", "mailbox unavailable"},
		"smtp-timeout":  {"greeting", "greeting", "greeting"},
		"smtp-drop":     {"greeting", "greeting", "greeting"},
	} {
		got := outcomes[name]
		if len(got) != len(want) {
			t.Errorf("%s: attempts %q, want %d", name, got, len(want))
			continue
		}
		for i := range want {
			if !strings.Contains(got[i], want[i]) {
				t.Errorf("%s attempt %d: %q, want it to contain %q", name, i+1, got[i], want[i])
			}
		}
	}
	kv, err := OpenClaims(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	for name, state := range map[string]string{"smtp": events.ClaimDone, "teams": events.ClaimDone, "slack": events.ClaimFailed, "smtp-drop": events.ClaimFailed} {
		if c := claimState(t, kv, "monthly", "2026-10", name); c.State != state {
			t.Errorf("claim of %s: %+v, want %s", name, c, state)
		}
	}
	if got := testutil.ToFloat64(s.deliveries.WithLabelValues("monthly", "slack", OutcomeFailed)); got != 3 {
		t.Errorf("failed slack attempts counted: %v", got)
	}
	if got := testutil.ToFloat64(s.generated.WithLabelValues("monthly")); got != 1 {
		t.Errorf("reports generated: %v", got)
	}

	// Within the grace period the report is not overdue; after it, it is, and the owner is
	// told once, whichever replica ticks.
	if err := s.Tick(context.Background(), due.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s.Overdue("monthly") || len(tg.smtp.Messages()) != 1 {
		t.Fatalf("overdue within the grace period: %v, %d mails", s.Overdue("monthly"), len(tg.smtp.Messages()))
	}
	other := replica(t, srv, "r2", []Definition{def}, b.build(t), func(o *ServiceOptions) { o.Store = st })
	for _, r := range []*Service{s, other, s} {
		if err := r.Tick(context.Background(), due.Add(7*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if !s.Overdue("monthly") || testutil.ToFloat64(s.overdue.WithLabelValues("monthly")) != 1 {
		t.Errorf("not flagged overdue after the grace period")
	}
	msgs := tg.smtp.Messages()
	if len(msgs) != 2 || msgs[1].To[0] != "ospo-lead@example.com" || !bytes.Contains(msgs[1].Data, []byte("slack (slack): failed after 3 attempts")) {
		t.Fatalf("overdue notices: %d mails; last %s", len(msgs), msgs[len(msgs)-1].Data)
	}
	sts, err := s.Statuses(context.Background())
	if err != nil || len(sts) != 1 || !sts[0].Overdue || sts[0].Period != "2026-10" {
		t.Fatalf("statuses %+v, %v", sts, err)
	}
	if n, err := testutil.GatherAndCount(reg, "giveback_report_last_success_age_seconds"); err != nil || n != 1 {
		t.Errorf("last success age: %d series, %v", n, err)
	}
}

// The directory delivery writes every format of the report under <name>/<period>.
func TestDirectoryDelivery(t *testing.T) {
	var b built
	p, _ := PeriodFor("trailing_7d", due, time.UTC)
	rep, err := b.build(t)(context.Background(), monthly(nil), p, due, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := (Senders{}).Send(context.Background(), Delivery{Kind: "directory", Name: "directory", Path: dir}, rep); err != nil {
		t.Fatal(err)
	}
	got, _ := filepath.Glob(filepath.Join(dir, "monthly", "2026-10-25..2026-10-31", "*"))
	var names []string
	for _, g := range got {
		names = append(names, filepath.Base(g))
	}
	if want := []string{"numbers.json", "report-letter.pdf", "report.csv", "report.html", "report.md", "report.pdf", "report.txt"}; !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "monthly", "2026-10-25..2026-10-31", "report.md")); !bytes.Contains(b, []byte("42 pull requests")) {
		t.Errorf("report.md: %q", b)
	}
}
