//go:build !(386 || arm || mips || mipsle)

package faultfs

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pattern returns n reproducible bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{7}).Read(b)
	return b
}

// setup mounts a view of a fresh folder holding big.bin (data) and
// Films/a.mkv.
func setup(t *testing.T, data []byte) (*FS, string) {
	t.Helper()
	backing := t.TempDir()
	if err := os.WriteFile(filepath.Join(backing, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(backing, "Films"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backing, "Films", "a.mkv"), []byte("film"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := Mount(t, backing, filepath.Join(t.TempDir(), "usb"))
	return f, backing
}

// mounted reports whether dir is in the mount table.
func mounted(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && fields[1] == dir {
			return true
		}
	}
	return false
}

// sendfile copies n bytes of f to a loopback TCP connection the way ftpd
// does (io.CopyN into a *net.TCPConn, which uses sendfile(2)) and returns
// the bytes that arrived and the copy's error.
func sendfile(t *testing.T, f *os.File, n int64) ([]byte, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, cerr := io.CopyN(c.(*net.TCPConn), f, n)
	c.Close()
	return <-got, cerr
}

func TestPassthrough(t *testing.T) {
	data := pattern(3 << 20)
	f, _ := setup(t, data)
	got, err := os.ReadFile(filepath.Join(f.Dir, "big.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("reading through the mount: %d bytes, %v; want the %d bytes written", len(got), err, len(data))
	}
	des, err := os.ReadDir(filepath.Join(f.Dir, "Films"))
	if err != nil || len(des) != 1 || des[0].Name() != "a.mkv" {
		t.Fatalf("ReadDir(Films) = %v, %v", des, err)
	}
	if err := os.WriteFile(filepath.Join(f.Dir, "new"), nil, 0o644); err == nil {
		t.Error("writing through the mount worked; want it read-only")
	}
}

func TestFailReadsSeenBySendfile(t *testing.T) {
	data := pattern(8 << 20)
	f, _ := setup(t, data)
	const bad, badLen = 3 << 20, 1 << 20
	f.FailReads("big.bin", bad, badLen)
	for i := range 2 {
		fh, err := os.Open(filepath.Join(f.Dir, "big.bin"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := sendfile(t, fh, int64(len(data)))
		fh.Close()
		if !errors.Is(err, syscall.EIO) {
			t.Fatalf("try %d: copy error %v, want EIO", i, err)
		}
		if len(got) > bad || !bytes.Equal(got, data[:len(got)]) {
			t.Fatalf("try %d: %d bytes arrived before the error; want a prefix of the file of at most %d", i, len(got), bad)
		}
		t.Logf("try %d: %d bytes before EIO (bad region at %d)", i, len(got), bad)
	}
	// Past the bad region, reads work.
	fh, err := os.Open(filepath.Join(f.Dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fh.Seek(bad+badLen, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := sendfile(t, fh, int64(len(data)-bad-badLen))
	if err != nil || !bytes.Equal(got, data[bad+badLen:]) {
		t.Fatalf("after the bad region: %d bytes, %v", len(got), err)
	}
	f.Heal("big.bin")
	if got, err := os.ReadFile(filepath.Join(f.Dir, "big.bin")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after Heal: %d bytes, %v", len(got), err)
	}
}

func TestDenyOpenAndFailReaddir(t *testing.T) {
	f, _ := setup(t, pattern(4096))
	f.DenyOpen("big.bin")
	if _, err := os.Open(filepath.Join(f.Dir, "big.bin")); !errors.Is(err, syscall.EACCES) {
		t.Errorf("open of a denied file: %v, want EACCES", err)
	}
	if fi, err := os.Stat(filepath.Join(f.Dir, "big.bin")); err != nil || fi.Size() != 4096 {
		t.Errorf("stat of a denied file: %v, %v; want it to work", fi, err)
	}
	f.FailReaddir("Films", syscall.EIO)
	if _, err := os.ReadDir(filepath.Join(f.Dir, "Films")); !errors.Is(err, syscall.EIO) {
		t.Errorf("ReadDir of a failing folder: %v, want EIO", err)
	}
	if _, err := os.ReadFile(filepath.Join(f.Dir, "Films", "a.mkv")); err != nil {
		t.Errorf("a file in a folder that cannot be listed: %v", err)
	}
	f.DenyOpen("Films")
	if _, err := os.ReadDir(filepath.Join(f.Dir, "Films")); !errors.Is(err, syscall.EACCES) {
		t.Errorf("ReadDir of a denied folder: %v, want EACCES", err)
	}
}

func TestUnplugReplug(t *testing.T) {
	data := pattern(4 << 20)
	f, _ := setup(t, data)
	if !mounted(t, f.Dir) {
		t.Fatalf("%s is not in the mount table", f.Dir)
	}
	open, err := os.Open(filepath.Join(f.Dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	buf := make([]byte, 4096)
	if _, err := open.Read(buf); err != nil {
		t.Fatal(err)
	}

	f.Unplug()
	if _, err := open.Read(buf); !errors.Is(err, syscall.EIO) {
		t.Errorf("read of an open file after Unplug: %v, want EIO", err)
	}
	if _, err := open.Stat(); !errors.Is(err, syscall.EIO) {
		t.Errorf("fstat of an open file after Unplug: %v, want EIO", err)
	}
	if _, err := os.Stat(f.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("mount point after Unplug: %v, want it gone", err)
	}
	if mounted(t, f.Dir) {
		t.Errorf("%s still in the mount table after Unplug", f.Dir)
	}

	f.Replug()
	got, err := os.ReadFile(filepath.Join(f.Dir, "big.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after Replug: %d bytes, %v", len(got), err)
	}
	if _, err := open.Read(buf); !errors.Is(err, syscall.EIO) {
		t.Errorf("a file opened before Unplug, after Replug: %v, want EIO", err)
	}
}

// TestCleanupUnmounts checks that a subtest's mount is gone after it ends,
// though it failed with a file still open on it.
func TestCleanupUnmounts(t *testing.T) {
	var dir string
	var held *os.File
	t.Run("mount", func(t *testing.T) {
		f, _ := setup(t, pattern(4096))
		dir = f.Dir
		var err error
		if held, err = os.Open(filepath.Join(f.Dir, "big.bin")); err != nil {
			t.Fatal(err)
		}
	})
	if dir == "" {
		t.Skip("the mount was skipped")
	}
	defer held.Close()
	if mounted(t, dir) {
		t.Errorf("%s still in the mount table after its test ended", dir)
	}
	if _, err := held.Read(make([]byte, 1)); err == nil {
		t.Error("a file held open across cleanup still reads")
	}
}
