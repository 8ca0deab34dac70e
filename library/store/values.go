package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Value returns a copy of the small value called name (the DLNA UDN,
// SystemUpdateID's high-water mark), if one is kept.
func (s *Store) Value(name string) ([]byte, bool) {
	var v []byte
	s.db.View(func(tx *bolt.Tx) error {
		if got := tx.Bucket(bucketValues).Get([]byte(name)); got != nil {
			v = append([]byte{}, got...)
		}
		return nil
	})
	return v, v != nil
}

// SetValue keeps v under name, written at once (one transaction); a nil v
// removes the value. Values are meant to be small (bytes, not megabytes).
func (s *Store) SetValue(name string, v []byte) error {
	if name == "" {
		return fmt.Errorf("%w: empty value name", ErrBadName)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketValues)
		if v == nil {
			return b.Delete([]byte(name))
		}
		return b.Put([]byte(name), bytes.Clone(v))
	})
	if err != nil {
		return fmt.Errorf("store: value %q: %w", name, s.closedErr(err))
	}
	return nil
}
