package ftpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library"
)

// The tests in this file drive the server over FTPS with real clients:
// curl (OpenSSL), lftp (GnuTLS), Python's ftplib (OpenSSL), the Go client
// library and openssl s_client. Each must list, download byte for byte and
// resume with REST, with data connections that resume the control
// connection's TLS session.

// tlsClientServer is a TLS test server with a film, a folder and the
// accounts alice (private share Home) and bob, its log captured.
type tlsClientServer struct {
	*testServer
	cert *testCert
	body []byte // the film, /Media/Films/film.mkv
	logs *logCapture
	host string // the server's port on 127.0.0.1
	port string
}

func newTLSClientServer(t *testing.T) *tlsClientServer {
	t.Helper()
	logs := &logCapture{t: t}
	accts := newFakeAccounts("alice", alicePassword, "bob", bobPassword)
	ts, dir, cert := newTLSTestServer(t, func(s *Server) {
		s.Accounts = accts
		s.RequireTLSForUsers = true
		s.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	body := writeData(t, dir, "Films/film.mkv", pattern(12, 5<<20+333))
	writeFile(t, dir, "Films/Extras/trailer.mp4", "trailer")
	home := t.TempDir()
	writeFile(t, home, "private.mkv", "alice only")
	if err := ts.Set.Add(library.Share{Name: "Home", Path: home, Access: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(ts.Addr)
	return &tlsClientServer{testServer: ts, cert: cert, body: body, logs: logs, host: host, port: port}
}

// checkLog fails the test if the log shows a refused data connection, a
// failed data handshake or a password.
func (s *tlsClientServer) checkLog(t *testing.T) {
	t.Helper()
	for _, bad := range []string{"did not resume", "TLS handshake on the data connection failed", "panic",
		"client did not close the TLS data connection"} {
		if n := s.logs.count(bad); n > 0 {
			t.Errorf("%d log lines say %q", n, bad)
		}
	}
	checkNoPassword(t, s.logs, alicePassword, bobPassword)
}

// transfers returns the number of transfers logged with every one of parts.
func (s *tlsClientServer) transfers(parts ...string) int {
	return s.logs.count(append([]string{"msg=transfer"}, parts...)...)
}

// run runs a client program with a deadline and returns its output.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr: %s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestCurlFTPS downloads with curl over explicit FTPS (TLS 1.3, its
// default): --ssl-reqd with the certificate as CA file, a listing, the
// film byte for byte, a resume with -C, a named account, and
// --ftp-ssl-control (clear data). curl limited to TLS 1.2 cannot resume:
// it turns RFC 5077 tickets off (SSL_OP_NO_TICKET) and offers session IDs,
// which crypto/tls servers do not keep, so its data connections get 522.
func TestCurlFTPS(t *testing.T) {
	curl := testtool.Need(t, "curl")
	s := newTLSClientServer(t)
	base := "ftp://" + net.JoinHostPort(s.host, s.port)
	tlsArgs := []string{"-sS", "--ssl-reqd", "--cacert", s.cert.file, "--max-time", "30"}
	curlRun := func(args ...string) []byte { return run(t, curl, append(slicesClone(tlsArgs), args...)...) }

	list := string(curlRun(base + "/Media/Films/"))
	// curl takes listings in ASCII mode and makes their CRLF LF.
	if !strings.Contains(list, " film.mkv\n") || !strings.Contains(list, " Extras\n") {
		t.Errorf("listing: %q", list)
	}
	out := filepath.Join(t.TempDir(), "film.mkv")
	curlRun("-o", out, base+"/Media/Films/film.mkv")
	if got, _ := os.ReadFile(out); !bytes.Equal(got, s.body) {
		t.Errorf("download: %d bytes, not the film's %d", len(got), len(s.body))
	}
	const from = 1_000_003
	if got := curlRun("-C", fmt.Sprint(from), base+"/Media/Films/film.mkv"); !bytes.Equal(got, s.body[from:]) {
		t.Errorf("download with -C %d: %d bytes, not the film's last %d", from, len(got), len(s.body)-from)
	}
	if s.transfers(fmt.Sprintf("offset=%d", from), "tls=true", "result=ok") != 1 {
		t.Error("the resumed download is not logged with its offset, over TLS")
	}
	if got := string(curlRun("-u", "alice:"+alicePassword, base+"/Home/private.mkv")); got != "alice only" {
		t.Errorf("alice's file: got %q", got)
	}
	if n := s.transfers("tls=true", "result=ok"); n != 4 {
		t.Errorf("%d transfers over TLS logged, want 4", n)
	}
	// --ftp-ssl-control: the control connection only; data in clear.
	ctlArgs := []string{"-sS", "--ftp-ssl-control", "--cacert", s.cert.file, "--max-time", "30"}
	if got := run(t, curl, append(ctlArgs, base+"/Media/Films/film.mkv")...); !bytes.Equal(got, s.body) {
		t.Errorf("--ftp-ssl-control download: %d bytes, not the film's %d", len(got), len(s.body))
	}
	if got := string(run(t, curl, append(ctlArgs, "-u", "alice:"+alicePassword, base+"/Home/private.mkv")...)); got != "alice only" {
		t.Errorf("--ftp-ssl-control, alice's file: got %q", got)
	}
	if n := s.transfers("tls=false", "result=ok"); n != 2 {
		t.Errorf("%d transfers in clear text logged, want 2", n)
	}
	s.checkLog(t)

	// TLS 1.2: refused, and the server says why.
	cmd := exec.Command(curl, append(slicesClone(tlsArgs), "--tls-max", "1.2", base+"/Media/Films/film.mkv")...)
	if out, err := cmd.CombinedOutput(); err == nil || len(out) > 200 {
		t.Errorf("curl with TLS 1.2: %v, %d bytes of output; want a failure", err, len(out))
	}
	// The refusal is logged; the transfer's result may read "aborted"
	// instead of the refusal when curl hangs up before the server's 522
	// is written (seen under emulation).
	if s.logs.count("data connection refused: it did not resume") != 1 {
		t.Error("the refused TLS 1.2 data connection of curl is not logged")
	}
	waitFor(t, "the sessions to end", func() bool { return s.sessionCount() == 0 })
}

// slicesClone copies a slice of strings, so that appends to it do not
// share its array.
func slicesClone(s []string) []string { return append([]string(nil), s...) }

// TestLftpFTPS drives lftp (GnuTLS) with ftp:ssl-force and
// ftp:ssl-protect-data, checking the certificate against the CA file:
// cls -l, get, and get -c, which resumes with REST; with TLS 1.3, and
// with TLS 1.2 by its GnuTLS priority string.
func TestLftpFTPS(t *testing.T) {
	lftp := testtool.Need(t, "lftp")
	s := newTLSClientServer(t)
	for i, v := range []struct{ name, priority string }{
		{"TLS1.3", "NORMAL"},
		{"TLS1.2", "NORMAL:-VERS-TLS-ALL:+VERS-TLS1.2"},
	} {
		t.Run(v.name, func(t *testing.T) {
			before := s.transfers("tls=true", "result=ok")
			dir := t.TempDir()
			full, part := filepath.Join(dir, "full.mkv"), filepath.Join(dir, "part.mkv")
			have := 2_000_001 + 10*i // an offset of its own for each run
			if err := os.WriteFile(part, s.body[:have], 0o644); err != nil {
				t.Fatal(err)
			}
			setup := func(user, pass string) string {
				return strings.Join([]string{
					"set cmd:fail-exit true",
					"set net:max-retries 1",
					"set net:timeout 20",
					"set ftp:ssl-force true",
					"set ftp:ssl-protect-data true",
					"set ssl:verify-certificate true",
					"set ssl:ca-file " + s.cert.file,
					"set ssl:priority " + v.priority,
					fmt.Sprintf("open -u %s,%s -p %s ftp://%s", user, pass, s.port, s.host),
				}, "; ")
			}
			listing := string(run(t, lftp, "-c", setup("anonymous", "x")+"; cls -l /Media/Films/"))
			if !strings.Contains(listing, "film.mkv") || !strings.Contains(listing, "Extras") {
				t.Errorf("cls -l: %q", listing)
			}
			run(t, lftp, "-c", setup("anonymous", "x")+"; get /Media/Films/film.mkv -o "+full+"; get -c /Media/Films/film.mkv -o "+part)
			for _, p := range []string{full, part} {
				if got, _ := os.ReadFile(p); !bytes.Equal(got, s.body) {
					t.Errorf("%s: %d bytes, not the film's %d", filepath.Base(p), len(got), len(s.body))
				}
			}
			if s.transfers(fmt.Sprintf("offset=%d", have), "tls=true", "result=ok") != 1 {
				t.Error("get -c did not resume with REST at the partial file's end, over TLS")
			}
			private := filepath.Join(dir, "private.mkv")
			run(t, lftp, "-c", setup("alice", alicePassword)+"; get /Home/private.mkv -o "+private)
			if got, _ := os.ReadFile(private); string(got) != "alice only" {
				t.Errorf("lftp as alice: got %q", got)
			}
			if n := s.transfers("tls=true", "result=ok") - before; n != 4 {
				t.Errorf("%d transfers over TLS, want 4", n)
			}
			version := strings.Replace(v.name, "TLS", "TLS ", 1)
			if s.logs.count("TLS on", `version="`+version+`"`) == 0 {
				t.Errorf("no control connection used %s", version)
			}
		})
	}
	s.checkLog(t)
}

// ftplibScript drives Python's ftplib.FTP_TLS. Mode "plain" is FTP_TLS as
// it is, which makes each data connection a new TLS session: it must be
// refused. Mode "reuse" wraps data connections with the control
// connection's session, the well-known recipe. Output: one line per step.
const ftplibScript = `
import ftplib, ssl, sys
host, port, cafile, mode, version, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=cafile)
if version == "1.2":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
else:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3

resumed = []

class Reuse(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
            resumed.append(conn.session_reused)
        return conn, size

cls = Reuse if mode == "reuse" else ftplib.FTP_TLS
f = cls(context=ctx, timeout=20)
f.connect(host, port)
user = sys.argv[7] if len(sys.argv) > 7 else "anonymous"
password = sys.argv[8] if len(sys.argv) > 8 else "x"
f.login(user, password)
f.prot_p()
print("tls", f.sock.version())
if mode == "plain":
    try:
        f.retrbinary("RETR /Media/Films/film.mkv", lambda b: None)
        print("retr ok")
    except ftplib.error_perm as e:
        print("final", e)
    except Exception as e:
        print("data error", type(e).__name__)
        try:
            f.voidresp()
        except ftplib.error_perm as e:
            print("final", e)
    f.voidcmd("NOOP")
    print("session goes on")
    f.quit()
    sys.exit(0)
print("nlst", ",".join(f.nlst("/Media/Films")))
lines = []
f.retrlines("LIST /Media/Films", lines.append)
print("list", len(lines))
print("mlsd", ",".join(sorted(name for name, facts in f.mlsd("/Media/Films"))))
with open(out, "wb") as w:
    f.retrbinary("RETR /Media/Films/film.mkv", w.write)
with open(out + ".rest", "wb") as w:
    f.retrbinary("RETR /Media/Films/film.mkv", w.write, rest=1234567)
if user != "anonymous":
    got = []
    f.retrbinary("RETR /Home/private.mkv", got.append)
    print("private", b"".join(got).decode())
print("data connections", len(resumed), "all resumed", all(resumed))
f.quit()
`

// TestPythonFTPS drives Python's ftplib.FTP_TLS with TLS 1.3 and 1.2: as
// it is, its data connections do not resume the session and get 522; the
// recipe that passes the control connection's session lists, downloads
// byte for byte and resumes with REST.
func TestPythonFTPS(t *testing.T) {
	python := testtool.Need(t, "/usr/bin/python3")
	s := newTLSClientServer(t)
	script := filepath.Join(t.TempDir(), "ftps.py")
	if err := os.WriteFile(script, []byte(ftplibScript), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"1.3", "1.2"} {
		t.Run("TLS"+version, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "film.mkv")
			args := []string{script, s.host, s.port, s.cert.file}
			plain := string(run(t, python, append(args, "plain", version, out)...))
			t.Logf("ftplib as it is:\n%s", plain)
			if !strings.Contains(plain, "final 522 Data connections must resume the TLS session of the control connection.") ||
				!strings.Contains(plain, "session goes on") {
				t.Errorf("ftplib without session reuse: %q, want a 522 and the session going on", plain)
			}
			refused := s.logs.count("did not resume")
			if refused == 0 {
				t.Error("the refusal is not logged")
			}

			reuse := string(run(t, python, append(args, "reuse", version, out, "alice", alicePassword)...))
			t.Logf("ftplib with the control connection's session:\n%s", reuse)
			for _, want := range []string{"tls TLSv" + version, "nlst Extras,film.mkv\n", "list 2\n", "mlsd Extras,film.mkv\n",
				"private alice only\n", "data connections 6 all resumed True\n"} {
				if !strings.Contains(reuse, want) {
					t.Errorf("ftplib output lacks %q", want)
				}
			}
			if got, _ := os.ReadFile(out); !bytes.Equal(got, s.body) {
				t.Errorf("retrbinary: %d bytes, not the film's %d", len(got), len(s.body))
			}
			if got, _ := os.ReadFile(out + ".rest"); !bytes.Equal(got, s.body[1234567:]) {
				t.Errorf("retrbinary with rest: %d bytes, not the film's last %d", len(got), len(s.body)-1234567)
			}
			if n := s.logs.count("did not resume"); n != refused {
				t.Errorf("%d data connections of the recipe were refused", n-refused)
			}
		})
	}
	checkNoPassword(t, s.logs, alicePassword)
}

// TestGoClientFTPS drives github.com/jlaffaye/ftp with DialWithExplicitTLS.
// It wraps each data connection with the config it was given, so with a
// ClientSessionCache and the server name set its data connections resume
// the control connection's session; without a cache they are refused.
func TestGoClientFTPS(t *testing.T) {
	s := newTLSClientServer(t)
	for _, v := range tlsVersions {
		t.Run(v.name, func(t *testing.T) {
			conf := s.cert.clientConfig(v.version, true)
			cl, err := ftp.Dial(s.Addr, ftp.DialWithExplicitTLS(conf), ftp.DialWithTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Quit()
			if err := cl.Login("alice", alicePassword); err != nil {
				t.Fatalf("Login: %v", err)
			}
			entries, err := cl.List("/Media/Films")
			if err != nil || len(entries) != 2 {
				t.Fatalf("List: %v, %v", entries, err)
			}
			for _, off := range []uint64{0, 777_777} {
				r, err := cl.RetrFrom("/Media/Films/film.mkv", off)
				if err != nil {
					t.Fatalf("RetrFrom(%d): %v", off, err)
				}
				got, err := io.ReadAll(r)
				if err != nil {
					t.Fatalf("RetrFrom(%d): reading: %v", off, err)
				}
				if err := r.Close(); err != nil {
					t.Fatalf("RetrFrom(%d): Close: %v", off, err)
				}
				if !bytes.Equal(got, s.body[off:]) {
					t.Errorf("RetrFrom(%d): %d bytes, not the film's last %d", off, len(got), len(s.body)-int(off))
				}
			}
			r, err := cl.Retr("/Home/private.mkv")
			if err != nil {
				t.Fatalf("Retr of alice's file: %v", err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			if string(got) != "alice only" {
				t.Errorf("alice's file: got %q", got)
			}

			// Without a session cache: every data connection is refused.
			nocache := s.cert.clientConfig(v.version, false)
			cl2, err := ftp.Dial(s.Addr, ftp.DialWithExplicitTLS(nocache), ftp.DialWithTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer cl2.Quit()
			if err := cl2.Login("anonymous", "x"); err != nil {
				t.Fatalf("Login: %v", err)
			}
			if _, err := cl2.List("/Media/Films"); err == nil {
				t.Error("List without a session cache succeeded")
			}
		})
	}
	checkNoPassword(t, s.logs, alicePassword)
}

// TestOpenSSLRenegotiation asks for a TLS 1.2 renegotiation with openssl
// s_client ("R" on a line of its own): Go servers never renegotiate, so
// the session ends, and the server goes on serving.
func TestOpenSSLRenegotiation(t *testing.T) {
	openssl := testtool.Need(t, "openssl")
	s := newTLSClientServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-no_tls1_3", "-crlf", "-CAfile", s.cert.file,
		"-connect", s.Addr, "-starttls", "ftp")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "USER anonymous\nPASS x\n")
	waitFor(t, "openssl to log in", func() bool { return s.logs.count("logged in", "user=anonymous") == 1 })
	io.WriteString(stdin, "R\n")
	waitFor(t, "the session to end", func() bool { return s.sessionCount() == 0 })
	stdin.Close()
	cmd.Wait()
	t.Logf("openssl s_client:\n%s", out.String())
	if !strings.Contains(out.String(), "RENEGOTIATING") {
		t.Error("openssl did not try to renegotiate")
	}
	if s.logs.count("verb=NOOP") != 0 || s.logs.count("panic") != 0 {
		t.Error("unexpected log lines")
	}

	conf := s.cert.clientConfig(tls.VersionTLS12, true)
	c := loginTLS(t, s.Addr, conf)
	if got := c.transferTLS("RETR /Media/Films/film.mkv", conf); got != string(s.body) {
		t.Errorf("RETR after the renegotiation attempt: %d bytes", len(got))
	}
}
