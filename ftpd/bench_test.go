package ftpd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

// Benchmarks of the hot paths, with allocation counts. No timing is
// asserted anywhere; cmd/ftpbench compares the whole server with vsftpd.
//
//	go test -run '^$' -bench . -benchmem ./ftpd/
//
// The end-to-end benchmarks (BenchmarkListFolder, BenchmarkSession,
// BenchmarkSeek, BenchmarkIdleSessions) run a real server on loopback and
// a small client in the same process: their allocations include the
// client's few, and their profiles show both ends.

// discardConn is a control connection that takes every write.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

func BenchmarkReply(b *testing.B) {
	r := newReplyWriter(discardConn{}, replyTimeout)
	b.ReportAllocs()
	for b.Loop() {
		r.reply(codeFileStatus, "1073741824")
	}
}

// BenchmarkReplyFormatted is a reply whose text is formatted, as RETR's
// 150 and PASV's 227 are.
func BenchmarkReplyFormatted(b *testing.B) {
	r := newReplyWriter(discardConn{}, replyTimeout)
	b.ReportAllocs()
	for b.Loop() {
		r.reply(codeFileStatusOK, fmt.Sprintf("Opening BINARY mode data connection for %s (%d bytes).", "film.mkv", 1073741824))
	}
}

func BenchmarkReplyLines(b *testing.B) {
	r := newReplyWriter(discardConn{}, replyTimeout)
	lines := []string{" EPRT", " EPSV", " MDTM", " MLST type*;size*;modify*;perm*;", " PASV", " REST STREAM", " SIZE", " TVFS", " UTF8"}
	b.ReportAllocs()
	for b.Loop() {
		r.replyLines(codeSystemStatus, "Features:", lines, "End")
	}
}

func BenchmarkParseCommand(b *testing.B) {
	line := []byte("RETR /Movies/Some Film (2019)/Some Film (2019).mkv\r\n")
	b.ReportAllocs()
	for b.Loop() {
		parseCommand(line)
	}
}

func BenchmarkResolvePath(b *testing.B) {
	for _, bc := range []struct{ name, cwd, arg string }{
		{"absolute", "/", "/Movies/Some Film (2019)/Some Film (2019).mkv"},
		{"relative", "/Movies/Some Film (2019)", "Some Film (2019).mkv"},
		{"dotdot", "/Movies/Some Film (2019)", "../Other Film/./film.mkv"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := resolvePath(vpath(bc.cwd), bc.arg, library.Visible); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchEntry is a typical file of a listing, modified recently so that
// LIST shows a time.
func benchEntry() entry {
	return entry{name: "Clip 01234 - Holiday in the mountains.mkv", size: 734003200, mtime: time.Now().Add(-time.Hour)}
}

func BenchmarkAppendList(b *testing.B) {
	e, now := benchEntry(), time.Now()
	e.mtime = e.mtime.Local()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendList(buf[:0], e, now)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendFacts(b *testing.B) {
	e := benchEntry()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendFacts(buf[:0], e, allFacts, e.name)
	}
	b.SetBytes(int64(len(buf)))
}

// benchFolderSize is the size of the folder the end-to-end listing
// benchmark lists, as cmd/ftpbench's.
const benchFolderSize = 20000

// benchServer starts a quiet server on a share with a folder "many" of
// benchFolderSize empty files and a 64 MiB file "big.bin".
func benchServer(b *testing.B, files int) *testServer {
	b.Helper()
	ts, dir := newTestServer(b, func(srv *Server) {
		srv.Logger = slog.New(slog.DiscardHandler)
		srv.MaxPerIP = 1000
		srv.MaxClients = 1000
	})
	many := filepath.Join(dir, "many")
	if err := os.Mkdir(many, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range files {
		f, err := os.Create(filepath.Join(many, fmt.Sprintf("Clip %05d - Holiday in the mountains.mkv", i)))
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, pattern(1, 64<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	return ts
}

// benchClient is a lean control connection for benchmarks: nothing kept
// per command, and no cleanup registered per connection.
type benchClient struct {
	c net.Conn
	r *bufio.Reader
}

func benchDial(addr string) (*benchClient, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	bc := &benchClient{c: c, r: bufio.NewReaderSize(c, 1024)}
	if _, err := bc.expect(220); err != nil {
		c.Close()
		return nil, err
	}
	return bc, nil
}

func benchLogin(addr string) (*benchClient, error) {
	bc, err := benchDial(addr)
	if err != nil {
		return nil, err
	}
	if _, err := bc.cmd("USER anonymous", 331); err != nil {
		bc.c.Close()
		return nil, err
	}
	if _, err := bc.cmd("PASS x", 230); err != nil {
		bc.c.Close()
		return nil, err
	}
	return bc, nil
}

// expect reads a single-line reply and fails unless it has the code.
func (bc *benchClient) expect(code int) (string, error) {
	bc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bc.r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 4 || line[3] != ' ' || string(line[:3]) != strconv.Itoa(code) {
		return "", fmt.Errorf("got %q, want %d", line, code)
	}
	return string(line[4 : len(line)-2]), nil
}

func (bc *benchClient) cmd(line string, code int) (string, error) {
	bc.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(bc.c, line+"\r\n"); err != nil {
		return "", err
	}
	return bc.expect(code)
}

// epsv sends EPSV and connects to the data port.
func (bc *benchClient) epsv() (net.Conn, error) {
	text, err := bc.cmd("EPSV", 229)
	if err != nil {
		return nil, err
	}
	m := epsvRe.FindStringSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("bad 229 reply %q", text)
	}
	host, _, _ := net.SplitHostPort(bc.c.RemoteAddr().String())
	return net.Dial("tcp", net.JoinHostPort(host, m[1]))
}

// BenchmarkListFolder lists a folder of 20,000 files end to end: EPSV,
// the command, every byte of the listing, the 226.
func BenchmarkListFolder(b *testing.B) {
	ts := benchServer(b, benchFolderSize)
	c, err := benchLogin(ts.Addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.c.Close()
	buf := make([]byte, 256<<10)
	for _, verb := range []string{"LIST", "NLST", "MLSD"} {
		b.Run(verb, func(b *testing.B) {
			var n int64
			b.ReportAllocs()
			for b.Loop() {
				d, err := c.epsv()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.cmd(verb+" /Media/many", 150); err != nil {
					b.Fatal(err)
				}
				n, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{d}, buf)
				d.Close()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.expect(226); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchFolderSize, "ns/entry")
		})
	}
}

// BenchmarkSession runs whole short sessions, as a TV browsing does:
// connect, greeting, USER, PASS, SIZE, QUIT.
func BenchmarkSession(b *testing.B) {
	ts := benchServer(b, 0)
	b.ReportAllocs()
	for b.Loop() {
		c, err := benchLogin(ts.Addr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.cmd("SIZE /Media/big.bin", 213); err != nil {
			b.Fatal(err)
		}
		if _, err := c.cmd("QUIT", 221); err != nil {
			b.Fatal(err)
		}
		c.c.Close()
	}
}

// BenchmarkSeek is a player's seek on an open session with the data
// connection made: REST, RETR, the first byte; then it closes the data
// connection and sends ABOR, and reads the replies up to ABOR's.
func BenchmarkSeek(b *testing.B) {
	ts := benchServer(b, 0)
	c, err := benchLogin(ts.Addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.c.Close()
	first := make([]byte, 1)
	var off int64
	b.ReportAllocs()
	for b.Loop() {
		off = (off + 7<<20 + 12345) % (32 << 20)
		d, err := c.epsv()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.cmd("REST "+strconv.FormatInt(off, 10), 350); err != nil {
			b.Fatal(err)
		}
		if _, err := c.cmd("RETR /Media/big.bin", 150); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(d, first); err != nil {
			b.Fatal(err)
		}
		d.Close()
		if err := benchAbort(c); err != nil {
			b.Fatal(err)
		}
	}
}

// benchAbort sends ABOR and reads replies up to ABOR's own: 226, or 225
// when the transfer had ended (426) before ABOR arrived.
func benchAbort(c *benchClient) error {
	c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.c, "ABOR\r\n"); err != nil {
		return err
	}
	for {
		c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		switch string(line[:3]) {
		case "225", "226":
			return nil
		case "426":
		default:
			return fmt.Errorf("unexpected reply %q to ABOR", line)
		}
	}
}

// BenchmarkIdleSessions opens 200 logged-in sessions and reports what the
// process holds for each while they are idle: heap and goroutine stacks,
// both ends of the connection together.
func BenchmarkIdleSessions(b *testing.B) {
	const n = 200
	ts := benchServer(b, 0)
	var heap, stack float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		cs := make([]*benchClient, n)
		for i := range cs {
			c, err := benchLogin(ts.Addr)
			if err != nil {
				b.Fatal(err)
			}
			cs[i] = c
		}
		waitFor(b, "200 sessions", func() bool { return ts.sessionCount() == n })
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / n
		stack = float64(int64(after.StackInuse)-int64(before.StackInuse)) / n
		var errs []error
		for _, c := range cs {
			_, err := c.cmd("QUIT", 221)
			errs = append(errs, err)
			c.c.Close()
		}
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		waitFor(b, "no session", func() bool { return ts.sessionCount() == 0 })
	}
	b.ReportMetric(heap, "heap-B/session")
	b.ReportMetric(stack, "stack-B/session")
}

// Keep the helpers honest: the listing of the benchmark has one line per
// file.
func TestBenchListingLines(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a folder of files")
	}
	ts, dir := newTestServer(t, nil)
	for i := range 50 {
		writeFile(t, dir, fmt.Sprintf("many/f%02d.mkv", i), "x")
	}
	c, err := benchLogin(ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.c.Close()
	d, err := c.epsv()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.cmd("LIST /Media/many", 150); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(d)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.expect(226); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "\r\n"); n != 50 {
		t.Errorf("LIST sent %d lines, want 50", n)
	}
}
