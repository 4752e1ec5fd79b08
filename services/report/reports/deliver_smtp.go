package reports

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SMTPClient sends mail over SMTP with the standard library's client: STARTTLS (required when
// the delivery says starttls), implicit TLS, or plain text to a server on a loopback address.
type SMTPClient struct {
	// RootCAs verifies the server's certificate; nil uses the system's roots.
	RootCAs *x509.CertPool
	// Timeout bounds one attempt, from the dial to QUIT; 0 means 30 s.
	Timeout time.Duration
	// Now stamps the Date header; nil means time.Now.
	Now func() time.Time
}

// Send mails rep to d's recipients.
func (c SMTPClient) Send(ctx context.Context, d Delivery, rep *Report) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	msg, err := Message(d.From, d.To, d.Cc, rep, now())
	if err != nil {
		return err
	}
	return c.send(ctx, d, append(append([]string{}, d.To...), d.Cc...), msg)
}

// send runs one SMTP transaction.
func (c SMTPClient) send(ctx context.Context, d Delivery, rcpt []string, msg []byte) (err error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	tlsConf := &tls.Config{ServerName: d.Host, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}
	var conn net.Conn
	if d.TLS == "implicit" {
		conn, err = (&tls.Dialer{Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	// The context also ends the transaction when the service stops.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	cl, err := smtp.NewClient(conn, d.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: greeting: %w", addr, err)
	}
	defer cl.Close()
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("smtp %s: %s: %w", addr, what, err)
		}
		return nil
	}
	if err := step("EHLO", cl.Hello("giveback")); err != nil {
		return err
	}
	if d.TLS == "" || d.TLS == "starttls" {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp %s: the server offers no STARTTLS; set tls: implicit, or tls: none for a server on this host", addr)
		}
		if err := step("STARTTLS", cl.StartTLS(tlsConf)); err != nil {
			return err
		}
	}
	if d.Username != "" {
		if err := step("AUTH", cl.Auth(smtp.PlainAuth("", d.Username, d.Password, d.Host))); err != nil {
			return err
		}
	}
	from, err := mail.ParseAddress(d.From)
	if err != nil {
		return fmt.Errorf("smtp: from %q: %w", d.From, err)
	}
	if err := step("MAIL FROM", cl.Mail(from.Address)); err != nil {
		return err
	}
	for _, r := range rcpt {
		a, err := mail.ParseAddress(r)
		if err != nil {
			return fmt.Errorf("smtp: recipient %q: %w", r, err)
		}
		if err := step("RCPT TO "+a.Address, cl.Rcpt(a.Address)); err != nil {
			return err
		}
	}
	w, err := cl.Data()
	if err := step("DATA", err); err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return step("DATA", err)
	}
	if err := step("end of DATA", w.Close()); err != nil {
		return err
	}
	// The message is accepted once DATA ends; a failed QUIT does not undo it.
	_ = cl.Quit()
	return nil
}

// Message returns the report as an RFC 5322 message: a multipart/alternative of the plain text
// and the HTML (inline CSS), the HTML's charts as PNG parts with their Content-ID inside a
// multipart/related, and the PDF and the CSV appendix attached.
func Message(from string, to, cc []string, rep *Report, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", strings.Join(to, ", "))
	if len(cc) > 0 {
		h("Cc", strings.Join(cc, ", "))
	}
	h("Subject", mime.QEncoding.Encode("utf-8", rep.Subject))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", messageID(from))
	h("MIME-Version", "1.0")
	h("X-Giveback-Report", rep.Name+"/"+rep.Period.Label)

	mixed := multipart.NewWriter(&b)
	h("Content-Type", `multipart/mixed; boundary="`+mixed.Boundary()+`"`)
	b.WriteString("\r\n")

	// related: the alternative, then the images it references.
	var rel bytes.Buffer
	related := multipart.NewWriter(&rel)
	var alt bytes.Buffer
	alternative := multipart.NewWriter(&alt)
	if err := qpPart(alternative, "text/plain; charset=utf-8", rep.Text); err != nil {
		return nil, err
	}
	if err := qpPart(alternative, "text/html; charset=utf-8", rep.HTML); err != nil {
		return nil, err
	}
	if err := alternative.Close(); err != nil {
		return nil, err
	}
	if err := rawPart(related, textproto.MIMEHeader{"Content-Type": {`multipart/alternative; boundary="` + alternative.Boundary() + `"`}}, alt.Bytes()); err != nil {
		return nil, err
	}
	cids := make([]string, 0, len(rep.Images))
	for cid := range rep.Images {
		cids = append(cids, cid)
	}
	sort.Strings(cids)
	for _, cid := range cids {
		if err := b64Part(related, textproto.MIMEHeader{
			"Content-Type":        {"image/png"},
			"Content-ID":          {"<" + cid + ">"},
			"Content-Disposition": {`inline; filename="` + cid + `.png"`},
		}, rep.Images[cid]); err != nil {
			return nil, err
		}
	}
	if err := related.Close(); err != nil {
		return nil, err
	}
	if err := rawPart(mixed, textproto.MIMEHeader{"Content-Type": {`multipart/related; type="multipart/alternative"; boundary="` + related.Boundary() + `"`}}, rel.Bytes()); err != nil {
		return nil, err
	}
	base := fileBase(rep)
	if len(rep.PDF) > 0 {
		if err := b64Part(mixed, textproto.MIMEHeader{
			"Content-Type":        {"application/pdf"},
			"Content-Disposition": {`attachment; filename="` + base + `.pdf"`},
		}, rep.PDF); err != nil {
			return nil, err
		}
	}
	if len(rep.CSV) > 0 {
		if err := b64Part(mixed, textproto.MIMEHeader{
			"Content-Type":        {"text/csv; charset=utf-8"},
			"Content-Disposition": {`attachment; filename="` + base + `.csv"`},
		}, rep.CSV); err != nil {
			return nil, err
		}
	}
	if err := mixed.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// fileBase is the attachments' file name without extension: giveback-monthly-2026-10.
func fileBase(rep *Report) string {
	return "giveback-" + rep.Name + "-" + strings.ReplaceAll(rep.Period.Label, "..", "_")
}

func messageID(from string) string {
	var r [12]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
	domain := "giveback.local"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domain = d
		}
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}

func rawPart(w *multipart.Writer, h textproto.MIMEHeader, body []byte) error {
	p, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = p.Write(body)
	return err
}

func qpPart(w *multipart.Writer, ctype string, body []byte) error {
	p, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
	if err != nil {
		return err
	}
	q := quotedprintable.NewWriter(p)
	if _, err := q.Write(body); err != nil {
		return err
	}
	return q.Close()
}

func b64Part(w *multipart.Writer, h textproto.MIMEHeader, body []byte) error {
	h.Set("Content-Transfer-Encoding", "base64")
	p, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	enc := base64.StdEncoding.EncodeToString(body)
	for len(enc) > 76 {
		if _, err := io.WriteString(p, enc[:76]+"\r\n"); err != nil {
			return err
		}
		enc = enc[76:]
	}
	_, err = io.WriteString(p, enc+"\r\n")
	return err
}

// errNoSMTP is returned when an overdue notice has no smtp delivery to go through.
var errNoSMTP = errors.New("the report has no smtp delivery to send the notice through")
