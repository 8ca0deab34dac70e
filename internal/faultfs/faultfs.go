//go:build !(386 || arm || mips || mipsle)

package faultfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// FS is a mounted fault-injecting view of a backing folder. Its methods are
// safe for concurrent use; faults apply at once, to files opened already
// too, and last until Heal or the end of the test.
type FS struct {
	// Dir is the mount point. Unplug removes it; Replug makes it again.
	Dir string

	t       testing.TB
	backing string
	faults  faults

	mu     sync.Mutex // guards the fields below
	cur    *mount     // the live mount, nil while unplugged
	mounts []*mount   // every mount made, for Cleanup
}

// mount is one FUSE mount of the backing folder. After Unplug it stays
// around, failing every call, for as long as the kernel holds files or
// folders opened on it (a lazy unmount ends only then).
type mount struct {
	server   *fuse.Server
	dev      uint64      // the mount's device number, naming its connection
	unplug   atomic.Bool // every operation fails with EIO
	detached bool        // unmounted (lazily); guarded by FS.mu
}

// Mount mounts a view of the folder backing on dir, which must not exist
// yet (it is made here and removed by Unplug and Cleanup, as udisks does
// with a USB disk's mount point), and unmounts it when the test ends.
func Mount(t testing.TB, backing, dir string) *FS {
	t.Helper()
	testtool.NeedRoot(t, "mounting a FUSE file system with mount(2)")
	if _, err := os.Stat("/dev/fuse"); err != nil {
		unusable(t, fmt.Errorf("no /dev/fuse: %w", err))
	}
	f := &FS{Dir: dir, t: t, backing: backing}
	t.Cleanup(f.cleanup)
	if err := f.mountNew(); err != nil {
		unusable(t, err)
	}
	return f
}

// unusable skips the test because FUSE cannot be used here, or fails it
// under CI, where it must work.
func unusable(t testing.TB, err error) {
	t.Helper()
	if testtool.InCI() {
		t.Fatalf("faultfs: FUSE is required under CI but unusable: %v", err)
	}
	t.Skipf("skipping: faultfs: FUSE is unusable here: %v", err)
}

// mountNew makes the mount point and mounts a fresh view on it.
func (f *FS) mountNew() error {
	if err := os.Mkdir(f.Dir, 0o755); err != nil {
		return fmt.Errorf("mount point: %w", err)
	}
	root, err := fs.NewLoopbackRoot(f.backing)
	if err != nil {
		os.Remove(f.Dir)
		return fmt.Errorf("backing folder: %w", err)
	}
	m := &mount{}
	lb := root.(*fs.LoopbackNode)
	var zero time.Duration
	opts := &fs.Options{
		EntryTimeout:    &zero,
		AttrTimeout:     &zero,
		NegativeTimeout: &zero,
		MountOptions: fuse.MountOptions{
			DirectMount:       true,
			DirectMountStrict: true,
			FsName:            "faultfs",
			Name:              "faultfs",
			Options:           []string{"ro"},
			DisableXAttrs:     true,
		},
	}
	server, err := fs.Mount(f.Dir, &node{LoopbackNode: lb, fs: f, m: m}, opts)
	if err != nil {
		os.Remove(f.Dir)
		return fmt.Errorf("mount: %w", err)
	}
	m.server = server
	fi, err := os.Stat(f.Dir)
	if err != nil {
		server.Unmount()
		os.Remove(f.Dir)
		return fmt.Errorf("mount: %w", err)
	}
	m.dev = fi.Sys().(*syscall.Stat_t).Dev
	f.mu.Lock()
	f.cur = m
	f.mounts = append(f.mounts, m)
	f.mu.Unlock()
	return nil
}

// Unplug does what pulling out a USB disk does: from now on every
// operation on the mount fails with EIO, files opened already included;
// then the mount is unmounted lazily (as udisks does, since the disk is
// busy) and its mount point removed.
func (f *FS) Unplug() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.cur
	if m == nil {
		f.t.Fatal("faultfs: Unplug while unplugged")
	}
	m.unplug.Store(true)
	if err := detach(f.Dir); err != nil {
		f.t.Fatalf("faultfs: unmount: %v", err)
	}
	m.detached = true
	f.cur = nil
	if err := os.Remove(f.Dir); err != nil {
		f.t.Fatalf("faultfs: removing the mount point: %v", err)
	}
}

// Replug plugs the disk in again: the mount point is made and the backing
// folder mounted on it anew.
func (f *FS) Replug() {
	f.t.Helper()
	f.mu.Lock()
	plugged := f.cur != nil
	f.mu.Unlock()
	if plugged {
		f.t.Fatal("faultfs: Replug while plugged in")
	}
	if err := f.mountNew(); err != nil {
		f.t.Fatalf("faultfs: replug: %v", err)
	}
}

// FailReads makes reads of the file rel (slash-separated, relative to the
// backing folder) that touch bytes [off, off+n) fail with EIO, as a bad
// sector does. n < 0 means to the end of the file.
func (f *FS) FailReads(rel string, off, n int64) {
	f.faults.set(rel, func(ft *fault) { ft.readOff, ft.readLen = off, n })
}

// DenyOpen makes opening the file or folder rel fail with EACCES, as for a
// file its owner made unreadable. Its attributes can still be read.
func (f *FS) DenyOpen(rel string) {
	f.faults.set(rel, func(ft *fault) { ft.open = syscall.EACCES })
}

// FailReaddir makes reading the entries of the folder rel fail with errno
// (EIO, say); opening it works.
func (f *FS) FailReaddir(rel string, errno syscall.Errno) {
	f.faults.set(rel, func(ft *fault) { ft.readdir = errno })
}

// Heal removes every fault set on rel.
func (f *FS) Heal(rel string) {
	f.faults.mu.Lock()
	defer f.faults.mu.Unlock()
	delete(f.faults.m, clean(rel))
}

// cleanup unmounts every mount still mounted, lazily, and removes the
// mount point. A FUSE server ends once the kernel has let go of the last
// file opened on its mount; if the code under test still holds one (an
// os.Root left to its finalizer, say), the connection is aborted through
// the fusectl file system, as "umount -f" would, so that its files fail
// with ENOTCONN and the server ends with the test.
func (f *FS) cleanup() {
	f.mu.Lock()
	mounts := f.mounts
	for _, m := range mounts {
		m.unplug.Store(true)
		if !m.detached {
			if err := detach(f.Dir); err != nil {
				f.t.Errorf("faultfs: unmounting %s: %v", f.Dir, err)
			}
			m.detached = true
		}
	}
	if f.cur != nil {
		os.Remove(f.Dir)
		f.cur = nil
	}
	f.mu.Unlock()

	for _, m := range mounts {
		ended := make(chan struct{})
		go func() {
			m.server.Wait()
			close(ended)
		}()
		// Files dropped without Close are closed by their finalizers.
		runtime.GC()
		select {
		case <-ended:
			continue
		case <-time.After(100 * time.Millisecond):
		}
		if err := abort(m.dev); err != nil {
			f.t.Logf("faultfs: a FUSE server is still held open after unmounting, and aborting it failed (%v); it ends with the test process", err)
			continue
		}
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			f.t.Errorf("faultfs: a FUSE server did not end after its connection was aborted")
		}
	}
}

// abort aborts the FUSE connection of the mount with device number dev,
// writing to its abort file in a private mount of fusectl.
func abort(dev uint64) error {
	dir, err := os.MkdirTemp("", "fusectl")
	if err != nil {
		return err
	}
	defer os.Remove(dir)
	if err := syscall.Mount("fusectl", dir, "fusectl", 0, ""); err != nil {
		return fmt.Errorf("mounting fusectl: %w", err)
	}
	defer detach(dir)
	return os.WriteFile(fmt.Sprintf("%s/%d/abort", dir, unix.Minor(dev)), []byte("1"), 0)
}

// detach unmounts dir lazily (MNT_DETACH).
func detach(dir string) error {
	err := syscall.Unmount(dir, syscall.MNT_DETACH)
	if errors.Is(err, syscall.EINTR) {
		err = syscall.Unmount(dir, syscall.MNT_DETACH)
	}
	return err
}

// clean turns a test's relative path into the form nodes are matched by.
func clean(rel string) string {
	p := path.Clean("/" + rel)
	return p[1:]
}

// fault is what is injected for one path.
type fault struct {
	open    syscall.Errno // error of open and opendir
	readdir syscall.Errno // error of reading a folder's entries
	readOff int64         // reads touching [readOff, readOff+readLen) fail
	readLen int64         // 0: none; < 0: to the end
}

// faults holds the faults by path, shared by every mount of one FS.
type faults struct {
	mu sync.Mutex
	m  map[string]fault
}

func (fs *faults) set(rel string, change func(*fault)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m == nil {
		fs.m = make(map[string]fault)
	}
	ft := fs.m[clean(rel)]
	change(&ft)
	fs.m[clean(rel)] = ft
}

func (fs *faults) get(rel string) fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.m[rel]
}

// readFails reports whether a read of n bytes at off touches a bad region.
func (ft fault) readFails(off, n int64) bool {
	if ft.readLen == 0 {
		return false
	}
	end := ft.readOff + ft.readLen
	return off+n > ft.readOff && (ft.readLen < 0 || off < end)
}
