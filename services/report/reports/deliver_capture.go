package reports

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Capture is an SMTP server in the process that accepts every message on a loopback address
// and keeps it, and writes each as a .eml file when it has a directory: the mail a newcomer's
// `giveback up --demo` sends goes there, so nothing leaves the machine.
type Capture struct {
	srv *smtp.Server
	ln  net.Listener
	dir string

	mu   sync.Mutex
	msgs []Captured
}

// Captured is one message received.
type Captured struct {
	From string
	To   []string
	Data []byte
	At   time.Time
}

// StartCapture starts a capture on 127.0.0.1 (a port of its own); dir, when not empty, receives
// each message as <time>-<n>.eml.
func StartCapture(dir string) (*Capture, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("reports: capture: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("reports: capture: %w", err)
	}
	c := &Capture{ln: ln, dir: dir}
	c.srv = smtp.NewServer(captureBackend{c})
	c.srv.Domain = "localhost"
	c.srv.ReadTimeout = time.Minute
	c.srv.WriteTimeout = time.Minute
	c.srv.MaxMessageBytes = 64 << 20
	c.srv.AllowInsecureAuth = true
	go func() { _ = c.srv.Serve(ln) }() // returns when Close closes the listener
	return c, nil
}

// Addr returns the host and port the capture listens on.
func (c *Capture) Addr() (string, int) {
	a := c.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// Messages returns the messages received so far, oldest first.
func (c *Capture) Messages() []Captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Captured(nil), c.msgs...)
}

// Close stops the server.
func (c *Capture) Close() error { return c.srv.Close() }

type captureBackend struct{ c *Capture }

func (b captureBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &captureSession{c: b.c}, nil
}

type captureSession struct {
	c    *Capture
	from string
	to   []string
}

func (s *captureSession) Reset()        { s.from, s.to = "", nil }
func (s *captureSession) Logout() error { return nil }

func (s *captureSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *captureSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *captureSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("no recipient")
	}
	m := Captured{From: s.from, To: s.to, Data: b, At: time.Now()}
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, m)
	n := len(s.c.msgs)
	s.c.mu.Unlock()
	if s.c.dir != "" {
		name := m.At.UTC().Format("20060102T150405") + "-" + strconv.Itoa(n) + ".eml"
		if err := os.WriteFile(filepath.Join(s.c.dir, name), b, 0o600); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store the message"}
		}
	}
	return nil
}
