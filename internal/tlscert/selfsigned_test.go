package tlscert_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/tlscert"
)

var (
	testNames = []string{"box", "box.local", "localhost"}
	testAddrs = []netip.Addr{netip.MustParseAddr("192.168.1.5"), netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
)

func selfSignedOptions(t *testing.T, dir string, c *clock) tlscert.Options {
	return tlscert.Options{StateDir: dir, Names: testNames, Addrs: testAddrs, Now: c.Now, Logger: testLogger(t)}
}

// TestSelfSignedMadeReusedRenewed follows the self-signed certificate
// through its life: made at the first start, the same one (same
// fingerprint) at the next, renewed by New and by Reload when fewer than
// 30 days are left.
func TestSelfSignedMadeReusedRenewed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state") // New makes it
	c := newClock(t0)
	log, lb := newLog()
	o := selfSignedOptions(t, dir, c)
	o.Logger = log

	s1 := mustNew(t, o)
	if !s1.SelfSigned() {
		t.Error("SelfSigned() = false")
	}
	certPath := filepath.Join(dir, "tls-cert.pem")
	keyPath := filepath.Join(dir, "tls-key.pem")
	if s1.CertPath() != certPath {
		t.Errorf("CertPath() = %q, want %q", s1.CertPath(), certPath)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("state folder mode %v, want 0700", m)
	}
	if m := mode(t, keyPath); m != 0o600 {
		t.Errorf("key file mode %v, want 0600", m)
	}
	if m := mode(t, certPath); m != 0o644 {
		t.Errorf("cert file mode %v, want 0644", m)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("state folder holds %d files, want the 2 of the pair (no temporary file left)", len(entries))
	}

	leaf := readLeaf(t, certPath)
	if got := sha256Colons(leaf.Raw); s1.Fingerprint() != got {
		t.Errorf("Fingerprint() = %s, want the file's %s", s1.Fingerprint(), got)
	}
	wantNotAfter := t0.Add(-time.Minute).Add(825 * 24 * time.Hour)
	if !leaf.NotAfter.Equal(wantNotAfter) || !s1.NotAfter().Equal(wantNotAfter) {
		t.Errorf("NotAfter: file %v, NotAfter() %v, want %v", leaf.NotAfter, s1.NotAfter(), wantNotAfter)
	}
	if !leaf.NotBefore.Equal(t0.Add(-time.Minute)) {
		t.Errorf("NotBefore %v, want a minute before %v", leaf.NotBefore, t0)
	}
	checkSelfSignedLeaf(t, leaf)
	if got := lb.String(); !strings.Contains(got, "fingerprint=\"SHA-256 "+s1.Fingerprint()+"\"") ||
		!strings.Contains(got, "made a self-signed one in the state folder") {
		t.Errorf("log does not say a certificate was made with its fingerprint:\n%s", got)
	}

	// A later start reuses it.
	lb.Reset()
	c.Set(t0.Add(24 * time.Hour))
	s2 := mustNew(t, o)
	if s2.Fingerprint() != s1.Fingerprint() {
		t.Errorf("second New: fingerprint %s, want the first one's %s", s2.Fingerprint(), s1.Fingerprint())
	}
	if got := lb.String(); !strings.Contains(got, "self-signed in the state folder") || !strings.Contains(got, s1.Fingerprint()) {
		t.Errorf("log of the second start:\n%s", got)
	}
	// Reload with plenty of time left does nothing.
	if err := s2.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if s2.Fingerprint() != s1.Fingerprint() {
		t.Error("Reload with 824 days left changed the certificate")
	}

	// 800 days on, 25 are left: New renews it.
	later := t0.Add(800 * 24 * time.Hour)
	c.Set(later)
	lb.Reset()
	s3 := mustNew(t, o)
	if s3.Fingerprint() == s1.Fingerprint() {
		t.Fatal("New with 25 days left kept the certificate")
	}
	if want := later.Add(-time.Minute).Add(825 * 24 * time.Hour); !s3.NotAfter().Equal(want) {
		t.Errorf("renewed NotAfter %v, want %v", s3.NotAfter(), want)
	}
	if got := sha256Colons(readLeaf(t, certPath).Raw); got != s3.Fingerprint() {
		t.Errorf("file after renewal has fingerprint %s, Source %s", got, s3.Fingerprint())
	}
	if m := mode(t, keyPath); m != 0o600 {
		t.Errorf("renewed key file mode %v, want 0600", m)
	}
	if got := lb.String(); !strings.Contains(got, "renewed") || !strings.Contains(got, s3.Fingerprint()) {
		t.Errorf("log of the renewal does not give the new fingerprint:\n%s", got)
	}
	if s4 := mustNew(t, o); s4.Fingerprint() != s3.Fingerprint() {
		t.Error("the renewed certificate is not reused by the next New")
	}

	// s2, still running, renews on Reload (SIGHUP) once the clock says
	// so; what GetCertificate returns follows.
	if err := s2.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if s2.Fingerprint() == s1.Fingerprint() || s2.Fingerprint() == s3.Fingerprint() {
		t.Errorf("Reload with 25 days left: fingerprint %s, want a new one", s2.Fingerprint())
	}
	got, err := s2.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if sha256Colons(got.Certificate[0]) != s2.Fingerprint() {
		t.Error("GetCertificate does not return the renewed certificate")
	}
	if sha256Colons(readLeaf(t, certPath).Raw) != s2.Fingerprint() {
		t.Error("the renewal by Reload was not written to the state folder")
	}
}

// checkSelfSignedLeaf checks what the generated certificate must be for
// clients to take it as their CA file and for the box's names.
func checkSelfSignedLeaf(t *testing.T, leaf *x509.Certificate) {
	t.Helper()
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if leaf.Subject.CommonName != "box" {
		t.Errorf("CN %q, want the first name", leaf.Subject.CommonName)
	}
	if !slices.Equal(leaf.DNSNames, testNames) {
		t.Errorf("DNS names %v, want %v", leaf.DNSNames, testNames)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"192.168.1.5", "127.0.0.1", "::1"}; !slices.Equal(ips, want) {
		t.Errorf("IP addresses %v, want %v", ips, want)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("key usage %b, want digital signature", leaf.KeyUsage)
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("extended key usage %v, want server auth", leaf.ExtKeyUsage)
	}
	if leaf.IsCA || !leaf.BasicConstraintsValid {
		t.Errorf("IsCA %v, BasicConstraintsValid %v: want CA:FALSE written out", leaf.IsCA, leaf.BasicConstraintsValid)
	}
	if n := leaf.SerialNumber; n.Sign() <= 0 || n.BitLen() > 128 {
		t.Errorf("serial %v: want positive, at most 128 bits", n)
	}
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	for _, name := range []string{"box", "box.local", "localhost", "127.0.0.1", "::1", "192.168.1.5"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: t0}); err != nil {
			t.Errorf("verify as %s with itself as the CA: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool, CurrentTime: t0}); err == nil {
		t.Error("verifies as example.com")
	}
}

// TestSelfSignedSerialsDiffer: two certificates get different random
// serial numbers (clients refuse two certificates of one issuer name with
// one serial).
func TestSelfSignedSerialsDiffer(t *testing.T) {
	a := mustNew(t, selfSignedOptions(t, t.TempDir(), newClock(t0)))
	b := mustNew(t, selfSignedOptions(t, t.TempDir(), newClock(t0)))
	la, lb := readLeaf(t, a.CertPath()), readLeaf(t, b.CertPath())
	if la.SerialNumber.Cmp(lb.SerialNumber) == 0 {
		t.Errorf("both serials are %v", la.SerialNumber)
	}
}

// TestSelfSignedBadStoredPair: a stored pair that cannot be used is set
// aside with a warning and a new one made, whatever is wrong with it.
func TestSelfSignedBadStoredPair(t *testing.T) {
	other := t.TempDir()
	mustNew(t, selfSignedOptions(t, other, newClock(t0))) // a key that matches nothing below
	otherKey, err := os.ReadFile(filepath.Join(other, "tls-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		spoil   func(t *testing.T, certPath, keyPath string)
		wantErr string // in the logged warning
	}{
		{"cert not PEM", func(t *testing.T, c, _ string) { writeFile(t, c, []byte("garbage\n")) }, "no PEM certificate"},
		{"cert empty", func(t *testing.T, c, _ string) { writeFile(t, c, nil) }, "no PEM certificate"},
		{"cert missing", func(t *testing.T, c, _ string) { os.Remove(c) }, "tls-cert.pem: open"},
		{"key missing", func(t *testing.T, _, k string) { os.Remove(k) }, "tls-key.pem: open"},
		{"key of another", func(t *testing.T, _, k string) { writeFile(t, k, otherKey) }, "does not match"},
		{"key a folder", func(t *testing.T, _, k string) {
			os.Remove(k)
			os.Mkdir(k, 0o700)
		}, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := newClock(t0)
			first := mustNew(t, selfSignedOptions(t, dir, c))
			certPath := filepath.Join(dir, "tls-cert.pem")
			keyPath := filepath.Join(dir, "tls-key.pem")
			tc.spoil(t, certPath, keyPath)
			var before [2][]byte // nil: no such file, or a folder
			for i, p := range []string{certPath, keyPath} {
				if b, err := os.ReadFile(p); err == nil {
					before[i] = b
				}
			}

			log, lb := newLog()
			o := selfSignedOptions(t, dir, c)
			o.Logger = log
			s := mustNew(t, o)
			if s.Fingerprint() == first.Fingerprint() {
				t.Error("the first certificate is still used")
			}
			if got := sha256Colons(readLeaf(t, certPath).Raw); got != s.Fingerprint() {
				t.Errorf("stored fingerprint %s, in use %s", got, s.Fingerprint())
			}
			if m := mode(t, keyPath); m != 0o600 {
				t.Errorf("new key file mode %v, want 0600", m)
			}
			logged := lb.String()
			if !strings.Contains(logged, "level=WARN") || !strings.Contains(logged, "set it aside") || !strings.Contains(logged, tc.wantErr) {
				t.Errorf("log lacks a warning with %q:\n%s", tc.wantErr, logged)
			}
			// What was there is kept beside, with .bad.
			for i, name := range []string{"tls-cert.pem", "tls-key.pem"} {
				if before[i] == nil {
					_, err := os.Stat(filepath.Join(dir, name+".bad"))
					if tc.name == "key a folder" && name == "tls-key.pem" {
						if err != nil {
							t.Errorf("the folder was not set aside: %v", err)
						}
					} else if !errors.Is(err, os.ErrNotExist) {
						t.Errorf("%s.bad exists, but there was no %s", name, name)
					}
					continue
				}
				got, err := os.ReadFile(filepath.Join(dir, name+".bad"))
				if err != nil {
					t.Errorf("set aside: %v", err)
				} else if !bytes.Equal(got, before[i]) {
					t.Errorf("%s.bad does not hold what %s held", name, name)
				}
			}
		})
	}
}

// TestSelfSignedMissingNames: a stored certificate that does not name all
// of the box's current names and addresses is still used, and the log
// says what it lacks.
func TestSelfSignedMissingNames(t *testing.T) {
	dir := t.TempDir()
	first := mustNew(t, selfSignedOptions(t, dir, newClock(t0)))
	log, lb := newLog()
	o := selfSignedOptions(t, dir, newClock(t0))
	o.Names = append(slices.Clone(testNames), "newname.local")
	o.Addrs = append(slices.Clone(testAddrs), netip.MustParseAddr("10.0.0.7"))
	o.Logger = log
	s := mustNew(t, o)
	if s.Fingerprint() != first.Fingerprint() {
		t.Error("a new name made a new certificate; the fingerprint a user accepted would change")
	}
	if got := lb.String(); !strings.Contains(got, "newname.local") || !strings.Contains(got, "10.0.0.7") {
		t.Errorf("log does not name what the certificate lacks:\n%s", got)
	}
}

// TestSelfSignedOddNames: names and addresses are cleaned up for the
// certificate: a name that cannot be a DNS name is left out with a
// warning, duplicates go, a zone is dropped, a mapped IPv4 address is
// unmapped.
func TestSelfSignedOddNames(t *testing.T) {
	log, lb := newLog()
	s := mustNew(t, tlscert.Options{
		StateDir: t.TempDir(),
		Names:    []string{"Box", "box", "wohnzimmer-ü", "", "box.local."},
		Addrs:    []netip.Addr{netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("10.0.0.1")},
		Logger:   log,
	})
	leaf := readLeaf(t, s.CertPath())
	if want := []string{"box", "box.local"}; !slices.Equal(leaf.DNSNames, want) {
		t.Errorf("DNS names %v, want %v", leaf.DNSNames, want)
	}
	if want := []net.IP{net.ParseIP("fe80::1"), net.ParseIP("10.0.0.1").To4()}; !slices.EqualFunc(leaf.IPAddresses, want, net.IP.Equal) {
		t.Errorf("IP addresses %v, want %v", leaf.IPAddresses, want)
	}
	if got := lb.String(); !strings.Contains(got, "wohnzimmer-ü") || !strings.Contains(got, "level=WARN") {
		t.Errorf("no warning about the name left out:\n%s", got)
	}
}

// TestSelfSignedNoNames: without names the certificate still works, for
// its addresses, with a common name of its own.
func TestSelfSignedNoNames(t *testing.T) {
	s := mustNew(t, tlscert.Options{StateDir: t.TempDir(), Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, Logger: testLogger(t)})
	leaf := readLeaf(t, s.CertPath())
	if leaf.Subject.CommonName != "mediaftpd" || len(leaf.DNSNames) != 0 {
		t.Errorf("CN %q, DNS names %v", leaf.Subject.CommonName, leaf.DNSNames)
	}
}

func TestNoStateDir(t *testing.T) {
	_, err := tlscert.New(tlscert.Options{Names: testNames, Logger: testLogger(t)})
	if !errors.Is(err, tlscert.ErrNoStateDir) {
		t.Fatalf("New without files or state folder: %v, want ErrNoStateDir", err)
	}
	if !strings.Contains(err.Error(), "state_dir") || !strings.Contains(err.Error(), "tls.cert") {
		t.Errorf("error %q does not say what to set", err)
	}
}

// TestStateDirUnwritable: a state folder where nothing can be written is
// an error that names the file, not a certificate that changes at every
// start.
func TestStateDirUnwritable(t *testing.T) {
	t.Run("not a folder", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "state")
		writeFile(t, file, []byte("a file\n"))
		_, err := tlscert.New(selfSignedOptions(t, file, newClock(t0)))
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "state folder") {
			t.Fatalf("New with a file as the state folder: %v", err)
		}
	})
	t.Run("read-only", testStateDirReadOnly)
}

func testStateDirReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("skipping: root writes into a read-only folder")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	_, err := tlscert.New(selfSignedOptions(t, dir, newClock(t0)))
	if err == nil || !strings.Contains(err.Error(), "tls-key.pem") || !errors.Is(err, os.ErrPermission) {
		t.Fatalf("New in a read-only folder: %v", err)
	}
}
