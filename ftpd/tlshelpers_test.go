package ftpd

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCert is a self-signed server certificate for 127.0.0.1, ::1 and
// localhost that is its own CA, as internal/tlscert makes them: its PEM
// file can be given to curl, lftp and Python as their CA file.
type testCert struct {
	cert tls.Certificate
	pool *x509.CertPool // trusts the certificate, for Go clients
	file string         // the certificate's PEM file, for other clients
}

// newTestCert makes a certificate in a temp dir of the test.
func newTestCert(t testing.TB) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "mediaftpd test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &testCert{
		cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		pool: pool,
		file: file,
	}
}

// serverConfig is the TLS config the app gives the server: the
// certificate through GetCertificate, TLS 1.2 and 1.3.
func (tc *testCert) serverConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &tc.cert, nil },
		MinVersion:     tls.VersionTLS12,
		MaxVersion:     tls.VersionTLS13,
	}
}

// clientConfig is a Go client's TLS config for one TLS version, with a
// session cache (so data connections resume the control connection's
// session) or without.
func (tc *testCert) clientConfig(version uint16, cache bool) *tls.Config {
	c := &tls.Config{RootCAs: tc.pool, ServerName: "127.0.0.1", MinVersion: version, MaxVersion: version}
	if cache {
		c.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	}
	return c
}

// newTLSTestServer is newTestServer with TLS configured with a new
// certificate, which it returns.
func newTLSTestServer(t testing.TB, configure func(*Server)) (*testServer, string, *testCert) {
	t.Helper()
	cert := newTestCert(t)
	ts, dir := newTestServer(t, func(s *Server) {
		s.TLSConfig = cert.serverConfig()
		if configure != nil {
			configure(s)
		}
	})
	return ts, dir, cert
}

// startTLS makes the control connection TLS, after a 234 reply.
func (c *ctrl) startTLS(conf *tls.Config) {
	c.t.Helper()
	if c.r != nil && c.r.Buffered() > 0 {
		c.t.Fatalf("%d bytes left after the 234 reply", c.r.Buffered())
	}
	tc := tls.Client(c.c, conf)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake on the control connection: %v", err)
	}
	tc.SetDeadline(time.Time{})
	c.c, c.r = tc, bufio.NewReader(tc)
}

// tlsVersion is the TLS version of a control connection made TLS.
func (c *ctrl) tlsVersion() uint16 {
	return c.c.(*tls.Conn).ConnectionState().Version
}

// dialTLSCtrl connects and makes the control connection TLS with AUTH TLS.
func dialTLSCtrl(t testing.TB, addr string, conf *tls.Config) *ctrl {
	t.Helper()
	c := dialCtrl(t, addr)
	c.cmd("AUTH TLS", 234)
	c.startTLS(conf)
	return c
}

// loginTLS is dialTLSCtrl, then PBSZ 0, PROT P and an anonymous login.
func loginTLS(t testing.TB, addr string, conf *tls.Config) *ctrl {
	t.Helper()
	c := dialTLSCtrl(t, addr, conf)
	c.cmd("PBSZ 0", 200)
	c.cmd("PROT P", 200)
	c.cmd("USER anonymous", 331)
	c.cmd("PASS guest@", 230)
	return c
}

// tlsData makes a passive data connection TLS as a client does after the
// 150 reply, and returns it once the handshake is done.
func tlsData(t testing.TB, d net.Conn, conf *tls.Config) *tls.Conn {
	t.Helper()
	tc := tls.Client(d, conf)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake on the data connection: %v", err)
	}
	tc.SetDeadline(time.Time{})
	return tc
}

// transferTLS runs a transfer command (RETR, LIST, ...) over a TLS data
// connection made first, checks that it resumed the control connection's
// session, and returns what came.
func (c *ctrl) transferTLS(line string, conf *tls.Config) string {
	c.t.Helper()
	d := dialData(c.t, c.epsv())
	c.cmd(line, 150)
	tc := tlsData(c.t, d, conf)
	if !tc.ConnectionState().DidResume {
		c.t.Errorf("%s: the data connection did not resume the TLS session", line)
	}
	got := readAll(c.t, tc)
	tc.Close()
	c.expect(226)
	return got
}

// readRefused reads a data connection the server refuses after the TLS
// handshake: it must close it without sending a byte of data.
func readRefused(t testing.TB, tc *tls.Conn) {
	t.Helper()
	tc.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(tc)
	if len(b) > 0 {
		t.Fatalf("a refused data connection got %d bytes", len(b))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server did not close a refused data connection")
	}
}

// loopback is 127.0.0.1 as an address.
var loopback = netip.MustParseAddr("127.0.0.1")
