package store

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// allocSize is how much bbolt grows the file by at a time beyond 1 MiB
// (its default, 16 MiB, would be most of a small library's store).
const allocSize = 1 << 20

// Compaction at Open: when what the pages hold is less than half the
// file and the file is over compactMin. bbolt never shrinks its file and
// keeps pages half full after inserts in random key order (probes
// finishing in any order), so such a file is two to three times what it
// holds; a compacted one has full pages.
const compactMin = 4 << 20

// compactSuffix names the copy a compaction makes beside the store.
const compactSuffix = ".compact"

// compactTxSize bounds each transaction of a compaction.
const compactTxSize = 16 << 20

// wantsCompaction reports whether db, whose file has fileSize bytes, is
// worth compacting, and how many bytes its pages hold.
func wantsCompaction(db *bolt.DB, fileSize int64) (bool, int64) {
	live := 4 * int64(db.Info().PageSize) // meta pages, freelist, root
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			st := b.Stats()
			live += int64(st.BranchInuse + st.LeafInuse)
			return nil
		})
	})
	return fileSize > compactMin && live < fileSize/2, live
}

// compact copies db (open on path, locked) into a new file, full pages,
// and puts it in path's place; it returns the new database, open and
// locked, and closes db. The new file is locked before it takes path's
// name, so no other process can slip in. On error db is returned as it
// was, still open, and the new file removed.
func compact(db *bolt.DB, path string, lockTimeout time.Duration, log *slog.Logger) (*bolt.DB, error) {
	start := time.Now()
	before, err := os.Stat(path)
	if err != nil {
		return db, err
	}
	tmp := path + compactSuffix
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: lockTimeout, NoSync: true})
	if err != nil {
		return db, err
	}
	fail := func(err error) (*bolt.DB, error) {
		dst.Close()
		os.Remove(tmp)
		return db, fmt.Errorf("compact %s: %w", path, err)
	}
	dst.AllocSize = allocSize
	if err := bolt.Compact(dst, db, compactTxSize); err != nil {
		return fail(err)
	}
	// One sync for the whole copy; from now on every commit syncs.
	dst.NoSync = false
	if err := dst.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	syncDir(filepath.Dir(path))
	db.Close()
	after, _ := os.Stat(path)
	log.Info("store: compacted", "file", path, "bytes_before", before.Size(), "bytes_after", after.Size(), "took", time.Since(start).Round(time.Millisecond))
	return dst, nil
}

// syncDir makes a rename in dir durable (best effort: the old and the new
// file are both sound stores).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
