package bus

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Embedded is an in-process NATS server with JetStream on local disk.
type Embedded struct {
	srv *server.Server
}

// ServerOptions configures an embedded server.
type ServerOptions struct {
	// Dir is where JetStream stores its files.
	Dir string
	// Addr is the client address ("127.0.0.1:4222"; port 0 or -1 picks a free one).
	Addr string
	// Passwords, by user (see Users), make the server require them: each user gets its
	// PermissionsOf, and an anonymous client is refused. Nil leaves the server open, for tests.
	Passwords map[string]string
	// CertFile and KeyFile, when set, make clients connect with TLS.
	CertFile, KeyFile string
}

// StartEmbedded starts an open NATS server (no authentication) with JetStream storing under dir
// and listening on addr; tests and benchmarks use it. `giveback up` uses StartServer with
// passwords.
func StartEmbedded(dir, addr string) (*Embedded, error) {
	return StartServer(ServerOptions{Dir: dir, Addr: addr})
}

// StartServer starts NATS with JetStream as o says. It returns once clients can connect.
func StartServer(o ServerOptions) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("bus: nats address %q: %w", o.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("bus: nats address %q: port: %w", o.Addr, err)
	}
	if port == 0 {
		port = -1
	}
	opts := &server.Options{
		ServerName: "giveback",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   o.Dir,
		NoSigs:     true,
		NoLog:      true,
	}
	if o.Passwords != nil {
		for _, u := range Users {
			pw := o.Passwords[u]
			if pw == "" {
				return nil, fmt.Errorf("bus: nats server: no password for user %s", u)
			}
			p := PermissionsOf(u)
			perms := &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: p.PublishAllow, Deny: p.PublishDeny},
				Subscribe: &server.SubjectPermission{Allow: p.SubscribeAllow},
			}
			if p.Responses {
				perms.Response = &server.ResponsePermission{MaxMsgs: 1, Expires: ResponseExpiry}
			}
			opts.Users = append(opts.Users, &server.User{Username: u, Password: pw, Permissions: perms})
		}
	}
	if o.CertFile != "" || o.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("bus: nats server certificate (nats.tls.server_cert_file, nats.tls.server_key_file): %w", err)
		}
		opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		opts.TLS = true
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: nats server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("bus: nats server on %s not ready after 15s", o.Addr)
	}
	return &Embedded{srv: srv}, nil
}

// URL is the client URL of the server.
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Shutdown stops the server and waits for it.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
