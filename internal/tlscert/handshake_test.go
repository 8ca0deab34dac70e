package tlscert_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/internal/tlscert"
)

// body is what the test server answers every HTTPS request with.
const body = "served by a tlscert test\n"

// newTLSServer serves HTTPS on 127.0.0.1 (and ::1) with s.ServerConfig() until the
// test ends, and returns its port.
func newTLSServer(t *testing.T, s *tlscert.Source) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", s.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }),
		// Refused handshakes are what some tests want.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	lns := []net.Listener{ln}
	// The same port on ::1 too, if it is free, for clients that try
	// "localhost" there first; the tests ask for 127.0.0.1 where they can.
	if ln6, err := tls.Listen("tcp", net.JoinHostPort("::1", port), s.ServerConfig()); err == nil {
		lns = append(lns, ln6)
	}
	done := make(chan error, len(lns))
	for _, l := range lns {
		go func() { done <- srv.Serve(l) }()
	}
	t.Cleanup(func() {
		srv.Close()
		for range lns {
			if err := <-done; !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve: %v", err)
			}
		}
	})
	return port
}

// run runs a client program with its input closed and returns its
// command line, for messages, its output (stdout and stderr) and error.
// The deadline only stops a client that hangs; nothing is measured.
func run(t *testing.T, name string, args ...string) (cmdline, out string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = nil // /dev/null: the client ends after the handshake
	b, err := cmd.CombinedOutput()
	return "$ " + name + " " + strings.Join(args, " "), string(b), err
}

// caPool returns a pool holding the certificates of the PEM file path,
// as a client given it as its CA file has.
func caPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatalf("%s: no certificate", path)
	}
	return pool
}

// TestHandshakeSelfSigned: real clients take the self-signed certificate
// file as their CA file and complete a handshake with a ServerConfig()
// server on loopback; old protocol versions and CBC suites are refused.
func TestHandshakeSelfSigned(t *testing.T) {
	s := mustNew(t, tlscert.Options{
		StateDir: t.TempDir(),
		Names:    []string{"mediaftpd-test", "mediaftpd-test.local", "localhost"},
		Addrs:    testAddrs,
		Logger:   testLogger(t),
	})
	port := newTLSServer(t, s)
	addr := net.JoinHostPort("127.0.0.1", port)
	ca := s.CertPath()

	t.Run("go", func(t *testing.T) {
		for _, name := range []string{"localhost", "127.0.0.1"} {
			for _, vers := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
				conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: caPool(t, ca), ServerName: name, MaxVersion: vers})
				if err != nil {
					t.Errorf("ServerName %s, up to %s: %v", name, tls.VersionName(vers), err)
					continue
				}
				st := conn.ConnectionState()
				conn.Close()
				if st.Version != vers {
					t.Errorf("ServerName %s: negotiated %s, want %s", name, tls.VersionName(st.Version), tls.VersionName(vers))
				}
				if got := sha256Colons(st.PeerCertificates[0].Raw); got != s.Fingerprint() {
					t.Errorf("server sent a certificate with fingerprint %s, Fingerprint() is %s", got, s.Fingerprint())
				}
			}
		}
		// The check is real: another name, or no CA file, fails.
		if conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: caPool(t, ca), ServerName: "example.com"}); err == nil {
			conn.Close()
			t.Error("verified as example.com")
		}
		if conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost"}); err == nil {
			conn.Close()
			t.Error("verified against the system's CAs")
		}
	})

	t.Run("go TLS 1.1 refused", func(t *testing.T) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: caPool(t, ca), ServerName: "localhost", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			conn.Close()
			t.Fatal("a TLS 1.1 client completed a handshake")
		}
		t.Logf("TLS 1.1 client: %v", err)
	})

	t.Run("go CBC suite refused", func(t *testing.T) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{
			RootCAs: caPool(t, ca), ServerName: "localhost", MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256},
		})
		if err == nil {
			conn.Close()
			t.Fatal("a client offering only ECDHE with AES-CBC completed a handshake")
		}
		t.Logf("CBC-only client: %v", err)
	})

	t.Run("go resumes", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: caPool(t, ca), ServerName: "localhost", ClientSessionCache: tls.NewLRUClientSessionCache(1)}
		for i, want := range []bool{false, true} {
			conn, err := tls.Dial("tcp", addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			// A TLS 1.3 ticket arrives after the handshake: read the
			// answer so that it is taken in.
			io.WriteString(conn, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
			io.ReadAll(conn)
			if got := conn.ConnectionState().DidResume; got != want {
				t.Errorf("connection %d: DidResume %v, want %v", i+1, got, want)
			}
			conn.Close()
		}
	})

	t.Run("openssl", func(t *testing.T) {
		openssl := testtool.Need(t, "openssl")
		base := []string{"s_client", "-connect", addr, "-CAfile", ca, "-verify_return_error", "-servername", "localhost"}
		for _, extra := range [][]string{nil, {"-verify_hostname", "localhost"}, {"-verify_ip", "127.0.0.1"}, {"-tls1_2", "-verify_hostname", "mediaftpd-test.local"}} {
			cmd, out, err := run(t, openssl, append(base, extra...)...)
			if err != nil || !strings.Contains(out, "Verify return code: 0 (ok)") {
				t.Errorf("%s\n%s: %v; no \"Verify return code: 0 (ok)\"", cmd, out, err)
			}
		}
		// The check is real: another name fails.
		cmd, out, err := run(t, openssl, append(base, "-verify_hostname", "example.com")...)
		if err == nil || strings.Contains(out, "Verify return code: 0 (ok)") {
			t.Errorf("%s\n%s: verified the certificate as example.com", cmd, out)
		}
		cmd, out, err = run(t, openssl, "s_client", "-connect", addr, "-tls1_1")
		if !strings.Contains(out, "alert protocol version") || !strings.Contains(out, "Cipher is (NONE)") {
			t.Errorf("%s\n%s: %v; want the server's protocol version alert", cmd, out, err)
		}
	})

	t.Run("openssl renegotiation refused", func(t *testing.T) {
		openssl := testtool.Need(t, "openssl")
		// "R" on s_client's input asks for a renegotiation (TLS 1.2;
		// TLS 1.3 has none).
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", addr, "-tls1_2", "-CAfile", ca, "-verify_return_error")
		cmd.Stdin = strings.NewReader("R\n")
		b, err := cmd.CombinedOutput()
		out := string(b)
		if !strings.Contains(out, "New, TLSv1.2") || !strings.Contains(out, "RENEGOTIATING") || !strings.Contains(out, "alert unexpected message") || err == nil {
			t.Errorf("%s\n%s: %v; want a TLS 1.2 handshake, then the server's unexpected message alert to the renegotiation", cmd, out, err)
		}
		// The server goes on serving.
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: caPool(t, ca), ServerName: "localhost"})
		if err != nil {
			t.Fatalf("after the renegotiation attempt: %v", err)
		}
		conn.Close()
	})

	t.Run("gnutls-cli", func(t *testing.T) {
		gnutls := testtool.Need(t, "gnutls-cli")
		for _, host := range []string{"localhost", "127.0.0.1"} {
			// Success prints "- Status: The certificate is trusted."
			// and "- Handshake was completed"; a failed verification
			// "*** PKI verification of server certificate failed" and
			// "*** Handshake has failed".
			cmd, out, err := run(t, gnutls, "--x509cafile", ca, "-p", port, host)
			if !strings.Contains(out, "Handshake was completed") || strings.Contains(out, "failed") {
				t.Errorf("%s\n%s: %v; want \"Handshake was completed\"", cmd, out, err)
			}
		}
	})

	// wget and lftp are Debian's GnuTLS clients that CI installs.
	t.Run("wget (GnuTLS)", func(t *testing.T) {
		wget := testtool.Need(t, "wget")
		for _, host := range []string{"localhost", "127.0.0.1"} {
			cmd, out, err := run(t, wget, "-4", "-nv", "-O", "-", "--ca-certificate", ca, "https://"+net.JoinHostPort(host, port)+"/")
			if err != nil || !strings.Contains(out, body) {
				t.Errorf("%s\n%s: %v", cmd, out, err)
			}
		}
		if cmd, out, err := run(t, wget, "-4", "-nv", "-O", "-", "https://localhost:"+port+"/"); err == nil {
			t.Errorf("%s\n%s: accepted the certificate without the CA file", cmd, out)
		}
	})

	t.Run("curl (OpenSSL)", func(t *testing.T) {
		curl := testtool.Need(t, "curl")
		for _, host := range []string{"localhost", "127.0.0.1"} {
			cmd, out, err := run(t, curl, "-4", "-sS", "--cacert", ca, "https://"+net.JoinHostPort(host, port)+"/")
			if err != nil || !strings.Contains(out, body) {
				t.Errorf("%s\n%s: %v", cmd, out, err)
			}
		}
	})

	// The status page's clients: a browser that does not know the
	// certificate gives the warning a user can click through
	// (ERR_CERT_AUTHORITY_INVALID), not one that cannot be
	// (ERR_CERT_INVALID); told to trust its key, it loads the page.
	t.Run("chromium", func(t *testing.T) {
		chromium := testtool.Need(t, "chromium")
		url := "https://localhost:" + port + "/"
		if text, err := browse(t, chromium, url, ""); err == nil || !strings.Contains(err.Error(), "net::ERR_CERT_AUTHORITY_INVALID") {
			t.Errorf("unknown certificate: %q, %v; want net::ERR_CERT_AUTHORITY_INVALID", text, err)
		}
		spki := sha256.Sum256(readLeaf(t, ca).RawSubjectPublicKeyInfo)
		if text, err := browse(t, chromium, url, base64.StdEncoding.EncodeToString(spki[:])); err != nil || text != body {
			t.Errorf("trusted key: %q, %v", text, err)
		}
	})

	t.Run("lftp (GnuTLS)", func(t *testing.T) {
		lftp := testtool.Need(t, "lftp")
		script := "set dns:order inet; set ssl:verify-certificate yes; set ssl:ca-file " + ca + "; cat https://localhost:" + port + "/"
		cmd, out, err := run(t, lftp, "-c", script)
		if err != nil || !strings.Contains(out, body) {
			t.Errorf("%s\n%s: %v", cmd, out, err)
		}
	})
}

// TestFingerprintOpenSSL: Fingerprint is what
// `openssl x509 -noout -fingerprint -sha256` prints for the file, for the
// self-signed certificate and for one of tls.cert.
func TestFingerprintOpenSSL(t *testing.T) {
	openssl := testtool.Need(t, "openssl")
	dir := t.TempDir()
	certFile, keyFile := dir+"/cert.pem", dir+"/key.pem"
	writePair(t, certFile, keyFile, pairSpec{rsa: true})
	for _, o := range []tlscert.Options{
		{StateDir: t.TempDir(), Names: testNames, Addrs: testAddrs},
		{CertFile: certFile, KeyFile: keyFile},
	} {
		o.Logger = testLogger(t)
		s := mustNew(t, o)
		cmd, out, err := run(t, openssl, "x509", "-noout", "-fingerprint", "-sha256", "-in", s.CertPath())
		if err != nil {
			t.Fatalf("%s\n%s: %v", cmd, out, err)
		}
		// "sha256 Fingerprint=AB:..." (OpenSSL 3), "SHA256 Fingerprint=" (1.1).
		prefix, fp, ok := strings.Cut(strings.TrimSpace(out), "=")
		if !ok || !strings.EqualFold(prefix, "sha256 Fingerprint") {
			t.Fatalf("%s\n%s: not the expected form", cmd, out)
		}
		if fp != s.Fingerprint() {
			t.Errorf("openssl says %s, Fingerprint() %s", fp, s.Fingerprint())
		}
		t.Logf("%s: %s", cmd, strings.TrimSpace(out))
	}
}

// browse loads url in a headless chromium with a fresh profile and
// returns the page's text. spki, if not "", is the base64 SHA-256 of a
// certificate's public key that chromium is told to trust
// (--ignore-certificate-errors-spki-list), as a user who accepted it has.
func browse(t *testing.T, chromium, url, spki string) (string, error) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	if spki != "" {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", spki))
	}
	// The deadline only stops a browser that hangs.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return "", err
	}
	return chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
}
