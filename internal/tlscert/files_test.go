package tlscert_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/internal/tlscert"
)

// pairPaths returns the paths of a tls.cert and tls.key in a new temp dir.
func pairPaths(t *testing.T) (certFile, keyFile string) {
	dir := t.TempDir()
	return filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
}

// served returns the fingerprint of the certificate a Go client gets
// from the server at addr, verifying it against the CA file ca.
func served(t *testing.T, addr, ca string, maxVersion uint16) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: caPool(t, ca), ServerName: "localhost", MaxVersion: maxVersion})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer conn.Close()
	return sha256Colons(conn.ConnectionState().PeerCertificates[0].Raw)
}

// TestFilesOpenSSL: key and certificate files as openssl writes them, in
// each of its key formats, load and serve; a key with a passphrase is
// refused with a message that says how to remove it.
func TestFilesOpenSSL(t *testing.T) {
	openssl := testtool.Need(t, "openssl")
	dir := t.TempDir()
	sh := func(args ...string) {
		t.Helper()
		cmd, out, err := run(t, openssl, args...)
		if err != nil {
			t.Fatalf("%s\n%s: %v", cmd, out, err)
		}
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	san := "subjectAltName=DNS:localhost,IP:127.0.0.1"
	// PKCS #8 EC key, the brief's command.
	sh("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", p("ec8.key"), "-out", p("ec8.crt"), "-days", "30", "-subj", "/CN=localhost", "-addext", san)
	// SEC 1 EC key after an EC PARAMETERS block (openssl ecparam -genkey).
	sh("ecparam", "-name", "prime256v1", "-genkey", "-out", p("sec1.key"))
	sh("req", "-x509", "-key", p("sec1.key"), "-out", p("sec1.crt"), "-days", "30", "-subj", "/CN=localhost", "-addext", san)
	// PKCS #1 RSA key.
	sh("genrsa", "-traditional", "-out", p("rsa1.key"), "2048")
	sh("req", "-x509", "-key", p("rsa1.key"), "-out", p("rsa1.crt"), "-days", "30", "-subj", "/CN=localhost", "-addext", san)
	// The same keys with passphrases, PKCS #8 and the older PEM header.
	sh("pkey", "-in", p("ec8.key"), "-aes256", "-passout", "pass:secret", "-out", p("ec8enc.key"))
	sh("rsa", "-in", p("rsa1.key"), "-traditional", "-aes128", "-passout", "pass:secret", "-out", p("rsa1enc.key"))

	for _, kind := range []string{"ec8", "sec1", "rsa1"} {
		t.Run(kind, func(t *testing.T) {
			s := mustNew(t, tlscert.Options{CertFile: p(kind + ".crt"), KeyFile: p(kind + ".key"), Logger: testLogger(t)})
			if s.SelfSigned() || s.CertPath() != p(kind+".crt") {
				t.Errorf("SelfSigned() %v, CertPath() %q", s.SelfSigned(), s.CertPath())
			}
			if want := sha256Colons(readLeaf(t, p(kind+".crt")).Raw); s.Fingerprint() != want {
				t.Errorf("Fingerprint() %s, want %s", s.Fingerprint(), want)
			}
			addr := "127.0.0.1:" + newTLSServer(t, s)
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				if got := served(t, addr, s.CertPath(), v); got != s.Fingerprint() {
					t.Errorf("%s: served %s", tls.VersionName(v), got)
				}
			}
		})
	}
	for _, key := range []string{"ec8enc.key", "rsa1enc.key"} {
		_, err := tlscert.New(tlscert.Options{CertFile: p("ec8.crt"), KeyFile: p(key), Logger: testLogger(t)})
		if !errors.Is(err, tlscert.ErrEncryptedKey) || !strings.Contains(err.Error(), p(key)) || !strings.Contains(err.Error(), "openssl pkey") {
			t.Errorf("key %s: %v, want ErrEncryptedKey naming the file and how to decrypt it", key, err)
		}
	}
}

// TestFilesReload: Reload switches to replaced files, and keeps the
// certificate in use when they are broken.
func TestFilesReload(t *testing.T) {
	certFile, keyFile := pairPaths(t)
	derA := writePair(t, certFile, keyFile, pairSpec{})
	log, lb := newLog()
	s := mustNew(t, tlscert.Options{CertFile: certFile, KeyFile: keyFile, Logger: log, Now: newClock(t0).Now})
	fpA := sha256Colons(derA)
	if s.Fingerprint() != fpA {
		t.Fatalf("Fingerprint() %s, want %s", s.Fingerprint(), fpA)
	}
	if got := lb.String(); !strings.Contains(got, "from tls.cert") || !strings.Contains(got, certFile) || !strings.Contains(got, "SHA-256 "+fpA) {
		t.Errorf("log does not say which certificate is used:\n%s", got)
	}
	addr := "127.0.0.1:" + newTLSServer(t, s)
	if got := served(t, addr, certFile, 0); got != fpA {
		t.Fatalf("served %s, want %s", got, fpA)
	}

	// New files (RSA, so ECDHE_RSA under TLS 1.2): Reload takes them.
	derB := writePair(t, certFile, keyFile, pairSpec{rsa: true})
	fpB := sha256Colons(derB)
	lb.Reset()
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if s.Fingerprint() != fpB {
		t.Fatalf("after Reload: Fingerprint() %s, want the new %s", s.Fingerprint(), fpB)
	}
	if got := lb.String(); !strings.Contains(got, "SHA-256 "+fpB) {
		t.Errorf("log does not give the new fingerprint:\n%s", got)
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		if got := served(t, addr, certFile, v); got != fpB {
			t.Errorf("%s after Reload: served %s, want %s", tls.VersionName(v), got, fpB)
		}
	}
	if err := s.Reload(); err != nil || s.Fingerprint() != fpB {
		t.Errorf("Reload of the same files: %v, %s", err, s.Fingerprint())
	}
	goodCert, _ := os.ReadFile(certFile)
	goodKey, _ := os.ReadFile(keyFile)
	caFile := filepath.Join(t.TempDir(), "ca.pem") // B, for clients
	writeFile(t, caFile, goodCert)
	otherCert, otherKey := pairPaths(t)
	writePair(t, otherCert, otherKey, pairSpec{})
	keyOfOther, _ := os.ReadFile(otherKey)

	for _, tc := range []struct {
		name     string
		spoil    func()
		want     error
		mentions []string
	}{
		{"cert not PEM", func() { writeFile(t, certFile, []byte("oops\n")) }, tlscert.ErrNoCertificate, []string{"tls.cert", certFile}},
		{"cert truncated", func() { writeFile(t, certFile, goodCert[:len(goodCert)/2]) }, tlscert.ErrNoCertificate, []string{certFile}},
		{"cert missing", func() { os.Remove(certFile) }, fs.ErrNotExist, []string{"tls.cert", certFile}},
		{"key missing", func() { os.Remove(keyFile) }, fs.ErrNotExist, []string{"tls.key", keyFile}},
		{"key of another", func() { writeFile(t, keyFile, keyOfOther) }, tlscert.ErrKeyMismatch, []string{keyFile, certFile}},
		{"key empty", func() { writeFile(t, keyFile, nil) }, tlscert.ErrNoKey, []string{"tls.key", keyFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spoil()
			t.Cleanup(func() {
				writeFile(t, certFile, goodCert)
				writeFile(t, keyFile, goodKey)
			})
			err := s.Reload()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Reload: %v, want %v", err, tc.want)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if s.Fingerprint() != fpB {
				t.Errorf("after a failed Reload: Fingerprint() %s, want the one in use %s", s.Fingerprint(), fpB)
			}
			if got := served(t, addr, caFile, 0); got != fpB {
				t.Errorf("after a failed Reload: served %s, want %s", got, fpB)
			}
		})
	}
	// Without the spoiling, all is well again.
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload of the good files: %v", err)
	}
}

// TestFilesNewErrors: New refuses files it cannot serve, saying which and
// why.
func TestFilesNewErrors(t *testing.T) {
	certFile, keyFile := pairPaths(t)
	writePair(t, certFile, keyFile, pairSpec{})
	otherCert, otherKey := pairPaths(t)
	writePair(t, otherCert, otherKey, pairSpec{})
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, data)
		return p
	}
	garbage := file("garbage.pem", []byte("not a certificate\n"))
	badDER := file("baddr.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 1, 2, 3}}))
	encrypted := file("enc.pem", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}))
	badKey := file("badkey.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1, 2, 3}}))
	missing := filepath.Join(dir, "missing.pem")

	for _, tc := range []struct {
		name       string
		cert, key  string
		want       error // nil: any error
		mentions   []string
		notEqualTo string
	}{
		{"only cert", certFile, "", tlscert.ErrHalfPair, []string{"tls.key is not"}, ""},
		{"only key", "", keyFile, tlscert.ErrHalfPair, []string{"tls.cert is not"}, ""},
		{"cert missing", missing, keyFile, fs.ErrNotExist, []string{"tls.cert", missing}, ""},
		{"key missing", certFile, missing, fs.ErrNotExist, []string{"tls.key", missing}, ""},
		{"cert not PEM", garbage, keyFile, tlscert.ErrNoCertificate, []string{garbage, "BEGIN CERTIFICATE"}, ""},
		{"key not PEM", certFile, garbage, tlscert.ErrNoKey, []string{garbage}, ""},
		{"swapped", keyFile, certFile, tlscert.ErrNoCertificate, []string{keyFile, "swapped"}, ""},
		{"mismatched", certFile, otherKey, tlscert.ErrKeyMismatch, []string{otherKey, certFile}, ""},
		{"encrypted key", certFile, encrypted, tlscert.ErrEncryptedKey, []string{encrypted}, ""},
		{"bad cert DER", badDER, keyFile, nil, []string{badDER, "first certificate"}, ""},
		{"bad key DER", certFile, badKey, nil, []string{badKey, "ec private key"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tlscert.New(tlscert.Options{CertFile: tc.cert, KeyFile: tc.key, StateDir: t.TempDir(), Logger: testLogger(t)})
			if err == nil {
				t.Fatalf("New succeeded (self-signed %v)", s.SelfSigned())
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			t.Log(err)
		})
	}
}

// TestFilesExpired: an expired certificate, or one not valid yet, is
// served with a warning that gives its date, as Caddy and nginx do.
func TestFilesExpired(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec pairSpec
		want []string
	}{
		{"expired", pairSpec{notBefore: t0.Add(-100 * 24 * time.Hour), notAfter: t0.Add(-24 * time.Hour)}, []string{"level=WARN", "expired", "not_after=2026-02-28T12:00:00"}},
		{"not yet valid", pairSpec{notBefore: t0.Add(24 * time.Hour), notAfter: t0.Add(100 * 24 * time.Hour)}, []string{"level=WARN", "not valid yet", "not_before=2026-03-02T12:00:00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certFile, keyFile := pairPaths(t)
			der := writePair(t, certFile, keyFile, tc.spec)
			log, lb := newLog()
			s := mustNew(t, tlscert.Options{CertFile: certFile, KeyFile: keyFile, Logger: log, Now: newClock(t0).Now})
			if s.Fingerprint() != sha256Colons(der) || !s.NotAfter().Equal(tc.spec.notAfter) {
				t.Errorf("Fingerprint() %s NotAfter() %v: not the file's", s.Fingerprint(), s.NotAfter())
			}
			got := lb.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("log lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestFilesChain: a tls.cert holding the server's certificate and then
// its issuer's is served whole, and the fingerprint is the first's.
func TestFilesChain(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}, ca, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := pairPaths(t)
	keyDER, _ := x509.MarshalECPrivateKey(leafKey)
	writeFile(t, certFile, slices.Concat(
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))

	s := mustNew(t, tlscert.Options{CertFile: certFile, KeyFile: keyFile, Logger: testLogger(t)})
	if s.Fingerprint() != sha256Colons(leafDER) {
		t.Errorf("Fingerprint() is not the leaf's")
	}
	addr := "127.0.0.1:" + newTLSServer(t, s)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: caPool(t, caFile), ServerName: "localhost"})
	if err != nil {
		t.Fatalf("a client trusting only the CA: %v", err)
	}
	defer conn.Close()
	if n := len(conn.ConnectionState().PeerCertificates); n != 2 {
		t.Errorf("server sent %d certificates, want the leaf and the CA", n)
	}
}

// TestReloadConcurrent: handshakes and readers run while Reload switches
// between two pairs; every certificate handed out is one of them, whole
// (go test -race checks the rest).
func TestReloadConcurrent(t *testing.T) {
	certFile, keyFile := pairPaths(t)
	dir := t.TempDir()
	var pairs [2][2][]byte // [pair][cert, key]
	fps := map[string]bool{}
	for i := range pairs {
		c, k := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
		fps[sha256Colons(writePair(t, c, k, pairSpec{}))] = true
		pairs[i][0], _ = os.ReadFile(c)
		pairs[i][1], _ = os.ReadFile(k)
	}
	writeFile(t, certFile, pairs[0][0])
	writeFile(t, keyFile, pairs[0][1])
	s := mustNew(t, tlscert.Options{CertFile: certFile, KeyFile: keyFile, Logger: testLogger(t), Now: newClock(t0).Now})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := s.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
				if err != nil {
					errs <- err
					return
				}
				fp := sha256Colons(c.Certificate[0])
				if !fps[fp] || sha256Colons(c.Leaf.Raw) != fp {
					errs <- errors.New("GetCertificate returned a certificate of neither pair, or a mixed one")
					return
				}
				if !fps[s.Fingerprint()] || s.NotAfter().IsZero() {
					errs <- errors.New("Fingerprint or NotAfter of neither pair")
					return
				}
			}
		})
	}
	for i := range 50 {
		p := pairs[i%2]
		// Write the key first: in between, the files do not match and
		// Reload must keep what it has.
		writeFile(t, keyFile, p[1])
		if err := s.Reload(); i > 0 && !errors.Is(err, tlscert.ErrKeyMismatch) {
			t.Errorf("Reload %d of a mismatched pair: %v, want ErrKeyMismatch", i, err)
		}
		writeFile(t, certFile, p[0])
		if err := s.Reload(); err != nil {
			t.Errorf("Reload %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestServerConfig: the settings ServerConfig promises.
func TestServerConfig(t *testing.T) {
	s := mustNew(t, tlscert.Options{StateDir: t.TempDir(), Names: []string{"localhost"}, Logger: testLogger(t)})
	c := s.ServerConfig()
	if c.MinVersion != tls.VersionTLS12 || c.MaxVersion != tls.VersionTLS13 {
		t.Errorf("versions %s to %s, want TLS 1.2 to 1.3", tls.VersionName(c.MinVersion), tls.VersionName(c.MaxVersion))
	}
	if c.SessionTicketsDisabled {
		t.Error("session tickets disabled")
	}
	if c.GetCertificate == nil || c.Certificates != nil {
		t.Error("not GetCertificate alone")
	}
	if len(c.CipherSuites) == 0 {
		t.Fatal("no cipher suites listed: Go's defaults include ECDHE with AES-CBC")
	}
	for _, id := range c.CipherSuites {
		name := tls.CipherSuiteName(id)
		if !strings.HasPrefix(name, "TLS_ECDHE_") || !(strings.Contains(name, "_GCM_") || strings.Contains(name, "CHACHA20_POLY1305")) {
			t.Errorf("cipher suite %s is not ECDHE with AEAD", name)
		}
	}
	if s.ServerConfig() == c {
		t.Error("ServerConfig returns the same Config twice")
	}
	c.CipherSuites[0] = 0
	if s.ServerConfig().CipherSuites[0] == 0 {
		t.Error("a Config's cipher suite list is shared with the next")
	}
}
