package library_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library"
)

// The tests in this file mount a tmpfs on a share's folder, as a USB disk
// is mounted, and check that mediaftpd keeps nothing open on it unless a
// file is being sent: an idle disk can be unmounted (ejected) while the
// index runs and a client is logged in with its working folder on it.

// TestEjectIdleDisk does FTP work on a mounted share, leaves the client
// logged in inside it, and unmounts the disk without MNT_DETACH; then the
// session carries on, the index follows the empty mount point, and a disk
// mounted again is served and indexed.
func TestEjectIdleDisk(t *testing.T) {
	usb := usbDisk(t)
	film := bytes.Repeat([]byte("film"), 256<<10) // 1 MiB
	putFile(t, usb, "Films/a.mkv", film)
	putFile(t, usb, "b.mkv", []byte("short"))

	set, addr := serveFTP(t, library.Share{Name: "USB", Path: usb})
	awaitIndexed(t, set, "USB", 2)
	c := dialEject(t, addr)

	// A client browses and plays, then stays, idle, inside the share.
	if got := listNames(t, c, "/"); !slices.Equal(got, []string{"USB"}) {
		t.Errorf("LIST / = %q", got)
	}
	if got := listNames(t, c, "/USB"); !slices.Equal(got, []string{"Films", "b.mkv"}) {
		t.Errorf("LIST /USB = %q", got)
	}
	if err := c.ChangeDir("/USB/Films"); err != nil {
		t.Fatalf("CWD: %v", err)
	}
	if n, err := c.FileSize("a.mkv"); err != nil || n != int64(len(film)) {
		t.Errorf("SIZE = %d, %v; want %d", n, err, len(film))
	}
	if got := retr(t, c, "a.mkv"); got != string(film) {
		t.Errorf("RETR sent %d bytes, want the %d of the file", len(got), len(film))
	}
	if err := c.ChangeDir("/USB"); err != nil {
		t.Fatalf("CWD: %v", err)
	}
	awaitIndexed(t, set, "USB", 2)

	// Ejected: umount, not a lazy detach, must succeed. A scan may hold the
	// disk for a moment; busy for the whole wait is the failure.
	unmountDisk(t, usb)

	// The session carries on, in the empty mount point.
	if err := c.NoOp(); err != nil {
		t.Fatalf("NOOP after the unmount: %v", err)
	}
	if dir, err := c.CurrentDir(); err != nil || dir != "/USB" {
		t.Errorf("PWD = %q, %v", dir, err)
	}
	if got := listNames(t, c, ""); len(got) != 0 {
		t.Errorf("LIST of the unmounted share = %q, want nothing", got)
	}
	if _, err := c.FileSize("Films/a.mkv"); err == nil {
		t.Error("SIZE of a file on the unmounted disk worked")
	}
	awaitIndexed(t, set, "USB", 0)

	// Plugged in again, with other files.
	mountDisk(t, usb)
	putFile(t, usb, "c.mkv", []byte("the new disk"))
	putFile(t, usb, "Series/d.mkv", []byte("an episode"))
	awaitIndexed(t, set, "USB", 2)
	if got := listNames(t, c, ""); !slices.Equal(got, []string{"Series", "c.mkv"}) {
		t.Errorf("LIST after mounting again = %q", got)
	}
	if got := retr(t, c, "/USB/c.mkv"); got != "the new disk" {
		t.Errorf("RETR after mounting again = %q", got)
	}
	if got := retr(t, c, "Series/d.mkv"); got != "an episode" {
		t.Errorf("RETR after mounting again = %q", got)
	}
	// And it can be ejected again.
	awaitIndexed(t, set, "USB", 2)
	unmountDisk(t, usb)
	awaitIndexed(t, set, "USB", 0)
}

// TestEjectWhileStreaming checks that a disk a file is being sent from is
// really in use (umount fails with EBUSY), and that it can be unmounted
// once the transfer is over.
func TestEjectWhileStreaming(t *testing.T) {
	usb := usbDisk(t)
	// Far more than the loopback socket buffers hold, so the server is
	// still sending while the client does not read.
	film := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB
	putFile(t, usb, "film.mkv", film)

	set, addr := serveFTP(t, library.Share{Name: "USB", Path: usb})
	awaitIndexed(t, set, "USB", 1)
	c := dialEject(t, addr)

	r, err := c.Retr("/USB/film.mkv")
	if err != nil {
		t.Fatalf("RETR: %v", err)
	}
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatalf("reading the start of the film: %v", err)
	}
	if err := syscall.Unmount(usb, 0); !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("umount while a file is being sent from the disk: %v, want EBUSY", err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading the rest of the film: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("end of RETR: %v", err)
	}
	if got := len(head) + len(rest); got != len(film) || !bytes.Equal(append(head, rest...), film) {
		t.Fatalf("RETR sent %d bytes, want the %d of the film", got, len(film))
	}
	unmountDisk(t, usb)
	if err := c.NoOp(); err != nil {
		t.Fatalf("NOOP after the unmount: %v", err)
	}
	awaitIndexed(t, set, "USB", 0)
}

// usbDisk returns a folder with a disk (a tmpfs) mounted on it, the
// garbage collector off (see keepGarbage), and skips the test unless run
// as root.
func usbDisk(t *testing.T) string {
	t.Helper()
	testtool.NeedRoot(t, "mounting a tmpfs as a USB disk")
	keepGarbage(t)
	usb := filepath.Join(t.TempDir(), "usb")
	if err := os.Mkdir(usb, 0o755); err != nil {
		t.Fatal(err)
	}
	mountDisk(t, usb)
	return usb
}

// keepGarbage turns the garbage collector off until the test ends. A root
// that a command forgot to close is closed by its finalizer at the next
// collection, which would hide the leak, or not, by chance.
func keepGarbage(t *testing.T) {
	old := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(old) })
}

// mountDisk mounts a fresh tmpfs on dir, unmounted (lazily, so that a
// failed test leaves nothing mounted) when the test ends.
func mountDisk(t *testing.T, dir string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=64m,mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		// EINVAL: the test unmounted it already.
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// unmountDisk unmounts the disk at dir as an eject does: umount(2) without
// MNT_DETACH, which fails with EBUSY while anything on it is open. It
// retries for a while, as a scan may hold the disk briefly, and logs the
// descriptors of this process that are open on the disk while it is busy.
func unmountDisk(t *testing.T, dir string) {
	t.Helper()
	var held string
	testtool.WaitFor(t, "umount "+dir+" to succeed (EBUSY: a descriptor on the disk is held)", func() bool {
		err := syscall.Unmount(dir, 0)
		if err == nil {
			return true
		}
		if !errors.Is(err, syscall.EBUSY) {
			t.Fatalf("umount %s: %v", dir, err)
		}
		if h := openUnder(dir); h != held {
			held = h
			t.Logf("umount: %v; open on the disk: %s", err, h)
		}
		return false
	})
}

// openUnder lists the descriptors of this process that name files under
// dir, for the log.
func openUnder(dir string) string {
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, de := range des {
		target, err := os.Readlink("/proc/self/fd/" + de.Name())
		if err == nil && (target == dir || strings.HasPrefix(target, dir+"/")) {
			out = append(out, de.Name()+" -> "+target)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// putFile writes a file under dir, making its folders.
func putFile(t *testing.T, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dialEject logs a client in; it lists with LIST, not MLSD.
func dialEject(t *testing.T, addr string) *ftp.ServerConn {
	t.Helper()
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(10*time.Second), ftp.DialWithDisabledMLSD(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Quit() })
	if err := c.Login("anonymous", "x"); err != nil {
		t.Fatal(err)
	}
	return c
}

// listNames returns the names that LIST of path shows, sorted.
func listNames(t *testing.T, c *ftp.ServerConn, path string) []string {
	t.Helper()
	entries, err := c.List(path)
	if err != nil {
		t.Fatalf("LIST %q: %v", path, err)
	}
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	return names
}
