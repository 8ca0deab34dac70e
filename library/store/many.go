package store

import (
	"bytes"

	"github.com/mediaftpd/mediaftpd/library/probe"
	bolt "go.etcd.io/bbolt"
)

// Lookup names one file for DetailsMany: its share-relative path and the
// stamp its details must have been recorded for.
type Lookup struct {
	Rel   string
	Stamp Stamp
}

// DetailsMany is Details for many files of one share, read in one
// transaction: a page of a listing costs one, not one per file. It calls
// fn with the index in files of each file whose details are known for its
// stamp, once each, in no set order. fn runs inside a read transaction:
// it must not use the store. A read of at least releaseAfter files (a
// whole big folder) is a walk: the pages it made resident are released
// after it (see releaseMap).
func (s *Store) DetailsMany(share string, files []Lookup, fn func(i int, d probe.Details)) {
	if len(files) >= releaseAfter {
		defer s.releaseMap()
	}
	// What is queued or being written wins over the file, as in Details.
	queued := make([]bool, len(files))
	var fresh []int // queued files whose details are the ones asked for
	var raws [][]byte
	s.mu.Lock()
	for i, f := range files {
		p, put, forgotten := s.queuedLocked(dkey{share, f.Rel})
		queued[i] = put || forgotten
		if put && p.st == f.Stamp {
			fresh, raws = append(fresh, i), append(raws, p.raw) // never changed once queued
		}
	}
	s.mu.Unlock()
	for j, i := range fresh {
		var d probe.Details
		if d.UnmarshalBinary(raws[j]) == nil {
			fn(i, d)
		}
	}
	s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDetails).Bucket([]byte(share))
		if b == nil {
			return nil
		}
		// One cursor for all: a Get each would make a cursor each.
		c := b.Cursor()
		var key []byte
		for i, f := range files {
			if queued[i] {
				continue
			}
			key = appendRelKey(key[:0], f.Rel)
			k, v := c.Seek(key)
			if v == nil || !bytes.Equal(k, key) {
				continue
			}
			// UnmarshalBinary copies what it keeps out of v, which
			// is only valid inside the transaction.
			var d probe.Details
			if st, raw, err := decodeDetails(v); err == nil && st == f.Stamp && d.UnmarshalBinary(raw) == nil {
				fn(i, d)
			}
		}
		return nil
	})
}

// releaseAfter is how many files a DetailsMany reads for the pages it
// made resident to be released after it: a DLNA Browse of a folder of
// 10,000 songs left about 1 MB of the store's map resident (smaps).
const releaseAfter = 1000
