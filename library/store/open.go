package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Open opens the store in dir, making dir (0700) and the store's file
// (0600) when missing. Another process holding the store (or another Open
// of dir in this process) gives ErrLocked once LockTimeout has passed. A
// store written by a newer version, or a corrupt one, is renamed aside
// with one warning in log and a new one made; an older one is migrated
// (see the package documentation). Errors reading or writing dir itself
// (permissions, I/O) are returned: the caller cannot go on without it.
func (o Options) Open(dir string, log *slog.Logger) (*Store, error) {
	o = o.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// Each round either opens the store or changes the file at path (sets
	// it aside, or finds it replaced by another process): a few rounds are
	// plenty, and the bound makes a loop impossible.
	for range 4 {
		db, again, err := o.openOnce(path, log)
		if err != nil {
			return nil, err
		}
		if again {
			continue
		}
		s := &Store{db: db, log: log, opts: o, path: path, pending: newQueue()}
		s.releaseMap() // the check walked every page
		return s, nil
	}
	return nil, fmt.Errorf("store: %s keeps changing while it is opened", path)
}

// openOnce opens path and checks it. again means try once more: the file
// was set aside, or replaced meanwhile by another process.
func (o Options) openOnce(path string, log *slog.Logger) (db *bolt.DB, again bool, err error) {
	db, f, err := openBolt(path, o.LockTimeout)
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, false, fmt.Errorf("%w: %s", ErrLocked, filepath.Dir(path))
	case err != nil && isSystemError(err):
		return nil, false, fmt.Errorf("store: open %s: %w", path, err)
	case errors.Is(err, errFault):
		// bbolt faulted after mapping the file and its mapping stays: the
		// mapping keeps the lock, so we still hold it and set the file
		// aside under it (the mapping of the file set aside stays
		// unused until the process ends).
		same := f != nil && sameFile(f, path)
		if f != nil {
			f.Close()
		}
		if !same {
			return nil, true, nil
		}
		if err := o.setAside(path, "corrupt", err, log); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	case err != nil:
		// bbolt refused the file. It let go of its lock: take one of our
		// own to set the file aside, so that two processes starting at
		// once cannot both do it (the second would move the first's new
		// store).
		if err := o.setAsideUnlocked(path, "corrupt", err, log); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	}
	// Another process may have set the file aside between our open and
	// our lock: then we hold the lock of the old file.
	if !sameFile(f, path) {
		db.Close()
		return nil, true, nil
	}
	fi, err := f.Stat()
	if err != nil {
		db.Close()
		return nil, false, fmt.Errorf("store: %w", err)
	}
	for range 2 {
		v, format, why := check(db, fi.Size(), o.currentFormat())
		switch v {
		case verdictCurrent:
			db.AllocSize = allocSize
			// A compaction cut short leaves its copy: only the holder
			// of the lock (we) makes one.
			os.Remove(path + compactSuffix)
			if ok, _ := wantsCompaction(db, fi.Size()); ok {
				var err error
				if db, err = compact(db, path, o.LockTimeout, log); err != nil {
					log.Warn("store: compaction failed; going on with the store as it is", "err", err)
				}
			}
			return db, false, nil
		case verdictEmpty:
			db.AllocSize = allocSize
			if err := initialize(db, o.currentFormat()); err != nil {
				db.Close()
				return nil, false, fmt.Errorf("store: make %s: %w", path, err)
			}
			return db, false, nil
		case verdictOlder:
			err := o.migrate(db, format, log)
			if err == nil {
				continue // check the result
			}
			why = err
		case verdictNewer:
			err := o.setAside(path, "newer", fmt.Errorf("written by a newer mediaftpd (format %d, this one reads up to %d)", format, o.currentFormat()), log)
			db.Close()
			return nil, err == nil, err
		}
		// Corrupt. We still hold the lock: set the file aside under it.
		err := o.setAside(path, "corrupt", why, log)
		db.Close()
		return nil, err == nil, err
	}
	db.Close()
	return nil, false, fmt.Errorf("store: %s: migration left format %d", path, o.currentFormat())
}

// openBolt opens path with bbolt, turning a memory fault or panic while
// bbolt reads a damaged file into errFault. f is the file bbolt opened
// (after errFault, the caller closes it).
func openBolt(path string, lockTimeout time.Duration) (db *bolt.DB, f *os.File, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	opts := &bolt.Options{
		Timeout: lockTimeout,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			file, err := os.OpenFile(name, flag, perm)
			if err == nil {
				f = file
			}
			return file, err
		},
	}
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", errFault, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, opts)
	return db, f, err
}

// isSystemError tells an error of the system (permissions, I/O, no space)
// from bbolt finding the file's contents bad.
func isSystemError(err error) bool {
	var errno syscall.Errno
	var pe *os.PathError
	return errors.As(err, &errno) || errors.As(err, &pe)
}

// sameFile reports whether f is still the file at path.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}

// initialize makes the buckets of an empty store.
func initialize(db *bolt.DB, format uint32) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketDetails, bucketPositions, bucketValues} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, encodeFormat(format))
	})
}
