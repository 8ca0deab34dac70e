// go-fuse does not build for 32-bit targets (its splice package assigns
// syscall.Splice's int to an int64), so the fault tests run on 64-bit ones
// only; armhf runs the rest of the package.

//go:build !(386 || arm || mips || mipsle)

package ftpd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/faultfs"
	"github.com/mediaftpd/mediaftpd/library"
)

// The tests of this file inject disk faults through faultfs: a FUSE view of
// a folder that fails chosen operations the way a failing or unplugged disk
// does. They need root and /dev/fuse, and skip without them (outside CI).

// faultServer is a test server on a share set being indexed, with two
// shares: "Home", a plain folder, and "USB", a faultfs mount.
type faultServer struct {
	*testServer
	set     *library.Set
	usb     *faultfs.FS
	backing string // the folder the USB share shows
	home    string // the Home share's folder
	logs    *logCapture
}

// newFaultServer mounts the USB share over a fresh folder in which fill
// (if not nil) has made files, and starts the index and the server.
func newFaultServer(t *testing.T, fill func(backing, home string)) *faultServer {
	t.Helper()
	fx := &faultServer{backing: t.TempDir(), home: t.TempDir(), logs: &logCapture{t: t}}
	if fill != nil {
		fill(fx.backing, fx.home)
	}
	// Mounted first, so that it is unmounted last, once nothing uses it.
	fx.usb = faultfs.Mount(t, fx.backing, filepath.Join(t.TempDir(), "usb"))
	log := slog.New(slog.NewTextHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	set, err := library.NewSet(
		library.Share{Name: "Home", Path: fx.home},
		library.Share{Name: "USB", Path: fx.usb.Dir},
	)
	if err != nil {
		t.Fatal(err)
	}
	set.Logger = log
	set.OfflineCheck = 20 * time.Millisecond
	fx.set = set
	// Once the index has stopped, drop the share, so that the root it
	// holds on the mount is let go before the mount is taken down.
	t.Cleanup(func() { set.Remove("USB") })
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- set.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-ran
	})
	fx.testServer, _ = newTestServer(t, func(srv *Server) {
		srv.Shares = set
		srv.Logger = log
	})
	fx.waitState("USB", library.StateWatching)
	return fx
}

// state returns the index state of the named share.
func (fx *faultServer) state(name string) library.State {
	for _, st := range fx.set.Status() {
		if st.Name == name {
			return st.State
		}
	}
	return ""
}

// waitState waits until the named share is in the given state.
func (fx *faultServer) waitState(name string, want library.State) {
	waitFor(fx.logs.t, fmt.Sprintf("share %s to be %s", name, want), func() bool { return fx.state(name) == want })
}

// TestFaultShareVanishesMidStream pulls the USB disk out while a slow
// client streams a film from it: the transfer ends with 451, the session
// goes on, the other share serves throughout, the share shows offline and
// is refused, and once the disk is back it is online and serves again.
func TestFaultShareVanishesMidStream(t *testing.T) {
	var film, song []byte
	fx := newFaultServer(t, func(backing, home string) {
		film = writeData(t, backing, "Films/big.mkv", pattern(1, 32<<20))
		song = writeData(t, home, "Music/song.flac", pattern(2, 3<<20))
	})

	viewer := login(t, fx.Addr)
	d := dialStalling(t, viewer.epsv())
	viewer.cmd("RETR /USB/Films/big.mkv", 150)
	first := readN(t, d, 2<<20)
	checkPrefix(t, "before the unplug", first, film, len(film))

	other := login(t, fx.Addr)
	if got := other.retr("/Home/Music/song.flac"); got != string(song) {
		t.Fatalf("Home while USB streams: %d bytes, want the %d of the file", len(got), len(song))
	}
	if got := names(other.list("NLST /")); !slices.Equal(got, []string{"Home", "USB"}) {
		t.Fatalf("NLST / before the unplug = %q", got)
	}

	fx.usb.Unplug()

	rest := readToClose(t, d)
	checkPrefix(t, "after the unplug", append(first, rest...), film, len(film)-1)
	code, raw := viewer.reply()
	if code != codeLocalError {
		t.Fatalf("final reply of the transfer cut by the unplug: %q, want %d", raw, codeLocalError)
	}
	viewer.cmd("NOOP", 200)

	fx.waitState("USB", library.StateOffline)
	if got := names(other.list("NLST /")); !slices.Equal(got, []string{"Home"}) {
		t.Errorf("NLST / with USB unplugged = %q, want only Home", got)
	}
	if list := other.list("LIST /"); strings.Contains(list, "USB") {
		t.Errorf("LIST / with USB unplugged lists it:\n%s", list)
	}
	viewer.cmd("CWD /USB", 550)
	viewer.cmd("CWD /USB/Films", 550)
	viewer.expectRefused("RETR /USB/Films/big.mkv", 550)
	if got := other.retr("/Home/Music/song.flac"); got != string(song) {
		t.Fatalf("Home with USB unplugged: %d bytes, want the %d of the file", len(got), len(song))
	}

	fx.usb.Replug()
	fx.waitState("USB", library.StateWatching)
	viewer.cmd("CWD /USB/Films", 250)
	if got := viewer.retr("big.mkv"); got != string(film) {
		t.Fatalf("after the replug: %d bytes, want the %d of the file", len(got), len(film))
	}
	if got := names(other.list("NLST /")); !slices.Equal(got, []string{"Home", "USB"}) {
		t.Errorf("NLST / after the replug = %q", got)
	}
	// newTestServer's cleanup checks that Shutdown succeeds.
}

// TestFaultReadError serves a file with a bad region: RETR gets 150, the
// bytes before it, then 451, every time; REST past the region works.
func TestFaultReadError(t *testing.T) {
	var film []byte
	fx := newFaultServer(t, func(backing, _ string) {
		film = writeData(t, backing, "Films/scratched.mkv", pattern(3, 8<<20))
	})
	const bad, badLen = 3 << 20, 1 << 20
	fx.usb.FailReads("Films/scratched.mkv", bad, badLen)

	c := login(t, fx.Addr)
	for try := range 2 {
		d := dialData(t, c.epsv())
		c.cmd("RETR /USB/Films/scratched.mkv", 150)
		got := readToClose(t, d)
		checkPrefix(t, fmt.Sprintf("try %d", try), got, film, bad)
		c.expect(codeLocalError)
	}
	c.cmd("NOOP", 200)
	c.cmd(fmt.Sprintf("REST %d", bad+badLen), 350)
	if got := c.retr("/USB/Films/scratched.mkv"); got != string(film[bad+badLen:]) {
		t.Fatalf("RETR past the bad region: %d bytes, want the last %d of the file", len(got), len(film)-bad-badLen)
	}
}

// TestFaultUnreadableFolder lists folders whose entries cannot be read (a
// disk error) or that may not be opened (permission denied): LIST, NLST
// and MLSD of them get 550 without a 150, and their parent lists them.
func TestFaultUnreadableFolder(t *testing.T) {
	fx := newFaultServer(t, func(backing, _ string) {
		writeFile(t, backing, "Broken/a.mkv", "a")
		writeFile(t, backing, "Locked/b.mkv", "b")
		writeFile(t, backing, "Fine/c.mkv", "c")
	})
	fx.usb.FailReaddir("Broken", syscall.EIO)
	fx.usb.DenyOpen("Locked")

	c := login(t, fx.Addr)
	for _, folder := range []string{"Broken", "Locked"} {
		for _, verb := range []string{"LIST", "NLST", "MLSD"} {
			c.expectRefused(verb+" /USB/"+folder, 550)
		}
	}
	if got := names(c.list("NLST /USB")); !slices.Equal(got, []string{"Broken", "Fine", "Locked"}) {
		t.Errorf("NLST /USB = %q, want every folder", got)
	}
	mlsd := c.list("MLSD /USB")
	for _, folder := range []string{"Broken", "Locked"} {
		if !strings.Contains(mlsd, "type=dir;") || !strings.Contains(mlsd, " "+folder+"\r\n") {
			t.Errorf("MLSD /USB does not list %s as a folder:\n%s", folder, mlsd)
		}
	}
	if got := names(c.list("NLST /USB/Fine")); !slices.Equal(got, []string{"c.mkv"}) {
		t.Errorf("NLST /USB/Fine = %q", got)
	}
}

// TestFaultPermissionDenied serves a file that exists but may not be read:
// it is listed like any other file, SIZE and MDTM answer, and RETR gets a
// clear 550 before any 150.
func TestFaultPermissionDenied(t *testing.T) {
	t.Run("faultfs", func(t *testing.T) {
		fx := newFaultServer(t, func(backing, _ string) {
			writeFile(t, backing, "Films/secret.mkv", "not for you")
			writeFile(t, backing, "Films/open.mkv", "for everyone")
		})
		fx.usb.DenyOpen("Films/secret.mkv")
		checkDenied(t, login(t, fx.Addr), "/USB/Films", filepath.Join(fx.backing, "Films"))
	})
	t.Run("chmod", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("skipping: running as root, to whom chmod 000 denies nothing; the faultfs case covers it")
		}
		ts, dir := newTestServer(t, nil)
		writeFile(t, dir, "Films/secret.mkv", "not for you")
		writeFile(t, dir, "Films/open.mkv", "for everyone")
		writeFile(t, dir, "Locked/b.mkv", "b")
		for _, p := range []string{"Films/secret.mkv", "Locked"} {
			if err := os.Chmod(filepath.Join(dir, p), 0); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(filepath.Join(dir, p), 0o755) })
		}
		c := login(t, ts.Addr)
		checkDenied(t, c, "/Media/Films", filepath.Join(dir, "Films"))
		c.expectRefused("LIST /Media/Locked", 550)
		if got := names(c.list("NLST /Media")); !slices.Contains(got, "Locked") {
			t.Errorf("NLST /Media = %q, want the unreadable folder listed", got)
		}
	})
}

// checkDenied checks how the session c shows secret.mkv in folder, which
// may not be read; hostDir is the host folder that holds it.
func checkDenied(t *testing.T, c *ctrl, folder, hostDir string) {
	t.Helper()
	fi, err := os.Stat(filepath.Join(hostDir, "secret.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	e := entryOf("secret.mkv", fi)
	s := &session{facts: allFacts}
	for _, tc := range []struct {
		verb   string
		format listFormat
	}{{"LIST", formatList}, {"NLST", formatNLST}, {"MLSD", formatMLSD}} {
		now := time.Now()
		want := string(s.appendEntry(nil, tc.format, e, now))
		if list := c.list(tc.verb + " " + folder); !strings.Contains(list, want) {
			t.Errorf("%s %s lacks %q, as a readable file is listed:\n%s", tc.verb, folder, want, list)
		}
	}
	if got, want := c.cmd("SIZE "+folder+"/secret.mkv", 213), fmt.Sprintf("213 %d\r\n", fi.Size()); got != want {
		t.Errorf("SIZE = %q, want %q", got, want)
	}
	if got, want := c.cmd("MDTM "+folder+"/secret.mkv", 213), "213 "+fi.ModTime().UTC().Format("20060102150405")+"\r\n"; got != want {
		t.Errorf("MDTM = %q, want %q", got, want)
	}
	raw := c.expectRefused("RETR "+folder+"/secret.mkv", 550)
	if !strings.Contains(raw, "Permission denied") {
		t.Errorf("RETR of an unreadable file: %q, want it to say permission is denied", raw)
	}
	if strings.Contains(raw, hostDir) {
		t.Errorf("RETR reply %q shows the host path", raw)
	}
	c.cmd("NOOP", 200)
	if got := c.retr(folder + "/open.mkv"); got != "for everyone" {
		t.Errorf("RETR of the readable file beside it = %q", got)
	}
}

// TestFaultProblemsLoggedOnce retries files that cannot be served, as
// players do: each is logged once at warning level, naming share, path and
// error, and its repeats at debug level only.
func TestFaultProblemsLoggedOnce(t *testing.T) {
	fx := newFaultServer(t, func(backing, _ string) {
		writeFile(t, backing, "Films/secret.mkv", "not for you")
		writeFile(t, backing, "Films/other.mkv", "nor this")
		writeData(t, backing, "Films/scratched.mkv", pattern(4, 2<<20))
		writeFile(t, backing, "Broken/a.mkv", "a")
	})
	fx.usb.DenyOpen("Films/secret.mkv")
	fx.usb.DenyOpen("Films/other.mkv")
	fx.usb.FailReads("Films/scratched.mkv", 1<<20, -1)
	fx.usb.FailReaddir("Broken", syscall.EIO)

	const tries = 20
	for range 2 { // two sessions: once per server, not per session
		c := login(t, fx.Addr)
		for range tries {
			c.expectRefused("RETR /USB/Films/secret.mkv", 550)
			c.expectRefused("LIST /USB/Broken", 550)
			d := dialData(t, c.epsv())
			c.cmd("RETR /USB/Films/scratched.mkv", 150)
			readToClose(t, d)
			c.expect(codeLocalError)
		}
		c.expectRefused("RETR /USB/Films/other.mkv", 550)
	}

	for _, tc := range []struct{ path, problem string }{
		{"Films/secret.mkv", "permission denied"},
		{"Films/other.mkv", "permission denied"},
		{"Films/scratched.mkv", "read error"},
		{"Broken", "read error"},
	} {
		warn := fx.logs.count("level=WARN", "share=USB", "path="+tc.path+" ", `problem="`+tc.problem+`"`, "err=")
		if warn != 1 {
			t.Errorf("%s: %d warning lines, want exactly 1", tc.path, warn)
		}
		if debug := fx.logs.count("level=DEBUG", "share=USB", "path="+tc.path+" ", "logged before"); debug == 0 {
			t.Errorf("%s: its repeats are not logged at debug level", tc.path)
		}
	}
}
