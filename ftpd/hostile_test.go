package ftpd

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// TestHostileSuite runs every kind of hostile input at one server over one
// tree, and then proves that the tree and what lies next to it are
// unchanged, that no reply or data connection carried a byte of what is
// outside the share or hidden in it, and that the server still serves and
// is back to its baseline. The separate tests (TestEscapesRefused,
// TestLongAndGarbageLines, TestFloodReturnsToBaseline, ...) pin each
// protection down; this one shows they hold together.
func TestHostileSuite(t *testing.T) {
	ts, dir := newTestServer(t, func(s *Server) {
		s.MaxClients = 24
		s.MaxPerIP = 24
	})
	secret := escapeTree(t, dir)
	film := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	if err := os.WriteFile(filepath.Join(dir, "sub", "big.mkv"), film, 0o644); err != nil {
		t.Fatal(err)
	}
	host := filepath.Dir(dir)
	before, _ := testtool.TreeDigest(t, host)
	baseGoroutines := runtime.NumGoroutine()

	var st hostileStats
	// leaked fails the test if data from a client's point of view shows
	// anything outside the share or hidden in it.
	leaked := func(what string, data []byte) {
		t.Helper()
		st.bytes += int64(len(data))
		low := bytes.ToLower(data)
		for _, w := range [][]byte{[]byte("top secret"), []byte("hidden"), []byte("gitconfig"), []byte(host)} {
			if bytes.Contains(low, bytes.ToLower(w)) {
				st.leaks++
				t.Errorf("%s: %q shows %q", what, trunc(string(data)), w)
			}
		}
	}

	// 1. Paths: every way of naming something outside the share or hidden
	// in it, with every command that takes a path, from three folders.
	var paths []string
	for _, prefix := range []string{"", "/", "/Media/", "Media/", "sub/", "/Media/sub/", "./"} {
		for _, climb := range []string{
			"..", "../..", "../../..", `..\..`, `..\`, "%2e%2e", "%2E%2E%2F..", "..%2f..", "%c0%ae%c0%ae",
			"....//..", ".../..", "..;/..", ".%2e", "\uff0e\uff0e", "..\x00", "up", "abs-up", "loop1", "self",
		} {
			for _, target := range []string{"", "/secret", "/etc/passwd", "/.hidden", "/.git/config", "/Media/.hidden"} {
				paths = append(paths, prefix+climb+target)
			}
		}
		for _, target := range []string{".hidden", ".git", ".git/config", "abs-secret", "rel-secret", "dangling", "fifo", "fifo-link", secret} {
			paths = append(paths, prefix+target)
		}
	}
	c := login(t, ts.Addr)
	for _, cwd := range []string{"/", "/Media", "/Media/sub"} {
		for _, p := range paths {
			for _, verb := range pathCommands {
				c.cmd("CWD "+cwd, 250)
				st.inputs++
				switch verb {
				case "RETR", "LIST", "NLST", "MLSD":
					d := dialData(t, c.epsv())
					c.send(verb + " " + p)
					code, raw := c.reply()
					leaked(verb+" "+p, []byte(raw))
					if code == 150 {
						data := readAll(t, d)
						leaked(verb+" "+p+" (data)", []byte(data))
						if verb == "RETR" {
							t.Errorf("RETR %q from %s was served: %q", p, cwd, trunc(data))
						}
						if strings.Contains(data, "secret") {
							t.Errorf("%s %q from %s lists the host folder: %q", verb, p, cwd, trunc(data))
						}
						_, raw = c.reply()
						leaked(verb+" "+p, []byte(raw))
					} else {
						st.refused++
					}
					d.Close()
				default:
					c.send(verb + " " + p)
					code, raw := c.reply()
					leaked(verb+" "+p, []byte(raw))
					if code >= 400 {
						st.refused++
					}
					if verb == "CWD" && code == 250 {
						// Wherever it went, it is inside the share and
						// shows nothing hidden or outside.
						leaked("LIST after CWD "+p, []byte(c.list("LIST -a")))
					}
				}
			}
		}
	}

	// 2. Every write verb, on files, folders, and outside.
	for _, verb := range []string{"STOR", "STOU", "APPE", "DELE", "MKD", "XMKD", "RMD", "XRMD", "RNFR", "RNTO", "SITE CHMOD 777", "SITE EXEC", "MFMT 20000101000000", "MFF modify=20000101000000;"} {
		for _, p := range []string{"sub/film.mkv", "sub", "new", "../secret", secret, ".hidden"} {
			st.inputs++
			c.send(verb + " " + p)
			if code, raw := c.reply(); code != 550 && code != 500 && code != 502 {
				t.Errorf("%s %s: got %q, want a refusal", verb, p, raw)
			} else {
				st.refused++
			}
		}
	}

	// 3. Garbage: random bytes, invalid UTF-8 and control characters, a
	// line at a time. Each gets a reply; the session goes on.
	rng := rand.New(rand.NewPCG(8, 8))
	g := login(t, ts.Addr)
	for i := range 2000 {
		line := make([]byte, 1+rng.IntN(300))
		for j := range line {
			line[j] = byte(rng.IntN(256))
			for line[j] == '\n' || line[j] == '\r' {
				line[j] = byte(rng.IntN(256))
			}
		}
		if i%3 == 0 { // a real verb with a garbage argument
			line = append([]byte(pathCommands[i%len(pathCommands)]+" "), line...)
		}
		st.inputs++
		g.send(string(line))
		code, raw, err := g.tryReply()
		if err != nil {
			t.Fatalf("garbage line %q cut the session: %v", trunc(string(line)), err)
		}
		leaked("garbage", []byte(raw))
		if code == 150 {
			t.Fatalf("garbage line %q started a transfer: %q", trunc(string(line)), raw)
		}
		if code >= 400 {
			st.refused++
		}
		if code == 250 { // a CWD that went somewhere: come back
			g.cmd("CWD /", 250)
		}
	}
	g.cmd("NOOP", 200)

	// 4. A storm: 20,000 commands in one write, as fast as the socket
	// takes them. Every one is answered in order; another client is served
	// meanwhile.
	storm := login(t, ts.Addr)
	const stormN = 20000
	go func() {
		var b bytes.Buffer
		for i := range stormN {
			fmt.Fprintf(&b, "%s\r\n", []string{"NOOP", "SYST", "PWD", "TYPE I", "SIZE /Media/sub/film.mkv"}[i%5])
		}
		storm.c.SetWriteDeadline(time.Now().Add(time.Minute))
		storm.c.Write(b.Bytes())
	}()
	other := login(t, ts.Addr)
	if got := other.retr("/Media/sub/big.mkv"); got != string(film) {
		t.Errorf("during the storm, RETR returned %d bytes, want %d", len(got), len(film))
	}
	for i := range stormN {
		code, _ := storm.reply()
		if want := []int{200, 215, 257, 200, 213}[i%5]; code != want {
			t.Fatalf("storm reply %d: code %d, want %d", i, code, want)
		}
	}
	st.inputs += stormN

	// 5. Endless lines: megabytes without a newline cut the session, and
	// the server's memory does not grow with them.
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc
	for range 4 {
		long := login(t, ts.Addr)
		done := make(chan struct{})
		go func() {
			defer close(done)
			long.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			long.c.Write(bytes.Repeat([]byte{0xfe, 'A'}, 2<<20))
		}()
		if code, raw, err := long.tryReply(); err != nil || code != 500 {
			t.Errorf("4 MiB line: got %q, %v; want 500", raw, err)
		}
		if _, raw, err := long.tryReply(); err == nil {
			t.Errorf("the session goes on after a 4 MiB line: %q", raw)
		}
		long.c.Close()
		<-done
		st.inputs++
		st.cut++
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	// 16 MiB were sent; the server may keep a line buffer per session,
	// never the lines.
	if grown := int64(ms.HeapAlloc) - int64(heapBefore); grown > 4<<20 {
		t.Errorf("heap grew by %d bytes after four 4 MiB lines", grown)
	}

	// 6. Bounce and theft: PORT and EPRT to anyone else are refused; a
	// connection to a passive port from another address gets nothing, and
	// the real transfer still works.
	for _, arg := range []string{"PORT 10,0,0,1,4,1", "PORT 127,0,0,2,4,1", "PORT 127,0,0,1,0,21", "EPRT |1|10.0.0.1|1025|", "EPRT |2|::1|1025|", "EPRT |1|127.0.0.1|25|"} {
		st.inputs++
		c.send(arg)
		if code, raw := c.reply(); code < 500 {
			t.Errorf("%s: got %q, want a refusal", arg, raw)
		} else {
			st.refused++
		}
	}
	addr := c.pasv()
	thiefDialer := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	if thief, err := thiefDialer.Dial("tcp", addr); err == nil {
		st.inputs++
		d := dialData(t, addr)
		c.cmd("RETR /Media/sub/film.mkv", 150)
		if got := readAll(t, d); got != "FILM" {
			t.Errorf("the real transfer after a theft attempt got %q", got)
		}
		c.expect(226)
		thief.SetReadDeadline(time.Now().Add(5 * time.Second))
		stolen := make([]byte, 64)
		if n, _ := thief.Read(stolen); n > 0 {
			st.leaks++
			t.Errorf("a connection from another address got %q", stolen[:n])
		}
		thief.Close()
	} else {
		t.Logf("theft from 127.0.0.2 not tried: %v", err)
	}

	// 7. A flood: three times max_clients at once. The excess gets 421;
	// a client that waits its turn is served.
	var flood []net.Conn
	got421 := 0
	for range 3 * 24 {
		conn, err := net.DialTimeout("tcp", ts.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, conn)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 512)
		n, _ := conn.Read(buf)
		if bytes.HasPrefix(buf[:n], []byte("421")) {
			got421++
		}
		st.inputs++
	}
	if got421 < 3*24-24 {
		t.Errorf("%d of %d flood connections got 421, want at least %d", got421, 3*24, 2*24)
	}
	for _, conn := range flood {
		conn.Close()
	}
	for _, cc := range []*ctrl{c, g, storm, other} {
		cc.c.Close()
	}
	waitFor(t, "every session to end", func() bool { return ts.sessionCount() == 0 })
	after := login(t, ts.Addr)
	if got := after.retr("/Media/sub/big.mkv"); got != string(film) {
		t.Errorf("after the suite, RETR returned %d bytes, want %d", len(got), len(film))
	}
	after.cmd("QUIT", 221)
	waitFor(t, "the goroutines to return to their baseline", func() bool {
		return runtime.NumGoroutine() <= baseGoroutines+2
	})

	if now, lines := testtool.TreeDigest(t, host); now != before {
		t.Errorf("the tree changed; now:\n%s", strings.Join(lines, "\n"))
	}
	t.Logf("hostile suite: %d inputs, %d refused, %d sessions cut, %d bytes of replies and data checked, %d leaks",
		st.inputs, st.refused, st.cut, st.bytes, st.leaks)
}

// hostileStats counts what TestHostileSuite tried and saw.
type hostileStats struct {
	inputs, refused, cut, leaks int
	bytes                       int64
}
