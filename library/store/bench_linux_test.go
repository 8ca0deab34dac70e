package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkRestartCold is BenchmarkRestart with the store's file dropped
// from the page cache before each Open (posix_fadvise DONTNEED on that
// file only), so its pages come from the disk, as after a reboot.
func BenchmarkRestartCold(b *testing.B) {
	dir := b.TempDir()
	fillStore(b, dir, benchOrder(true), Options{})
	reopen(b, dir) // compacts it: the store as restarts find it
	path := filepath.Join(dir, FileName)
	for _, details := range []bool{false, true} {
		b.Run(fmt.Sprintf("files=%d/details=%v", benchFiles, details), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dropCache(b, path)
				b.StartTimer()
				restart(b, dir, details)
			}
		})
	}
}

// dropCache drops the file at path from the page cache.
func dropCache(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatal(err)
	}
}
