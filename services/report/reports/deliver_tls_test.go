package reports

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// authBackend is an SMTP server that requires AUTH PLAIN as mailer/s3cret-9f1d and counts the
// messages it accepts.
type authBackend struct{ got *atomic.Int32 }

func (b authBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &authSession{got: b.got}, nil
}

type authSession struct {
	got    *atomic.Int32
	authed bool
}

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "mailer" || pass != "s3cret-9f1d" {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *authSession) Reset()        { /* nothing kept */ }
func (s *authSession) Logout() error { return nil }
func (s *authSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	return nil
}
func (s *authSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *authSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.got.Add(1)
	return nil
}

// The mail goes over STARTTLS (the default) or implicit TLS, verified against the server's
// certificate, with AUTH PLAIN; a server that offers no STARTTLS is refused rather than sent
// the password in clear.
func TestSMTPOverTLS(t *testing.T) {
	// httptest's certificate is valid for 127.0.0.1.
	certSrv := httptest.NewTLSServer(http.NotFoundHandler())
	certSrv.Close()
	tlsConf := &tls.Config{Certificates: certSrv.TLS.Certificates, MinVersion: tls.VersionTLS12}
	roots := x509.NewCertPool()
	roots.AddCert(certSrv.Certificate())

	var got atomic.Int32
	start := func(implicit bool) int {
		srv := smtp.NewServer(authBackend{&got})
		srv.Domain = "localhost"
		srv.TLSConfig = tlsConf
		var ln net.Listener
		var err error
		if implicit {
			ln, err = tls.Listen("tcp", "127.0.0.1:0", tlsConf)
		} else {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return ln.Addr().(*net.TCPAddr).Port
	}
	var b built
	p, _ := PeriodFor(PeriodPreviousMonth, due, time.UTC)
	rep, err := b.build(t)(context.Background(), monthly(nil), p, due, Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := SMTPClient{RootCAs: roots, Timeout: 5 * time.Second}
	d := Delivery{Kind: "smtp", Name: "smtp", Host: "127.0.0.1", Username: "mailer", Password: "s3cret-9f1d",
		From: "reports@example.com", To: []string{"cto@example.com"}}
	for _, tlsMode := range []string{"starttls", "implicit"} {
		d.TLS, d.Port = tlsMode, start(tlsMode == "implicit")
		if err := client.Send(context.Background(), d, rep); err != nil {
			t.Fatalf("%s: %v", tlsMode, err)
		}
	}
	if got.Load() != 2 {
		t.Fatalf("%d messages accepted, want 2", got.Load())
	}
	// A wrong password is the server's refusal, named.
	d.TLS, d.Port, d.Password = "starttls", start(false), "wrong-password-1"
	if err := client.Send(context.Background(), d, rep); err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Errorf("wrong password: %v", err)
	}
	// The capture offers no STARTTLS: refused before the password is sent.
	capture, err := StartCapture("")
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Close()
	d.Host, d.Port = capture.Addr()
	if err := client.Send(context.Background(), d, rep); err == nil || !strings.Contains(err.Error(), "offers no STARTTLS") {
		t.Errorf("server without STARTTLS: %v", err)
	}
	if len(capture.Messages()) != 0 {
		t.Error("the mail went out in clear")
	}
}
