package ftpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tlsVersions are the versions the app allows, each tested on its own:
// resumption works differently in them (RFC 5077 tickets in TLS 1.2, PSKs
// from NewSessionTicket in TLS 1.3).
var tlsVersions = []struct {
	name    string
	version uint16
}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}}

// TestTLSReplies checks the replies of AUTH, PBSZ, PROT and CCC, in and out
// of order, FEAT with TLS, and what STAT says of encryption.
func TestTLSReplies(t *testing.T) {
	ts, _, cert := newTLSTestServer(t, nil)
	conf := cert.clientConfig(tls.VersionTLS13, true)

	c := dialCtrl(t, ts.Addr)
	feat := c.cmd("FEAT", 211)
	for _, f := range []string{" AUTH TLS\r\n", " PBSZ\r\n", " PROT\r\n", " UTF8\r\n", " EPSV\r\n"} {
		if !strings.Contains(feat, f) {
			t.Errorf("FEAT %q lacks %q", feat, f)
		}
	}
	for _, tc := range []struct {
		line string
		want string
	}{
		{"PBSZ 0", "503 PBSZ needs AUTH TLS first.\r\n"},
		{"PROT P", "503 PROT needs PBSZ first.\r\n"},
		{"CCC", "533 Denied by policy: the control connection stays encrypted.\r\n"},
		{"AUTH KERBEROS_V4", "504 Only AUTH TLS is supported.\r\n"},
		{"AUTH", "501 AUTH needs a mechanism: AUTH TLS.\r\n"},
	} {
		c.send(tc.line)
		if _, got := c.reply(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.line, got, tc.want)
		}
	}
	if got, want := c.cmd("AUTH tls", 234), "234 Proceed with the TLS handshake.\r\n"; got != want {
		t.Errorf("AUTH tls: got %q, want %q", got, want)
	}
	c.startTLS(conf)
	for _, tc := range []struct {
		line string
		want string
	}{
		{"AUTH TLS", "503 Already using TLS.\r\n"},
		{"PROT P", "503 PROT needs PBSZ first.\r\n"},
		{"PBSZ x", "501 PBSZ needs a number: PBSZ 0.\r\n"},
		{"PBSZ 0", "200 PBSZ=0\r\n"},
		{"PBSZ 1024", "200 PBSZ=0\r\n"},
		{"PROT S", "536 PROT S is not supported with TLS; use P or C.\r\n"},
		{"PROT E", "536 PROT E is not supported with TLS; use P or C.\r\n"},
		{"PROT Q", "504 Unknown PROT level; use P or C.\r\n"},
		{"PROT", "501 PROT needs a level: P or C.\r\n"},
		{"PROT c", "200 PROT now Clear.\r\n"},
		{"PROT p", "200 PROT now Private.\r\n"},
		{"CCC", "533 Denied by policy: the control connection stays encrypted.\r\n"},
		{"USER anonymous", "331 Please specify the password.\r\n"},
		{"PASS x", "230 Login successful.\r\n"},
	} {
		c.send(tc.line)
		if _, got := c.reply(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.line, got, tc.want)
		}
	}
	stat := c.cmd("STAT", 211)
	for _, want := range []string{" Logged in anonymously\r\n", " Control connection: encrypted (TLS 1.3)\r\n", " Data connections: encrypted (PROT P)\r\n"} {
		if !strings.Contains(stat, want) {
			t.Errorf("STAT %q lacks %q", stat, want)
		}
	}
	c.cmd("QUIT", 221)
	expectEOF(t, c)

	// AUTH SSL is an alias.
	c = dialCtrl(t, ts.Addr)
	c.cmd("AUTH SSL", 234)
	c.startTLS(conf)
	c.cmd("NOOP", 200)
	c.cmd("QUIT", 221)

	// In clear text, STAT says so.
	c = login(t, ts.Addr)
	stat = c.cmd("STAT", 211)
	for _, want := range []string{" Control connection: clear text\r\n", " Data connections: clear text\r\n"} {
		if !strings.Contains(stat, want) {
			t.Errorf("STAT %q lacks %q", stat, want)
		}
	}
}

// TestNoTLSReplies checks that without TLSConfig the security commands are
// answered as before TLS existed, and FEAT offers none of them.
func TestNoTLSReplies(t *testing.T) {
	ts, _ := newTestServer(t, nil)
	c := dialCtrl(t, ts.Addr)
	checkFEAT(t, c.cmd("FEAT", 211))
	for _, line := range []string{"AUTH TLS", "AUTH SSL", "AUTH", "PBSZ 0", "PROT P", "CCC"} {
		if got, want := c.cmd(line, 502), "502 Command not implemented.\r\n"; got != want {
			t.Errorf("%s: got %q, want %q", line, got, want)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Server{Shares: ts.Set}).ServeTLS(l); err == nil {
		t.Error("ServeTLS without TLSConfig did not fail")
	}
}

// TestTLSTransfers lists, downloads and resumes over TLS data connections
// that resume the control connection's session, with TLS 1.2 and 1.3,
// and then with PROT C in clear text over the same encrypted session.
func TestTLSTransfers(t *testing.T) {
	ts, dir, cert := newTLSTestServer(t, nil)
	body := pattern(7, 3<<20+12345)
	writeData(t, dir, "Films/film.mkv", body)
	writeFile(t, dir, "Films/Extras/trailer.mp4", "trailer")

	for _, v := range tlsVersions {
		t.Run(v.name, func(t *testing.T) {
			conf := cert.clientConfig(v.version, true)
			c := loginTLS(t, ts.Addr, conf)
			if got := c.tlsVersion(); got != v.version {
				t.Fatalf("control connection uses %s", tls.VersionName(got))
			}
			if got, want := c.transferTLS("NLST /Media/Films", conf), "Extras\r\nfilm.mkv\r\n"; got != want {
				t.Errorf("NLST: got %q, want %q", got, want)
			}
			if got := c.transferTLS("LIST /Media/Films", conf); !strings.Contains(got, " film.mkv\r\n") || !strings.HasPrefix(got, "d") {
				t.Errorf("LIST: got %q", got)
			}
			if got := c.transferTLS("MLSD /Media/Films", conf); !strings.Contains(got, fmt.Sprintf("type=file;size=%d;", len(body))) {
				t.Errorf("MLSD: got %q", got)
			}
			if got := c.transferTLS("RETR /Media/Films/film.mkv", conf); got != string(body) {
				t.Errorf("RETR: got %d bytes, not the file's %d", len(got), len(body))
			}
			const from = 1<<20 + 7
			c.cmd(fmt.Sprintf("REST %d", from), 350)
			if got := c.transferTLS("RETR /Media/Films/film.mkv", conf); got != string(body[from:]) {
				t.Errorf("RETR after REST %d: got %d bytes, not the file's last %d", from, len(got), len(body)-from)
			}
			c.cmd(fmt.Sprintf("REST %d", len(body)), 350)
			if got := c.transferTLS("RETR /Media/Films/film.mkv", conf); got != "" {
				t.Errorf("RETR after REST at the end: got %d bytes", len(got))
			}

			var info SessionInfo
			for _, si := range ts.Sessions() {
				if si.Remote == c.c.LocalAddr().String() {
					info = si
				}
			}
			if !info.TLS || !info.DataTLS || info.Account != "" || info.User != "anonymous" {
				t.Errorf("session info %+v: want TLS, DataTLS, anonymous", info)
			}

			// Active mode: the server connects, and is the TLS server all
			// the same (RFC 4217).
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			c.cmd("PORT "+portArg(t, ln.Addr()), 200)
			c.cmd("RETR /Media/Films/film.mkv", 150)
			tc := tlsData(t, acceptActive(t, ln), conf)
			if !tc.ConnectionState().DidResume {
				t.Error("active mode: the data connection did not resume the TLS session")
			}
			if got := readAll(t, tc); got != string(body) {
				t.Errorf("RETR in active mode: got %d bytes, not the file's %d", len(got), len(body))
			}
			tc.Close()
			c.expect(226)

			// PROT C: clear data over the encrypted control connection.
			c.cmd("PROT C", 200)
			if got := c.retr("/Media/Films/film.mkv"); got != string(body) {
				t.Errorf("RETR with PROT C: got %d bytes, not the file's %d", len(got), len(body))
			}
			c.cmd("QUIT", 221)
		})
	}
}

// TestTLSDataMustResume connects data connections that do not resume the
// control connection's TLS session: one from a client without a session
// cache, one from a thief holding a ticket of its own session who takes
// the passive port first. Each gets the TLS handshake and then nothing,
// the transfer's reply is 522, and the session goes on.
func TestTLSDataMustResume(t *testing.T) {
	ts, dir, cert := newTLSTestServer(t, nil)
	const body = "not for thieves"
	writeFile(t, dir, "a.mkv", body)
	const want522 = "522 Data connections must resume the TLS session of the control connection.\r\n"

	for _, v := range tlsVersions {
		t.Run(v.name, func(t *testing.T) {
			conf := cert.clientConfig(v.version, true)
			c := loginTLS(t, ts.Addr, conf)

			// A client without a session cache cannot resume.
			d := dialData(t, c.epsv())
			c.cmd("RETR /Media/a.mkv", 150)
			readRefused(t, tlsData(t, d, cert.clientConfig(v.version, false)))
			if got := c.expect(522); got != want522 {
				t.Errorf("no session cache: got %q, want %q", got, want522)
			}

			// A thief on the same address, with a session of its own.
			thiefConf := cert.clientConfig(v.version, true)
			thief := loginTLS(t, ts.Addr, thiefConf)
			thief.cmd("NOOP", 200) // reads its TLS 1.3 ticket
			addr := c.epsv()
			td := dialData(t, addr)
			c.cmd("RETR /Media/a.mkv", 150)
			readRefused(t, tlsData(t, td, thiefConf))
			if got := c.expect(522); got != want522 {
				t.Errorf("thief: got %q, want %q", got, want522)
			}

			// The session goes on, and its own data connections work.
			if got := c.transferTLS("RETR /Media/a.mkv", conf); got != body {
				t.Errorf("RETR after the refusals: got %q", got)
			}
			c.cmd("QUIT", 221)
			thief.cmd("QUIT", 221)
		})
	}
}

// TestTLSForeignDataConnection: under TLS too, a connection to the passive
// port from another address is dropped unread, and the client's own is
// served.
func TestTLSForeignDataConnection(t *testing.T) {
	ts, dir, cert := newTLSTestServer(t, nil)
	const body = "not for thieves"
	writeFile(t, dir, "a.mkv", body)
	conf := cert.clientConfig(tls.VersionTLS13, true)
	c := loginTLS(t, ts.Addr, conf)
	addr := c.pasv()

	thiefDialer := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	thief, err := thiefDialer.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot connect from 127.0.0.2: %v", err)
	}
	defer thief.Close()
	c.cmd("RETR /Media/a.mkv", 150)
	if n := awaitClosed(t, thief); n != 0 {
		t.Errorf("the connection from 127.0.0.2 got %d bytes", n)
	}
	tc := tlsData(t, dialData(t, addr), conf)
	if got := readAll(t, tc); got != body {
		t.Errorf("got %q, want %q", got, body)
	}
	tc.Close()
	c.expect(226)
}

// TestTLSAbortAndStall checks that ABOR ends a TLS transfer whose client
// stopped reading (426 then 226), with progress recorded meanwhile, and
// that the stall timeout ends one too.
func TestTLSAbortAndStall(t *testing.T) {
	head := pattern(8, 1<<20)
	start := func(ts *testServer, c *ctrl, conf *tls.Config) net.Conn {
		d := dialStalling(t, c.epsv())
		c.cmd("RETR /Media/big.mkv", 150)
		tc := tlsData(t, d, conf)
		if got := readN(t, tc, 64<<10); !bytes.Equal(got, head[:64<<10]) {
			t.Fatal("the TLS transfer does not start with the file's first bytes")
		}
		return d
	}
	for _, stall := range []time.Duration{0, 300 * time.Millisecond} {
		ts, dir, cert := newTLSTestServer(t, func(s *Server) { s.StallTimeout = stall })
		film := sparseFile(t, dir, "big.mkv", stallSize)
		writeAt(t, film, 0, head)
		writeFile(t, dir, "small.mkv", "small")
		conf := cert.clientConfig(tls.VersionTLS13, true)
		c := loginTLS(t, ts.Addr, conf)
		d := start(ts, c, conf)
		if stall == 0 {
			// ABOR while the client reads nothing; the stall timeout is
			// ten minutes, so ABOR is what ends the transfer.
			waitFor(t, "progress of the TLS transfer", func() bool {
				s := ts.Sessions()
				return len(s) == 1 && s[0].Transfer != nil && s[0].Transfer.Sent >= 64<<10
			})
			abortStrict(t, c, d)
		} else {
			c.expect(426) // tryReply waits up to 10 s, far beyond the stall timeout
			awaitClosed(t, d)
		}
		c.cmd("NOOP", 200)
		if got := c.transferTLS("RETR /Media/small.mkv", conf); got != "small" {
			t.Errorf("RETR after the end of the stalled one: got %q", got)
		}
		c.cmd("QUIT", 221)
	}
}

// TestImplicitTLS serves implicit FTPS: the handshake comes before the
// greeting, and data is protected without PBSZ or PROT.
func TestImplicitTLS(t *testing.T) {
	ts, dir, cert := newTLSTestServer(t, nil)
	body := pattern(9, 200_000)
	writeData(t, dir, "a.mkv", body)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.ServeTLS(l) // ended by the test server's Shutdown

	for _, v := range tlsVersions {
		t.Run(v.name, func(t *testing.T) {
			conf := cert.clientConfig(v.version, true)
			raw, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			c := &ctrl{t: t, c: raw}
			c.startTLS(conf)
			c.expect(220)
			c.cmd("AUTH TLS", 503)
			c.cmd("USER anonymous", 331)
			c.cmd("PASS x", 230)
			if got := c.transferTLS("RETR /Media/a.mkv", conf); got != string(body) {
				t.Errorf("RETR: got %d bytes, want %d", len(got), len(body))
			}
			// Clients send PBSZ and PROT anyway.
			c.cmd("PBSZ 0", 200)
			c.cmd("PROT P", 200)
			if got := c.transferTLS("NLST /Media", conf); got != "a.mkv\r\n" {
				t.Errorf("NLST: got %q", got)
			}
			c.cmd("QUIT", 221)
		})
	}
}

// TestTLSSessionInfo checks the status model of TLS sessions.
func TestTLSSessionInfo(t *testing.T) {
	ts, _, cert := newTLSTestServer(t, nil)
	c := dialTLSCtrl(t, ts.Addr, cert.clientConfig(tls.VersionTLS12, true))
	c.cmd("USER ftp", 331)
	c.cmd("PASS x", 230)
	got := ts.Sessions()
	if len(got) != 1 || !got[0].TLS || got[0].DataTLS || got[0].Account != "" {
		t.Errorf("sessions %+v: want one TLS session without PROT P", got)
	}
}

// TestTLSHostile sends what a hostile or broken client sends at the TLS
// layer: garbage instead of a ClientHello, a handshake that never
// finishes, clear text pipelined after AUTH, an implicit FTPS connection
// that says nothing or garbage. Each ends its own session only, without
// a panic; after each the server still serves a download over TLS.
func TestTLSHostile(t *testing.T) {
	logs := &logCapture{t: t}
	ts, dir, cert := newTLSTestServer(t, func(s *Server) {
		s.HandshakeTimeout = 300 * time.Millisecond
		s.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	body := pattern(10, 100_000)
	writeData(t, dir, "a.mkv", body)
	implicit, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ts.ServeTLS(implicit)
	conf := cert.clientConfig(tls.VersionTLS13, true)
	waitFor(t, "the implicit listener", func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		return len(ts.listeners) == 2
	})
	baseGoroutines := runtime.NumGoroutine()

	// A real ClientHello's first bytes, for a handshake that stops midway.
	hello := clientHelloBytes(t, conf)

	for _, tc := range []struct {
		name     string
		implicit bool
		send     []byte // after the 234 reply (explicit) or at once (implicit)
	}{
		{"garbage after AUTH TLS", false, []byte("GET / HTTP/1.0\r\n\r\n")},
		{"binary garbage after AUTH TLS", false, pattern(11, 4096)},
		{"silence after AUTH TLS", false, nil},
		{"half a ClientHello", false, hello[:len(hello)/2]},
		{"FTP commands instead of TLS", false, []byte("USER anonymous\r\nPASS x\r\n")},
		{"implicit: silence", true, nil},
		{"implicit: garbage", true, []byte("USER anonymous\r\n")},
		{"implicit: half a ClientHello", true, hello[:len(hello)/2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw net.Conn
			if tc.implicit {
				raw = dialData(t, implicit.Addr().String())
			} else {
				c := dialCtrl(t, ts.Addr)
				c.cmd("AUTH TLS", 234)
				raw = c.c
			}
			if tc.send != nil {
				raw.Write(tc.send)
			}
			// The server ends the session: at once for garbage, after the
			// handshake timeout for silence. What it sends (an alert) is
			// no FTP reply.
			awaitClosed(t, raw)
			waitFor(t, "the session to end", func() bool { return ts.sessionCount() == 0 })
			c := loginTLS(t, ts.Addr, conf)
			if got := c.transferTLS("RETR /Media/a.mkv", conf); got != string(body) {
				t.Fatalf("RETR after it: got %d bytes, want %d", len(got), len(body))
			}
			c.cmd("QUIT", 221)
			waitFor(t, "the checking session to end", func() bool { return ts.sessionCount() == 0 })
		})
	}

	// Clear text pipelined after AUTH TLS could be taken as sent under TLS
	// (CVE-2011-0411): the session ends instead.
	c := dialCtrl(t, ts.Addr)
	c.send("AUTH TLS\r\nUSER anonymous")
	if got, want := c.expect(421), "421 Send nothing after AUTH until its reply.\r\n"; got != want {
		t.Errorf("AUTH TLS with a command after it: got %q, want %q", got, want)
	}
	expectEOF(t, c)

	waitFor(t, "the goroutines to return to their baseline", func() bool {
		return runtime.NumGoroutine() <= baseGoroutines+2
	})
	if n := logs.count("panic"); n != 0 {
		t.Errorf("%d log lines tell of a panic", n)
	}
	if n := logs.count("level=DEBUG", "TLS handshake failed"); n < 5 {
		t.Errorf("%d failed TLS handshakes logged at debug level, want the 5 explicit ones", n)
	}
}

// clientHelloBytes returns the first flight of a Go TLS client with conf:
// a ClientHello record.
func clientHelloBytes(t *testing.T, conf *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		tls.Client(b, conf).Handshake() // fails once a is closed
		b.Close()
	}()
	buf := make([]byte, 16<<10)
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := a.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestTLSIdleAndShutdown checks that the idle timeout and Shutdown end a
// TLS session as they end a clear one: 421 over TLS, then the close.
func TestTLSIdleAndShutdown(t *testing.T) {
	ts, _, cert := newTLSTestServer(t, func(s *Server) { s.IdleTimeout = 300 * time.Millisecond })
	conf := cert.clientConfig(tls.VersionTLS13, true)
	c := loginTLS(t, ts.Addr, conf)
	if got, want := c.expect(421), "421 Timeout: no command for too long.\r\n"; got != want {
		t.Errorf("idle TLS session: got %q, want %q", got, want)
	}
	expectEOF(t, c)

	ts.SetLimits(Limits{IdleTimeout: time.Hour})
	c = loginTLS(t, ts.Addr, conf)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := shutdownAsync(ts.Server, ctx)
	if got, want := c.expect(421), "421 Server shutting down.\r\n"; got != want {
		t.Errorf("TLS session at Shutdown: got %q, want %q", got, want)
	}
	expectEOF(t, c)
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
