package store

import bolt "go.etcd.io/bbolt"

// releaseMap tells the kernel that this process does not need the pages
// of the store's file that bbolt maps, for now (see [dontNeed]): after a
// walk of the whole store (the check at Open, [Store.EachDetails]) every
// page of the file is resident in the process and counts in its RSS and
// PSS, though nothing will read most of them again soon. The pages stay
// in the page cache, and a later read faults the ones it needs back in
// (bbolt maps the file read-only and shared, and writes the file with
// pwrite, never through the map), so what the store reads is unchanged.
//
// It runs in a read transaction: bbolt remaps the file (when it grows)
// only once every read transaction has ended, so the map cannot move or
// shrink under the call. The length is the transaction's Size, the pages
// its meta says are in use: bbolt maps at least that much (it remaps
// before it allocates a page past its map), while the file itself may be
// longer than the map (bbolt grows it in steps of AllocSize past the
// pages in use) and so is not a safe length. Pages past Size are never
// read by this transaction's readers; a later transaction's new pages
// are few.
//
// A failure only leaves the pages resident, so it is logged at debug
// level and not returned.
func (s *Store) releaseMap() {
	err := s.db.View(func(tx *bolt.Tx) error {
		return dontNeed(s.db.Info().Data, uintptr(tx.Size()))
	})
	if err != nil {
		s.log.Debug("store: cannot release the pages of the map", "err", s.closedErr(err))
	}
}
