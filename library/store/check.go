package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// migrations[f] turns a store of format f into format f+1 within one
// transaction. Format 1 is the first: there are none yet. A format with
// no step loses its details (a cache) and keeps positions and values, so
// a change to their encodings needs a step.
var migrations = map[uint32]func(*bolt.Tx) error{}

// verdict is what check finds.
type verdict int

const (
	verdictCurrent verdict = iota // the format of this code, sound
	verdictEmpty                  // a new file: no buckets yet
	verdictOlder                  // an older format: migrate
	verdictNewer                  // a newer format: set aside
	verdictCorrupt                // set aside
)

// check reads the store's meta and walks its buckets, decoding every
// stamp and position, with memory faults turned into panics and every
// panic into verdictCorrupt. fileSize is the size of the file.
func check(db *bolt.DB, fileSize int64, current uint32) (v verdict, format uint32, why error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	tx, err := db.Begin(false)
	if err != nil {
		return verdictCorrupt, 0, err
	}
	defer tx.Rollback()
	defer func() {
		if r := recover(); r != nil {
			v, why = verdictCorrupt, fmt.Errorf("%w: %v", errFault, r)
		}
	}()
	if tx.Size() > fileSize {
		return verdictCorrupt, 0, fmt.Errorf("the file has %d bytes, its pages need %d (truncated)", fileSize, tx.Size())
	}
	if k, _ := tx.Cursor().First(); k == nil {
		return verdictEmpty, 0, nil
	}
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return verdictCorrupt, 0, errors.New("no meta bucket")
	}
	format, err = decodeFormat(meta.Get(keyFormat))
	switch {
	case err != nil || format == 0:
		return verdictCorrupt, 0, errors.New("no format number in the meta bucket")
	case format > current:
		return verdictNewer, format, nil
	case format < current:
		return verdictOlder, format, nil
	}
	if err := walk(tx); err != nil {
		return verdictCorrupt, format, err
	}
	return verdictCurrent, format, nil
}

// walk checks every bucket of a store of the current format.
func walk(tx *bolt.Tx) error {
	for _, b := range []struct {
		name   []byte
		decode func([]byte) error
	}{
		{bucketDetails, func(v []byte) error { _, _, err := decodeDetails(v); return err }},
		{bucketPositions, func(v []byte) error { _, _, err := decodePosition(v); return err }},
	} {
		top := tx.Bucket(b.name)
		if top == nil {
			return fmt.Errorf("no %s bucket", b.name)
		}
		c := top.Cursor()
		for share, v := c.First(); share != nil; share, v = c.Next() {
			if v != nil || checkShare(string(share)) != nil {
				return fmt.Errorf("bucket %s: a bad share %q", b.name, share)
			}
			sc := top.Bucket(share).Cursor()
			for k, v := sc.First(); k != nil; k, v = sc.Next() {
				if v == nil || len(k) == 0 {
					return fmt.Errorf("bucket %s/%s: a bad entry %q", b.name, share, k)
				}
				if err := b.decode(v); err != nil {
					return fmt.Errorf("bucket %s/%s: entry %q: %w", b.name, share, k, err)
				}
			}
		}
	}
	values := tx.Bucket(bucketValues)
	if values == nil {
		return fmt.Errorf("no %s bucket", bucketValues)
	}
	return values.ForEach(func(k, v []byte) error {
		if v == nil {
			return fmt.Errorf("bucket %s: a bad entry %q", bucketValues, k)
		}
		return nil
	})
}

// migrate brings a store of an older format to the current one in one
// transaction: the steps from format to the current one, or, where a step
// is missing, new empty details (positions and values stay).
func (o Options) migrate(db *bolt.DB, format uint32, log *slog.Logger) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errFault, r)
		}
	}()
	current, steps := o.currentFormat(), o.migrationSteps()
	dropped := false
	err = db.Update(func(tx *bolt.Tx) error {
		for f := format; f < current; f++ {
			step, ok := steps[f]
			if !ok {
				dropped = true
				break
			}
			if err := step(tx); err != nil {
				return fmt.Errorf("migrate from format %d: %w", f, err)
			}
		}
		if dropped {
			if err := tx.DeleteBucket(bucketDetails); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
		}
		for _, name := range [][]byte{bucketDetails, bucketPositions, bucketValues} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, encodeFormat(current))
	})
	if err != nil {
		return err
	}
	if dropped {
		log.Info("store: an older format; media details will be read again (positions and values kept)", "file", db.Path(), "format", format, "now", current)
	} else {
		log.Info("store: migrated from an older format", "file", db.Path(), "format", format, "now", current)
	}
	return nil
}

// setAside renames the store at path to "<path>.<kind>-<UTC time>", which
// the caller holds the lock of, and says so once.
func (o Options) setAside(path, kind string, why error, log *slog.Logger) error {
	aside := fmt.Sprintf("%s.%s-%s", path, kind, o.Now().UTC().Format("20060102T150405Z"))
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s.%s-%s-%d", path, kind, o.Now().UTC().Format("20060102T150405Z"), i)
	}
	if kind == "corrupt" {
		why = fmt.Errorf("corrupt (%w)", why)
	}
	if err := os.Rename(path, aside); err != nil {
		return fmt.Errorf("store: %s: %v, and it cannot be set aside: %w", path, why, err)
	}
	log.Warn(fmt.Sprintf("store: %v: set aside, starting a new one", why), "file", path, "moved_to", aside)
	return nil
}

// setAsideUnlocked sets the store at path aside under a lock of its own
// (bbolt refused the file and let go of its lock).
func (o Options) setAsideUnlocked(path, kind string, why error, log *slog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	deadline := time.Now().Add(o.LockTimeout)
	for {
		err := lockFile(f)
		if err == nil {
			break
		}
		if !errors.Is(err, errWouldBlock) {
			return fmt.Errorf("store: lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s", ErrLocked, path)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !sameFile(f, path) {
		return nil // set aside or replaced by another process: open again
	}
	return o.setAside(path, kind, why, log)
}
