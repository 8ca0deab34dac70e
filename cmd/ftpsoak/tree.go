package main

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// The media tree the soak serves, made fresh in a temporary folder and
// shared as "media":
//
//	media/
//	  Films/              the big files (-sizes), UTF-8 names
//	  Music/              one more big file when -sizes has five
//	  Photos/Ünïcode ✓/   a few small files in a folder with a UTF-8 name
//	  many/               -many small files, for listings
//
// Every file's bytes are a function of its virtual path and the offset
// (see fillContent), so the clients verify every byte they receive,
// wherever a seek starts, without reading the files themselves.

// shareName is the share the soak's tree is served as.
const shareName = "media"

// bigNames are the virtual paths of the big files, given sizes in order.
var bigNames = []string{
	"/media/Films/Big Buck Bunny (2008).mkv",
	"/media/Films/Amélie (2001).mkv",
	"/media/Films/東京物語 (1953).mkv",
	"/media/Films/Ça tourne - Épisode 1.mp4",
	"/media/Music/Ça plane pour moi (live).flac",
}

// mediaFile is one file of the tree.
type mediaFile struct {
	vpath string // "/media/Films/..."
	size  int64
	seed  uint64
}

// tree is the generated media tree.
type tree struct {
	root  string                // host folder shared as shareName
	big   []mediaFile           // files for streams, seeks and drops
	small []mediaFile           // files of many/ and Photos/
	dirs  map[string][]string   // virtual folder -> its entries' names, sorted
	files map[string]*mediaFile // every file by virtual path
	bytes int64                 // total size of the files
}

// seedOf returns the content seed of a virtual path.
func seedOf(vpath string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(vpath))
	return h.Sum64()
}

// mix is splitmix64's finalizer: a cheap, well-spread function of w.
func mix(w uint64) uint64 {
	w += 0x9e3779b97f4a7c15
	w = (w ^ w>>30) * 0xbf58476d1ce4e5b9
	w = (w ^ w>>27) * 0x94d049bb133111eb
	return w ^ w>>31
}

// fillContent fills p with the bytes of the file with the seed from offset
// off: the 8 bytes at offset 8w are mix(seed+w), little-endian.
func fillContent(seed uint64, off int64, p []byte) {
	var b [8]byte
	for len(p) > 0 {
		w := uint64(off) >> 3
		if off&7 == 0 && len(p) >= 8 {
			binary.LittleEndian.PutUint64(p, mix(seed+w))
			p, off = p[8:], off+8
			continue
		}
		binary.LittleEndian.PutUint64(b[:], mix(seed+w))
		n := copy(p, b[off&7:])
		p, off = p[n:], off+int64(n)
	}
}

// makeTree writes the tree into root: big files of the sizes given, in
// MiB, and many small files in many/.
func makeTree(root string, sizesMiB []int, many int) (*tree, error) {
	if len(sizesMiB) > len(bigNames) {
		return nil, fmt.Errorf("at most %d big files", len(bigNames))
	}
	t := &tree{root: root, dirs: map[string][]string{}, files: map[string]*mediaFile{}}
	for i, mb := range sizesMiB {
		t.big = append(t.big, mediaFile{vpath: bigNames[i], size: int64(mb) << 20})
	}
	for i := range 6 {
		t.small = append(t.small, mediaFile{vpath: fmt.Sprintf("/media/Photos/Ünïcode ✓/Été %d – plage.jpg", i+1), size: int64(100<<10 + i*7919)})
	}
	for i := range many {
		t.small = append(t.small, mediaFile{vpath: fmt.Sprintf("/media/many/Clip %05d - Fête des Lumières.mkv", i+1), size: int64(i * 37 % 4096)})
	}
	buf := make([]byte, 4<<20)
	for _, list := range [][]mediaFile{t.big, t.small} {
		for i := range list {
			f := &list[i]
			f.seed = seedOf(f.vpath)
			if err := t.write(f, buf); err != nil {
				return nil, err
			}
			t.files[f.vpath] = f
			t.bytes += f.size
		}
	}
	// The root of the FTP server lists the share; the share lists its
	// folders.
	t.dirs["/"] = []string{shareName}
	for v := range t.dirs {
		slices.Sort(t.dirs[v])
	}
	return t, nil
}

// write writes one file and records it and its folders in t.dirs.
func (t *tree) write(f *mediaFile, buf []byte) error {
	host := t.host(f.vpath)
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	for d := f.vpath; d != "/"+shareName; {
		parent := path.Dir(d)
		name := path.Base(d)
		if !slices.Contains(t.dirs[parent], name) {
			t.dirs[parent] = append(t.dirs[parent], name)
		}
		d = parent
	}
	out, err := os.OpenFile(host, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	for off := int64(0); off < f.size; {
		n := min(int64(len(buf)), f.size-off)
		fillContent(f.seed, off, buf[:n])
		if _, err := out.Write(buf[:n]); err != nil {
			out.Close()
			return fmt.Errorf("writing %s: %w", host, err)
		}
		off += n
	}
	return out.Close()
}

// host returns the host path of a virtual path of the share.
func (t *tree) host(vpath string) string {
	return filepath.Join(t.root, filepath.FromSlash(strings.TrimPrefix(vpath, "/"+shareName)))
}

// fileCount is the number of files in the tree.
func (t *tree) fileCount() int { return len(t.files) }
