package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Position returns where a person or a TV stopped playing share/rel
// (resume) and when that was set; ok is false when none is kept.
// Positions are shared by the web player and Samsung's X_SetBookmark.
func (s *Store) Position(share, rel string) (pos time.Duration, at time.Time, ok bool) {
	s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPositions).Bucket([]byte(share))
		if b == nil {
			return nil
		}
		v := b.Get(relKey(rel))
		if v == nil {
			return nil
		}
		var err error
		pos, at, err = decodePosition(v)
		ok = err == nil
		return nil
	})
	return pos, at, ok
}

// PositionsIn calls fn with the name and position of each file directly
// in the folder dir of the share ("." for its top) that has one, in one
// read: a listing shows the positions of a whole page at once.
func (s *Store) PositionsIn(share, dir string, fn func(name string, pos time.Duration)) {
	var prefix []byte
	if dir != "." && dir != "" {
		prefix = append(appendRelKey(nil, dir), sep)
	}
	s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPositions).Bucket([]byte(share))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			name := k[len(prefix):]
			if bytes.IndexByte(name, sep) >= 0 {
				continue // in a folder of dir
			}
			if pos, _, err := decodePosition(v); err == nil {
				fn(string(name), pos)
			}
		}
		return nil
	})
}

// SetPosition keeps pos as where share/rel stopped playing at the time
// at, written at once (one transaction); pos <= 0 removes it (watched to
// the end, or from the start).
func (s *Store) SetPosition(share, rel string, pos time.Duration, at time.Time) error {
	if err := checkShare(share); err != nil {
		return err
	}
	if err := checkRel(rel); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		top := tx.Bucket(bucketPositions)
		if pos <= 0 {
			b := top.Bucket([]byte(share))
			if b == nil {
				return nil
			}
			return b.Delete(relKey(rel))
		}
		b, err := top.CreateBucketIfNotExists([]byte(share))
		if err != nil {
			return err
		}
		return b.Put(relKey(rel), encodePosition(pos, at))
	})
	if err != nil {
		return fmt.Errorf("store: position of %s/%s: %w", share, rel, s.closedErr(err))
	}
	return nil
}

// closedErr turns bbolt's error for a closed database into ErrClosed.
func (s *Store) closedErr(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
