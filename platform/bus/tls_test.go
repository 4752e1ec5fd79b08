package bus_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"giveback.dev/platform/bus"
)

// writePEM writes a PEM block to dir/name and returns its path.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// selfSignedCA makes a CA and a server certificate for 127.0.0.1 signed by it, returning the
// paths of the CA certificate and of the server's certificate and key.
func selfSignedCA(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "giveback test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nats"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER),
		writePEM(t, dir, "server.pem", "CERTIFICATE", srvDER),
		writePEM(t, dir, "server-key.pem", "EC PRIVATE KEY", keyDER)
}

// With a certificate the embedded server speaks TLS only: a client trusting the CA connects and
// logs in; one that does not trust it, or that speaks plain NATS, is refused.
func TestEmbeddedTLS(t *testing.T) {
	caFile, certFile, keyFile := selfSignedCA(t)
	dir := t.TempDir()
	pw, err := bus.LoadOrCreatePasswords(filepath.Join(dir, bus.CredentialsFileName))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := bus.StartServer(bus.ServerOptions{Dir: dir, Addr: "127.0.0.1:-1", Passwords: pw, CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	nc, js, err := bus.Connect(srv.URL(), "tls", bus.Credentials{User: bus.UserAdmin, Password: pw[bus.UserAdmin], CAFile: caFile})
	if err != nil {
		t.Fatalf("client trusting the CA: %v", err)
	}
	if !nc.TLSRequired() {
		t.Error("the connection is not TLS")
	}
	if err := bus.EnsureStreams(ctxT(t), js, bus.StreamOptions{}); err != nil {
		t.Fatalf("over TLS: %v", err)
	}
	nc.Close()

	if nc, _, err := bus.Connect(srv.URL(), "tls", bus.Credentials{User: bus.UserAdmin, Password: pw[bus.UserAdmin]}); err == nil {
		nc.Close()
		t.Error("a client without the CA connected")
	}
	otherCA, _, _ := selfSignedCA(t)
	if nc, _, err := bus.Connect(srv.URL(), "tls", bus.Credentials{User: bus.UserAdmin, Password: pw[bus.UserAdmin], CAFile: otherCA}); err == nil {
		nc.Close()
		t.Error("a client trusting another CA connected")
	}
}
