package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// The media tree both servers serve. vsftpd's anon_root is <dir>/root and
// mediaftpd shares <dir>/root/media as "media", so the same virtual paths
// name the same files on both: /media/big.bin and so on.
//
//	<dir>/root/             0555, root's: vsftpd refuses a writable anon_root
//	  media/
//	    big.bin             1 GiB of pseudo-random bytes, really written
//	    many/               20,000 small files, for LIST
//	    small/clip-N.mkv    a few small files, for SIZE
//
// big.bin is written once, not made sparse: a sparse file is served from
// the zero page and would measure nothing but the network path. The bench
// reads it through once before the downloads, so both servers send it
// from the page cache; the machine needs the free memory for that.
const (
	bigName   = "/media/big.bin"
	bigSize   = 1 << 30
	manyDir   = "/media/many"
	manyCount = 20000
	smallName = "/media/small/clip-1.mkv"
	// treeVersion names the marker of a complete tree; change it when the
	// tree's shape changes, so that an old tree is made again.
	treeVersion = "tree-v1.complete"
)

// tree is the generated media tree.
type tree struct {
	dir  string // the bench's folder; the markers live here
	root string // vsftpd's anon_root
}

func (t tree) media() string { return filepath.Join(t.root, "media") }

// host returns the host path of a virtual path.
func (t tree) host(vpath string) string { return filepath.Join(t.root, filepath.FromSlash(vpath)) }

// bigContent generates big.bin's bytes: random, so that a server that
// sends the bytes of the wrong offset fails the seek workload's check.
func bigContent() io.Reader { return rand.NewChaCha8([32]byte{'f', 't', 'p'}) }

// ensureTree makes the tree under dir unless a complete one is there, and
// reads big.bin once so that it is in the page cache.
func ensureTree(dir string, progress io.Writer) (tree, error) {
	t := tree{dir: dir, root: filepath.Join(dir, "root")}
	marker := filepath.Join(dir, treeVersion)
	if _, err := os.Stat(marker); err != nil {
		fmt.Fprintf(progress, "making the media tree in %s (once; about 1 GiB)\n", dir)
		start := time.Now()
		if err := makeTree(t); err != nil {
			return t, fmt.Errorf("making the media tree: %w", err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return t, err
		}
		fmt.Fprintf(progress, "made the media tree in %v\n", time.Since(start).Round(time.Millisecond))
	}
	// vsftpd chroots anonymous sessions into root and refuses a root
	// that the ftp user could write.
	if err := os.Chmod(t.root, 0o555); err != nil {
		return t, err
	}
	f, err := os.Open(t.host(bigName))
	if err != nil {
		return t, err
	}
	defer f.Close()
	n, err := io.CopyBuffer(io.Discard, f, make([]byte, 1<<20))
	if err != nil {
		return t, fmt.Errorf("reading %s into the page cache: %w", f.Name(), err)
	}
	if n != bigSize {
		return t, fmt.Errorf("%s has %d bytes, want %d: remove %s and run again", f.Name(), n, bigSize, dir)
	}
	return t, nil
}

func makeTree(t tree) error {
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(t.root); err == nil {
		// An incomplete tree from an interrupted run.
		if err := os.Chmod(t.root, 0o755); err != nil {
			return err
		}
		if err := os.RemoveAll(t.root); err != nil {
			return err
		}
	}
	for _, d := range []string{manyDir, "/media/small"} {
		if err := os.MkdirAll(t.host(d), 0o755); err != nil {
			return err
		}
	}
	if err := writeBig(t.host(bigName)); err != nil {
		return err
	}
	line := []byte("a small file of the many\n")
	for i := range manyCount {
		name := fmt.Sprintf("Clip %05d - Holiday in the mountains.mkv", i+1)
		if err := os.WriteFile(filepath.Join(t.host(manyDir), name), line, 0o444); err != nil {
			return err
		}
	}
	for i := range 4 {
		b := make([]byte, 64<<10*(i+1))
		rand.NewChaCha8([32]byte{byte(i)}).Read(b)
		if err := os.WriteFile(t.host(fmt.Sprintf("/media/small/clip-%d.mkv", i+1)), b, 0o444); err != nil {
			return err
		}
	}
	return nil
}

// writeBig writes big.bin in full from bigContent.
func writeBig(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o444)
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(f, io.LimitReader(bigContent(), bigSize), make([]byte, 4<<20))
	return errors.Join(err, f.Close())
}
