package ftpd

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// The tests in this file replay, byte for byte, what the players listed in
// CLIENTS.md send, and check what they rely on in the replies.

// TestVLC follows VLC's access module: FEAT before USER, EPSV ALL, relative
// paths with the leading slash stripped, SIZE to tell a file from a folder,
// one CWD with a multi-part path, and a seek as ABOR, close data, then two
// replies read.
func TestVLC(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	film := sparseFile(t, dir, "Movies/Série 1/Épisode 01.mkv", stallSize)
	const seekTo = 40<<20 + 12345
	mark := pattern(1, 4096)
	writeAt(t, film, seekTo, mark)

	c := dialCtrl(t, ts.Addr)
	checkFEAT(t, c.cmd("FEAT", 211))
	c.cmd("USER anonymous", 331)
	c.cmd("PASS anonymous@", 230)

	// EPSV ALL: from now on only EPSV may set up a data connection.
	c.cmd("EPSV ALL", 200)
	for _, line := range []string{"PASV", "PORT 127,0,0,1,200,10", "EPRT |1|127.0.0.1|51210|"} {
		c.send(line)
		if code, raw := c.reply(); code/100 != 5 {
			t.Errorf("%s after EPSV ALL: got %q, want a 5xx refusal", line, raw)
		}
	}
	c.cmd("TYPE I", 200)

	// SIZE answers 213 for a file only; VLC then tries CWD for folders.
	if got, want := c.cmd("SIZE Media/Movies/Série 1/Épisode 01.mkv", 213), "213 "+strconv.Itoa(stallSize)+"\r\n"; got != want {
		t.Errorf("SIZE of the film: got %q, want %q", got, want)
	}
	c.cmd("SIZE Media/Movies/Série 1", 550)
	c.cmd("CWD Media/Movies/Série 1", 250)
	if got, want := c.cmd("PWD", 257), `257 "/Media/Movies/Série 1"`; !strings.HasPrefix(got, want) {
		t.Errorf("PWD: got %q, want it to start with %q", got, want)
	}

	// Play from the start.
	d := dialStalling(t, c.epsv())
	c.cmd("RETR Épisode 01.mkv", 150)
	if got := readN(t, d, 4096); !bytes.Equal(got, make([]byte, 4096)) {
		t.Fatal("the film does not start with its first bytes")
	}

	// Seek as VLC does: ABOR, close the data connection at once, then read
	// two replies. The transfer's is 426. ABOR's is 226 if the server saw
	// ABOR before it saw the data connection close, else 225, as the
	// transfer had already ended; VLC takes either.
	c.send("ABOR")
	d.Close()
	c.expect(426)
	if code, raw := c.reply(); code != 226 && code != 225 {
		t.Fatalf("second reply after ABOR: got %q, want 226 or 225", raw)
	}
	c.cmd("NOOP", 200) // and no third reply in between

	// Resume at the seek target on the same session.
	d = dialStalling(t, c.epsv())
	c.cmd(fmt.Sprintf("REST %d", seekTo), 350)
	if n := byteCount(t, c.cmd("RETR Épisode 01.mkv", 150)); n != stallSize-seekTo {
		t.Errorf("150 reply announces %d bytes, want %d", n, stallSize-seekTo)
	}
	if got := readN(t, d, len(mark)); !bytes.Equal(got, mark) {
		t.Fatalf("RETR after REST %d does not start at that offset", seekTo)
	}

	// Stop; the server certainly sees ABOR while the transfer runs.
	abortStrict(t, c, d)
	c.cmd("NOOP", 200)
	c.cmd("QUIT", 221)
}

// TestFFmpeg follows libavformat's ftp protocol: probe seekability with
// REST 0 and SIZE, connect the data socket before REST and RETR, seek with
// ABOR, and send ABOR after a transfer has ended too.
func TestFFmpeg(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	clip := sparseFile(t, dir, "Films/clip.mkv", stallSize)
	head, tail := pattern(2, 64<<10), pattern(3, 256<<10)
	writeAt(t, clip, 0, head)
	writeAt(t, clip, stallSize-int64(len(tail)), tail)

	c := dialCtrl(t, ts.Addr)
	c.cmd("USER anonymous", 331)
	c.cmd("PASS nopassword", 230)
	if got := c.cmd("TYPE I", 200); !strings.HasPrefix(got, "200 ") {
		t.Errorf("TYPE I: got %q, want a single-line 200", got)
	}
	c.cmd("FEAT", 211)
	c.cmd("OPTS UTF8 ON", 200)
	// ffmpeg prefixes the URL path with what PWD says.
	if got := c.cmd("PWD", 257); !strings.HasPrefix(got, `257 "/"`) {
		t.Errorf("PWD: got %q, want it to start with %q", got, `257 "/"`)
	}
	if got, want := c.cmd("SIZE /Media/Films/clip.mkv", 213), "213 67108864\r\n"; got != want {
		t.Errorf("SIZE: got %q, want exactly %q", got, want)
	}
	c.cmd("REST 0", 350)

	// First read: data connection first, then REST and RETR.
	d := dialStalling(t, c.epsv())
	c.cmd("REST 0", 350)
	c.cmd("RETR /Media/Films/clip.mkv", 150)
	if got := readN(t, d, len(head)); !bytes.Equal(got, head) {
		t.Fatal("RETR after REST 0 does not start at the start")
	}

	// Seek while the transfer runs: 426 for RETR, 226 for ABOR.
	abortStrict(t, c, d)

	// Seek near the end and read to it: exactly the bytes from there.
	const from = stallSize - 200_001
	d = dialData(t, c.epsv())
	c.cmd(fmt.Sprintf("REST %d", from), 350)
	c.cmd("RETR /Media/Films/clip.mkv", 150)
	if got := readAll(t, d); got != string(tail[len(tail)-200_001:]) {
		t.Fatalf("RETR after REST %d: got %d bytes, not the file's last 200001", from, len(got))
	}
	c.expect(226)

	// ffmpeg's close sends ABOR though the transfer has ended: exactly one
	// reply, so that the next command's reply is its own.
	c.send("ABOR")
	if code, raw := c.reply(); code != 225 && code != 226 {
		t.Fatalf("ABOR after the transfer ended: got %q, want 225 or 226", raw)
	}
	c.cmd("NOOP", 200)

	// ffmpeg's own seek order: ABOR, close the data socket, then wait for
	// 225/226, skipping a 426.
	d = dialStalling(t, c.epsv())
	c.cmd("REST 1000", 350)
	c.cmd("RETR /Media/Films/clip.mkv", 150)
	if got := readN(t, d, 1000); !bytes.Equal(got, head[1000:2000]) {
		t.Fatal("RETR after REST 1000 does not start at that offset")
	}
	c.send("ABOR")
	d.Close()
	c.expect(426)
	if code, raw := c.reply(); code != 225 && code != 226 {
		t.Fatalf("reply to ABOR: got %q, want 225 or 226", raw)
	}
	c.cmd("NOOP", 200)
	c.cmd("QUIT", 221)
}

// kodiPasvRe is the exact 227 reply on a loopback control connection.
var kodiPasvRe = regexp.MustCompile(`^227 Entering Passive Mode \(127,0,0,1,(\d{1,3}),(\d{1,3})\)\.\r\n$`)

// TestKodi follows libcurl as Kodi uses it: PASV (EPSV off), the data
// connection made right after 227, a seek as a brand-new session with REST,
// and the session dropped without ABOR or QUIT once the player has enough.
// Many such sessions must neither pile up nor break the server.
func TestKodi(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	film := sparseFile(t, dir, "TV/Show/S01E01.mkv", stallSize)
	head := pattern(4, 1<<20)
	writeAt(t, film, 0, head)

	const sessions = 50
	for i := range sessions {
		c := login(t, ts.Addr)
		c.send("PASV")
		code, raw := c.reply()
		m := kodiPasvRe.FindStringSubmatch(raw)
		if code != 227 || m == nil {
			t.Fatalf("session %d: PASV reply %q, want %q", i, raw, "227 Entering Passive Mode (127,0,0,1,p1,p2).")
		}
		p1, _ := strconv.Atoi(m[1])
		p2, _ := strconv.Atoi(m[2])
		// curl ignores the address of the 227 and uses the control host's.
		d := dialStalling(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(p1<<8|p2)))
		if got := c.cmd("TYPE I", 200); !strings.HasPrefix(got, "200 ") {
			t.Fatalf("TYPE I: got %q", got)
		}
		if got, want := c.cmd("SIZE /Media/TV/Show/S01E01.mkv", 213), "213 67108864\r\n"; got != want {
			t.Fatalf("SIZE: got %q, want %q", got, want)
		}
		off := i * 7919 // a different seek each time
		c.cmd("REST "+strconv.Itoa(off), 350)
		c.cmd("RETR /Media/TV/Show/S01E01.mkv", 150)
		if got := readN(t, d, 4096); !bytes.Equal(got, head[off:off+4096]) {
			t.Fatalf("session %d: RETR after REST %d does not start at that offset", i, off)
		}
		// Gone without a word, in either order.
		if i%2 == 0 {
			c.c.Close()
			d.Close()
		} else {
			d.Close()
			c.c.Close()
		}
	}
	waitFor(t, "the dropped sessions to end", func() bool { return ts.sessionCount() == 0 })

	c := login(t, ts.Addr)
	c.cmd("REST 10", 350)
	d := dialStalling(t, c.epsv())
	c.cmd("RETR /Media/TV/Show/S01E01.mkv", 150)
	if got := readN(t, d, 100); !bytes.Equal(got, head[10:110]) {
		t.Fatal("the server does not serve properly after the dropped sessions")
	}
	abortStrict(t, c, d)
	c.cmd("QUIT", 221)
	waitFor(t, "the last session to end", func() bool { return ts.sessionCount() == 0 })
}

// TestWindowsFtpExe follows the Windows command-line client: OPTS UTF8 ON
// before USER, and active mode only, with PORT (or EPRT) to its own address.
// Addresses other than the client's, and privileged ports, are refused
// before any connection is attempted (bounce protection).
func TestWindowsFtpExe(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	writeFile(t, dir, "Music/song.mp3", "la la la")

	c := dialCtrl(t, ts.Addr)
	c.cmd("OPTS UTF8 ON", 200)
	c.cmd("USER anonymous", 331)
	c.cmd("PASS User@", 230)
	c.cmd("XCWD /Media/Music", 250)
	if got, want := c.cmd("XPWD", 257), `257 "/Media/Music"`; !strings.HasPrefix(got, want) {
		t.Errorf("XPWD: got %q, want it to start with %q", got, want)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	c.cmd("PORT "+portArg(t, ln.Addr()), 200)
	c.cmd("LIST", 150)
	d := acceptActive(t, ln)
	if got := readAll(t, d); !strings.HasSuffix(got, " song.mp3\r\n") || strings.Count(got, "\r\n") != 1 {
		t.Errorf("LIST over PORT: got %q, want one line for song.mp3", got)
	}
	c.expect(226)

	port := addrOf(ln.Addr()).Port()
	c.cmd(fmt.Sprintf("EPRT |1|127.0.0.1|%d|", port), 200)
	c.cmd("RETR song.mp3", 150)
	d = acceptActive(t, ln)
	if got := readAll(t, d); got != "la la la" {
		t.Errorf("RETR over EPRT: got %q", got)
	}
	c.expect(226)

	for _, line := range []string{
		"PORT 10,1,2,3,200,10",
		"PORT 127,0,0,2," + strconv.Itoa(int(port>>8)) + "," + strconv.Itoa(int(port&0xff)),
		"PORT 127,0,0,1,0,21",
		"EPRT |1|10.1.2.3|51210|",
		"EPRT |1|127.0.0.1|21|",
	} {
		c.send(line)
		if code, raw := c.reply(); code/100 != 5 {
			t.Errorf("%s: got %q, want a 5xx refusal", line, raw)
		}
	}
	// None of the refused addresses was kept: there is nowhere to send to.
	c.cmd("LIST", 425)
	c.cmd("QUIT", 221)
}

// TestLoginRules checks the login sequence and the commands answered before
// and after it, with the exact replies clients match on.
func TestLoginRules(t *testing.T) {
	ts, _ := newTestServer(t, nil)

	c := dialCtrl(t, ts.Addr)
	c.cmd("PASS early", 503)
	// Open before login.
	checkFEAT(t, c.cmd("FEAT", 211))
	c.cmd("OPTS UTF8 ON", 200)
	c.cmd("SYST", 215)
	c.cmd("NOOP", 200)
	c.cmd("HELP", 214)
	c.cmd("AUTH TLS", 502)
	// Everything else wants a login.
	for _, line := range []string{
		"LIST", "NLST", "MLSD", "RETR /Media/x", "CWD /Media", "PWD", "SIZE /Media/x",
		"MDTM /Media/x", "MLST /Media", "CDUP", "PASV", "EPSV", "REST 0", "STAT", "TYPE I",
		"STOR x", "DELE x",
	} {
		c.cmd(line, 530)
	}
	c.cmd("QUIT", 221)

	// Any user name with an empty password, however sent, logs in.
	for _, pass := range []string{"PASS", "PASS "} {
		c := dialCtrl(t, ts.Addr)
		c.cmd("USER fetch-user", 331)
		c.cmd(pass, 230)
		c.cmd("QUIT", 221)
	}

	c = login(t, ts.Addr)
	if got, want := c.cmd("SYST", 215), "215 UNIX Type: L8\r\n"; got != want {
		t.Errorf("SYST: got %q, want %q", got, want)
	}
	if got := c.cmd("PWD", 257); !strings.HasPrefix(got, `257 "/" `) {
		t.Errorf("PWD: got %q, want %q followed by text", got, `257 "/"`)
	}
	for _, cmd := range []struct {
		line string
		code int
	}{
		{"TYPE A", 200},
		{"TYPE I", 200},
		{"TYPE A N", 200},
		{"TYPE L 8", 200},
		{"TYPE E", 504},
		{"MODE S", 200},
		{"STRU F", 200},
		{"MODE B", 504},
		{"STRU R", 504},
		{"AUTH TLS", 502},
		{"AUTH SSL", 502},
		{"XYZZY", 500},
		{"PASS again", 230},
	} {
		got := c.cmd(cmd.line, cmd.code)
		checkCRLF(t, got)
		if strings.HasPrefix(got, strconv.Itoa(cmd.code)+"-") {
			t.Errorf("%s: got multi-line %q, want one line", cmd.line, got)
		}
	}
	c.send("ALLO 1000")
	if code, raw := c.reply(); code/100 != 2 {
		t.Errorf("ALLO: got %q, want 2xx", raw)
	}
	for _, cmd := range []struct {
		line string
		code int
	}{{"STAT", 211}, {"HELP", 214}} {
		got := c.cmd(cmd.line, cmd.code)
		checkCRLF(t, got)
		lines := strings.SplitAfter(strings.TrimSuffix(got, "\r\n"), "\r\n")
		prefix := strconv.Itoa(cmd.code)
		if len(lines) < 3 || !strings.HasPrefix(lines[0], prefix+"-") || !strings.HasPrefix(lines[len(lines)-1], prefix+" ") {
			t.Errorf("%s: got %q, want a multi-line %d reply", cmd.line, got, cmd.code)
		}
	}
	c.cmd("QUIT", 221)
	expectEOF(t, c)
}

// awkwardNames are file names that must round-trip through every command.
var awkwardNames = []string{
	"Amélie (2001).mkv",
	"日本語.mp4",
	" leading space.mkv",
	"trailing space .mkv",
	"semi;colon.mkv",
	"100% done.mkv",
}

// lsLineRe matches an ls -l line of a file and captures size and name. The
// name is everything after the single space that ends the date.
var lsLineRe = regexp.MustCompile(`^-r--r--r-- 1 ftp ftp (\d+) [A-Z][a-z]{2} [ 0-9]\d (?:\d\d:\d\d| \d{4}) (.*)\r\n$`)

// TestAwkwardNames checks that UTF-8 names, names with leading or trailing
// spaces, ";" and "%" round-trip through LIST, NLST, MLSD, SIZE and RETR,
// and that a name containing LF is never listed.
func TestAwkwardNames(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	content := map[string]string{}
	for i, name := range awkwardNames {
		content[name] = strings.Repeat(strconv.Itoa(i), i+1) + "|" + name
		writeFile(t, dir, "Names/"+name, content[name])
	}
	writeFile(t, dir, "Names/evil\nname.mkv", "hidden")

	c := login(t, ts.Addr)
	c.cmd("OPTS UTF8 ON", 200)

	want := slices.Clone(awkwardNames)
	slices.Sort(want)

	t.Run("LIST", func(t *testing.T) {
		var got []string
		for line := range strings.SplitAfterSeq(c.list("LIST /Media/Names"), "\r\n") {
			if line == "" {
				continue
			}
			m := lsLineRe.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("LIST line %q is not an ls -l file line", line)
				continue
			}
			got = append(got, m[2])
			if size, _ := strconv.Atoi(m[1]); size != len(content[m[2]]) {
				t.Errorf("LIST line %q: size %d, want %d", line, size, len(content[m[2]]))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("LIST names: got %q, want %q", got, want)
		}
	})
	t.Run("NLST", func(t *testing.T) {
		got := c.list("NLST /Media/Names")
		if w := strings.Join(want, "\r\n") + "\r\n"; got != w {
			t.Errorf("NLST: got %q, want %q", got, w)
		}
	})
	t.Run("MLSD", func(t *testing.T) {
		var got []string
		for line := range strings.SplitAfterSeq(c.list("MLSD /Media/Names"), "\r\n") {
			if line == "" {
				continue
			}
			// The facts end at the first space; the name is the rest.
			facts, name, ok := strings.Cut(strings.TrimSuffix(line, "\r\n"), " ")
			if !ok || !strings.HasPrefix(facts, "type=file;") || !strings.HasSuffix(facts, ";perm=r;") {
				t.Errorf("MLSD line %q: want file facts, one space, the name", line)
				continue
			}
			if w := "size=" + strconv.Itoa(len(content[name])) + ";"; !strings.Contains(facts, ";"+w) {
				t.Errorf("MLSD line %q lacks %q", line, w)
			}
			got = append(got, name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("MLSD names: got %q, want %q", got, want)
		}
	})
	t.Run("SIZE and RETR", func(t *testing.T) {
		c.cmd("CWD /Media/Names", 250)
		for _, name := range awkwardNames {
			if got, w := c.cmd("SIZE "+name, 213), fmt.Sprintf("213 %d\r\n", len(content[name])); got != w {
				t.Errorf("SIZE %q: got %q, want %q", name, got, w)
			}
			if got := c.retr(name); got != content[name] {
				t.Errorf("RETR %q: got %q, want %q", name, got, content[name])
			}
			if got := c.retr("/Media/Names/" + name); got != content[name] {
				t.Errorf("RETR of the absolute path of %q: got %q", name, got)
			}
		}
	})
	t.Run("STAT", func(t *testing.T) {
		got := c.cmd("STAT /Media/Names", 213)
		for _, name := range awkwardNames {
			if !strings.Contains(got, " "+name+"\r\n") {
				t.Errorf("STAT listing %q lacks %q", got, name)
			}
		}
		if strings.Contains(got, "evil") {
			t.Errorf("STAT listing %q shows the name with a line feed", got)
		}
	})
	c.cmd("QUIT", 221)
}

// TestGoClient drives the server with github.com/jlaffaye/ftp, a real
// client library, once with its defaults (EPSV, MLSD) and once as an old
// client (PASV, LIST parsed as ls -l).
func TestGoClient(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	const film = "Amélie (2001).mkv"
	body := string(pattern(5, 300_000))
	p := writeFile(t, dir, "Films/"+film, body)
	mtime := time.Date(2021, 3, 14, 15, 9, 26, 0, time.UTC)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "Films/Extras/trailer.mp4", "trailer")

	for _, tc := range []struct {
		name string
		opts []ftp.DialOption
	}{
		{"defaults", nil},
		{"PASV and LIST", []ftp.DialOption{ftp.DialWithDisabledEPSV(true), ftp.DialWithDisabledMLSD(true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, err := ftp.Dial(ts.Addr, append(tc.opts, ftp.DialWithTimeout(10*time.Second))...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Quit()
			if err := cl.Login("anonymous", "x"); err != nil {
				t.Fatalf("Login: %v", err)
			}

			entries, err := cl.List("/Media/Films")
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(entries) != 2 {
				t.Fatalf("List: got %d entries, want 2", len(entries))
			}
			e, x := entries[0], entries[1]
			if e.Name != film || e.Type != ftp.EntryTypeFile || e.Size != uint64(len(body)) {
				t.Errorf("List: first entry %+v, want file %q of %d bytes", e, film, len(body))
			}
			if tc.opts == nil && !e.Time.Equal(mtime) {
				t.Errorf("List (MLSD): time %v, want %v", e.Time, mtime)
			}
			if x.Name != "Extras" || x.Type != ftp.EntryTypeFolder {
				t.Errorf("List: second entry %+v, want folder Extras", x)
			}

			names, err := cl.NameList("/Media/Films")
			if err != nil {
				t.Fatalf("NameList: %v", err)
			}
			if want := []string{film, "Extras"}; !slices.Equal(names, want) {
				t.Errorf("NameList: got %q, want %q", names, want)
			}

			path := "/Media/Films/" + film
			r, err := cl.Retr(path)
			if err != nil {
				t.Fatalf("Retr: %v", err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("Retr: reading: %v", err)
			}
			if err := r.Close(); err != nil { // reads the 226
				t.Fatalf("Retr: Close: %v", err)
			}
			if string(got) != body {
				t.Errorf("Retr: got %d bytes, not the file's %d", len(got), len(body))
			}

			r, err = cl.RetrFrom(path, 123_457)
			if err != nil {
				t.Fatalf("RetrFrom: %v", err)
			}
			got, err = io.ReadAll(r)
			if err != nil {
				t.Fatalf("RetrFrom: reading: %v", err)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("RetrFrom: Close: %v", err)
			}
			if string(got) != body[123_457:] {
				t.Errorf("RetrFrom(123457): got %d bytes, not the file's last %d", len(got), len(body)-123_457)
			}

			if n, err := cl.FileSize(path); err != nil || n != int64(len(body)) {
				t.Errorf("FileSize: got %d, %v; want %d", n, err, len(body))
			}
			if _, err := cl.FileSize("/Media/Films/Extras"); err == nil {
				t.Error("FileSize of a folder succeeded")
			}
			if tm, err := cl.GetTime(path); err != nil || !tm.Equal(mtime) {
				t.Errorf("GetTime: got %v, %v; want %v", tm, err, mtime)
			}

			if err := cl.ChangeDir("/Media/Films"); err != nil {
				t.Fatalf("ChangeDir: %v", err)
			}
			if err := cl.ChangeDir("Extras"); err != nil {
				t.Fatalf("ChangeDir to a relative path: %v", err)
			}
			if cwd, err := cl.CurrentDir(); err != nil || cwd != "/Media/Films/Extras" {
				t.Errorf("CurrentDir: got %q, %v", cwd, err)
			}
			if err := cl.ChangeDir("/Media/Films/" + film); err == nil {
				t.Error("ChangeDir to a file succeeded")
			}
			if err := cl.ChangeDirToParent(); err != nil {
				t.Fatalf("ChangeDirToParent: %v", err)
			}
			if cwd, err := cl.CurrentDir(); err != nil || cwd != "/Media/Films" {
				t.Errorf("CurrentDir after CDUP: got %q, %v", cwd, err)
			}
			if err := cl.NoOp(); err != nil {
				t.Errorf("NoOp: %v", err)
			}
			if err := cl.Quit(); err != nil {
				t.Errorf("Quit: %v", err)
			}
		})
	}
	waitFor(t, "the client sessions to end", func() bool { return ts.sessionCount() == 0 })
}
