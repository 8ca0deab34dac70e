package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOpenMakesFolderAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "mediaftpd")
	log, buf := newLog()
	s, err := Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, FileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
	if s.Path() != filepath.Join(dir, FileName) {
		t.Errorf("Path() = %q", s.Path())
	}
	if buf.String() != "" {
		t.Errorf("a new store logged:\n%s", buf)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files, want the store only", len(entries))
	}
}

// makeStore makes a store in a new folder with a few details, positions
// and values, and returns the folder and the file.
func makeStore(t *testing.T, details int) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range details {
		if err := s.putDetailsRaw("S", streamRel(i), streamStamp(i), streamRaw(i)); err != nil {
			t.Fatal(err)
		}
	}
	s.SetPosition("S", streamRel(0), time.Minute, time.Unix(1, 0))
	s.SetValue("udn", []byte("uuid:1"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, s.Path()
}

// boltUpdate changes the bbolt file at path directly.
func boltUpdate(t *testing.T, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// highWater is the size a bbolt file's pages need (its file may be longer).
func highWater(t *testing.T, path string) int64 {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// pagesOf returns the ids of the pages of type typ in the bbolt file.
func pagesOf(t *testing.T, path, typ string) []int64 {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []int64
	db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil {
				t.Fatal(err)
			}
			if p == nil {
				return nil
			}
			if p.Type == typ {
				ids = append(ids, int64(id))
			}
		}
	})
	if len(ids) == 0 {
		t.Fatalf("no %s page", typ)
	}
	return ids
}

// leafPage and branchPage return a leaf page and a branch page of the file.
func leafPage(t *testing.T, path string) int64 {
	ids := pagesOf(t, path, "leaf")
	return ids[len(ids)/2]
}

func branchPage(t *testing.T, path string) int64 { return pagesOf(t, path, "branch")[0] }

func truncateAt(at func(hw int64) int64) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if err := os.Truncate(path, at(highWater(t, path))); err != nil {
			t.Fatal(err)
		}
	}
}

// overwrite writes n random bytes at off (or from off to the high water
// mark when n is 0).
func overwrite(off, n int64) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if n == 0 {
			n = highWater(t, path) - off
		}
		b := make([]byte, n)
		randomBytes(b, uint64(off)<<32|uint64(n))
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
}

func replaceWith(b []byte) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func changeBolt(fn func(*bolt.Tx) error) func(*testing.T, string) {
	return func(t *testing.T, path string) { boltUpdate(t, path, fn) }
}

func garbage(n int) []byte {
	b := make([]byte, n)
	randomBytes(b, uint64(n))
	return b
}

// randomBytes fills b with bytes that depend on seed only.
func randomBytes(b []byte, seed uint64) {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	rand.NewChaCha8(s).Read(b)
}

// TestOpenSetsAside damages a store in each way and checks that Open sets
// it aside, byte for byte, says so in one warning, and makes a new store
// that works.
func TestOpenSetsAside(t *testing.T) {
	const page = 4096
	tests := []struct {
		name   string
		damage func(*testing.T, string)
		kind   string // "newer" or "corrupt"
		says   string // in the warning
	}{
		{"newer format", changeBolt(func(tx *bolt.Tx) error {
			tx.CreateBucketIfNotExists([]byte("a new bucket"))
			return tx.Bucket(bucketMeta).Put(keyFormat, encodeFormat(formatVersion+98))
		}), "newer", "newer mediaftpd (format 99"},
		{"garbage", replaceWith(garbage(64 << 10)), "corrupt", "invalid"},
		{"short garbage", replaceWith(garbage(100)), "corrupt", "invalid"},
		{"zeroes", replaceWith(make([]byte, 32<<10)), "corrupt", "invalid"},
		{"text", replaceWith(bytes.Repeat([]byte("not a database\n"), 1000)), "corrupt", "invalid"},
		{"truncated to 1 byte", truncateAt(func(int64) int64 { return 1 }), "corrupt", "invalid"},
		{"truncated to 1 page", truncateAt(func(int64) int64 { return page }), "corrupt", "too small"},
		{"truncated after the meta pages", truncateAt(func(int64) int64 { return 2*page + 100 }), "corrupt", ""},
		{"truncated to half", truncateAt(func(hw int64) int64 { return hw / 2 }), "corrupt", ""},
		{"last page cut", truncateAt(func(hw int64) int64 { return hw - page }), "corrupt", ""},
		{"meta pages garbage", overwrite(0, 2*page), "corrupt", ""},
		{"data pages garbage", overwrite(2*page, 0), "corrupt", ""},
		{"a leaf page garbage", func(t *testing.T, path string) { overwrite(leafPage(t, path)*page, page)(t, path) }, "corrupt", ""},
		{"a branch page garbage", func(t *testing.T, path string) { overwrite(branchPage(t, path)*page, page)(t, path) }, "corrupt", ""},
		{"no meta bucket", changeBolt(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketMeta) }), "corrupt", "no meta bucket"},
		{"meta garbage", changeBolt(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte("one")) }), "corrupt", "no format number"},
		{"format 0", changeBolt(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, encodeFormat(0)) }), "corrupt", "no format number"},
		{"no details bucket", changeBolt(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketDetails) }), "corrupt", "no details bucket"},
		{"no values bucket", changeBolt(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketValues) }), "corrupt", "no values bucket"},
		{"a value in the details bucket", changeBolt(func(tx *bolt.Tx) error { return tx.Bucket(bucketDetails).Put([]byte("x"), []byte("y")) }), "corrupt", "bad share"},
		{"a bucket in a share", changeBolt(func(tx *bolt.Tx) error {
			_, err := tx.Bucket(bucketDetails).Bucket([]byte("S")).CreateBucket([]byte("x"))
			return err
		}), "corrupt", "bad entry"},
		{"a bad stamp", changeBolt(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketDetails).Bucket([]byte("S")).Put(relKey(streamRel(7)), []byte{0xff})
		}), "corrupt", "bad value"},
		{"a bad position", changeBolt(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketPositions).Bucket([]byte("S")).Put([]byte("x"), []byte{1, 2, 3})
		}), "corrupt", "bad value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, path := makeStore(t, 3000)
			tt.damage(t, path)
			damaged, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			log, buf := newLog()
			at := time.Date(2026, 7, 1, 12, 30, 45, 0, time.FixedZone("CEST", 2*3600))
			s, err := Options{Now: func() time.Time { return at }}.Open(dir, log)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			aside := path + "." + tt.kind + "-20260701T103045Z"
			kept, err := os.ReadFile(aside)
			if err != nil {
				t.Fatalf("not set aside as %s: %v", filepath.Base(aside), err)
			}
			if !bytes.Equal(kept, damaged) {
				t.Errorf("the file set aside differs from the damaged one")
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], tt.says) || !strings.Contains(lines[0], filepath.Base(aside)) {
				t.Errorf("log:\n%s\nwant one warning saying %q and naming %s", buf, tt.says, filepath.Base(aside))
			}
			t.Logf("log: %s", lines[0])

			// A new store, empty and working.
			if st, err := s.Stats(); err != nil || st.Details != 0 || st.Positions != 0 {
				t.Errorf("new store: %+v, %v", st, err)
			}
			if _, ok := s.Value("udn"); ok {
				t.Error("new store has a value")
			}
			if err := s.putDetailsRaw("S", "a", Stamp{Size: 1}, []byte("x")); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s, err = Open(dir, log)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := s.detailsRaw("S", "a", Stamp{Size: 1}); !ok {
				t.Error("the new store lost a put")
			}
			if n := strings.Count(buf.String(), "\n"); n != 1 {
				t.Errorf("opening the new store again logged:\n%s", buf)
			}
		})
	}
}

// TestOpenSetsAsideTwice: a second damaged store set aside within the same
// second gets a name of its own.
func TestOpenSetsAsideTwice(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := Options{Now: func() time.Time { return at }}
	for i := range 3 {
		os.WriteFile(path, garbage(10000+i), 0o600)
		s, err := o.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	for _, name := range []string{".corrupt-20260102T030405Z", ".corrupt-20260102T030405Z-2", ".corrupt-20260102T030405Z-3"} {
		if _, err := os.Stat(path + name); err != nil {
			t.Error(err)
		}
	}
}

// TestOpenIntact: a store that is sound opens as it is, whatever the
// damage to the part of the file its pages do not use.
func TestOpenIntact(t *testing.T) {
	dir, path := makeStore(t, 3000)
	hw := highWater(t, path)
	fi, _ := os.Stat(path)
	if fi.Size() > hw {
		os.Truncate(path, hw) // the unused tail: not needed
	}
	log, buf := newLog()
	s, err := Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if buf.String() != "" {
		t.Errorf("log:\n%s", buf)
	}
	n := 0
	s.EachDetails("S", func(rel string, st Stamp) bool {
		n++
		return true
	})
	if _, ok := s.detailsRaw("S", streamRel(2999), streamStamp(2999)); n != 3000 || !ok {
		t.Errorf("%d details, the last found %v", n, ok)
	}
}

// TestOpenOlder: an older format is migrated by its steps, or loses its
// details (a cache) and keeps positions and values; a failing step sets
// the store aside. The "current" format is 2 here (Options.format).
func TestOpenOlder(t *testing.T) {
	tests := []struct {
		name       string
		steps      map[uint32]func(*bolt.Tx) error
		details    int
		says       string
		setAside   bool
		stepValues bool
	}{
		{"no step", nil, 0, "read again", false, false},
		{"a step", map[uint32]func(*bolt.Tx) error{1: func(tx *bolt.Tx) error {
			return tx.Bucket(bucketValues).Put([]byte("step"), []byte("1"))
		}}, 100, "migrated", false, true},
		{"a failing step", map[uint32]func(*bolt.Tx) error{1: func(tx *bolt.Tx) error {
			return errors.New("cannot")
		}}, 0, "cannot", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, path := makeStore(t, 100)
			log, buf := newLog()
			steps := tt.steps
			if steps == nil {
				steps = map[uint32]func(*bolt.Tx) error{}
			}
			s, err := Options{format: 2, migrations: steps}.Open(dir, log)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			t.Logf("log: %s", buf)
			if !strings.Contains(buf.String(), tt.says) {
				t.Errorf("log:\n%s\nwant %q", buf, tt.says)
			}
			st, _ := s.Stats()
			if st.Details != tt.details {
				t.Errorf("%d details, want %d", st.Details, tt.details)
			}
			_, _, posOK := s.Position("S", streamRel(0))
			_, valOK := s.Value("udn")
			if posOK == tt.setAside || valOK == tt.setAside {
				t.Errorf("position kept %v, value kept %v", posOK, valOK)
			}
			if _, ok := s.Value("step"); ok != tt.stepValues {
				t.Errorf("the step's value: %v", ok)
			}
			matches, _ := filepath.Glob(path + ".corrupt-*")
			if (len(matches) == 1) != tt.setAside {
				t.Errorf("set aside: %q", matches)
			}
			s.Close()
			// This code's real format (1) finds the store newer now.
			if tt.setAside {
				return
			}
			s, err = Open(dir, log)
			if err != nil {
				t.Fatal(err)
			}
			if matches, _ := filepath.Glob(path + ".newer-*"); len(matches) != 1 {
				t.Errorf("a format 2 store opened by format 1: set aside as %q", matches)
			}
		})
	}
}

func TestOpenLockedInProcess(t *testing.T) {
	s, dir := newTestStore(t, Options{})
	for range 2 {
		_, err := Options{LockTimeout: 50 * time.Millisecond}.Open(dir, nil)
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open: %v; want ErrLocked", err)
		}
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("error %q does not name %s", err, dir)
		}
	}
	s.Close()
	s2, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestOpenLockedByAnotherProcess(t *testing.T) {
	dir, path := makeStore(t, 10)
	h := startHelper(t, "hold", dir)
	if l := h.line(t); l != "open" {
		t.Fatalf("helper: %q", l)
	}
	_, err := Options{LockTimeout: 100 * time.Millisecond}.Open(dir, nil)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while another process holds the store: %v; want ErrLocked", err)
	}
	t.Logf("error: %v", err)
	// A damaged file held by another process is not set aside by us.
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open after the other process ended: %v", err)
	}
	defer s.Close()
	if _, ok := s.detailsRaw("S", streamRel(9), streamStamp(9)); !ok {
		t.Error("details lost")
	}
	if matches, _ := filepath.Glob(path + ".*"); len(matches) != 0 {
		t.Errorf("files set aside: %q", matches)
	}
}

// TestOpenDamagedWhileLocked: a damaged store that another process holds
// is left alone: ErrLocked, nothing set aside.
func TestOpenDamagedWhileLocked(t *testing.T) {
	dir, path := makeStore(t, 10)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	overwrite(0, 2*4096)(t, path)
	if err := lockFile(f); err != nil {
		t.Fatal(err)
	}
	_, err = Options{LockTimeout: 100 * time.Millisecond}.Open(dir, nil)
	if !errors.Is(err, ErrLocked) {
		t.Errorf("Open: %v; want ErrLocked", err)
	}
	if matches, _ := filepath.Glob(path + ".*"); len(matches) != 0 {
		t.Errorf("files set aside: %q", matches)
	}
}

func TestOpenUnwritableFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(dir, nil, 0o600)
	if _, err := Open(dir, nil); err == nil {
		t.Error("Open on a file as folder: no error")
	}
}
