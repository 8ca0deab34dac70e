package store

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/mediaftpd/mediaftpd/library/probe"
	bolt "go.etcd.io/bbolt"
)

// How full bbolt fills the pages of a share's details when it splits
// them: appendFill when a batch adds after the share's last key (a first
// scan in key order: pages stay full), bbolt's default (half) otherwise
// (inserts anywhere: full pages would split again at once, leaving
// mostly empty ones).
const (
	appendFill  = 0.95
	appendShare = 0.9 // of a batch's puts after the last key, for appendFill
)

// eachChunk is how many entries EachDetails reads per read transaction.
const eachChunk = 1024

// Details returns the details of share/rel ("rel" slash-separated, as in
// package library) if they are known and were recorded for the stamp st:
// a file changed since (size, modification time or inode) has none.
// Details that do not decode (written by a newer probe) count as unknown.
func (s *Store) Details(share, rel string, st Stamp) (probe.Details, bool) {
	raw, ok := s.detailsRaw(share, rel, st)
	if !ok {
		return probe.Details{}, false
	}
	var d probe.Details
	if err := d.UnmarshalBinary(raw); err != nil {
		return probe.Details{}, false
	}
	return d, true
}

// PutDetails records the details d of share/rel for the stamp st. It is
// queued (see the package documentation); the error is a bad name,
// ErrClosed, or the error of an earlier queued write that failed
// (reported once).
func (s *Store) PutDetails(share, rel string, st Stamp, d probe.Details) error {
	raw, err := d.MarshalBinary()
	if err != nil {
		return fmt.Errorf("store: %s/%s: %w", share, rel, err)
	}
	return s.putDetailsRaw(share, rel, st, raw)
}

// queuedLocked tells what the writes not yet in the file know of k: the
// queue first, then the batch being written. s.mu is held.
func (s *Store) queuedLocked(k dkey) (p pendingPut, put, forgotten bool) {
	if p, put, forgotten = s.pending.lookup(k); put || forgotten {
		return p, put, forgotten
	}
	return s.inflight.lookup(k)
}

// detailsRaw returns the encoded details of share/rel if they are known
// and were recorded for the stamp st.
func (s *Store) detailsRaw(share, rel string, st Stamp) ([]byte, bool) {
	s.mu.Lock()
	p, put, forgotten := s.queuedLocked(dkey{share, rel})
	s.mu.Unlock()
	switch {
	case put && p.st == st:
		return bytes.Clone(p.raw), true
	case put || forgotten:
		return nil, false
	}
	var raw []byte
	ok := false
	s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDetails).Bucket([]byte(share))
		if b == nil {
			return nil
		}
		v := b.Get(relKey(rel))
		if v == nil {
			return nil
		}
		got, r, err := decodeDetails(v)
		if err != nil || got != st {
			return nil
		}
		raw, ok = append([]byte{}, r...), true
		return nil
	})
	return raw, ok
}

// putDetailsRaw queues encoded details of share/rel for the stamp st.
func (s *Store) putDetailsRaw(share, rel string, st Stamp, raw []byte) error {
	if err := checkShare(share); err != nil {
		return err
	}
	if err := checkRel(rel); err != nil {
		return err
	}
	return s.enqueue(func(q *queue) { q.put(dkey{share, rel}, pendingPut{st: st, raw: bytes.Clone(raw)}) })
}

// ForgetDetails removes the details of share/rel and of everything below
// it (a file or folder gone); rel "" is the whole share. It is queued like
// PutDetails, and reads see it at once.
func (s *Store) ForgetDetails(share, rel string) error {
	if err := checkShare(share); err != nil {
		return err
	}
	if rel != "" {
		if err := checkRel(rel); err != nil {
			return err
		}
	}
	return s.enqueue(func(q *queue) { q.forget(dkey{share, rel}) })
}

// ForgetShare removes the details of every file of share (a share
// removed). Positions stay: a share added again resumes where it was.
func (s *Store) ForgetShare(share string) error {
	return s.ForgetDetails(share, "")
}

// enqueue adds a write to the queue and writes the queue when it is full
// or arms the timer that writes it after MaxDelay.
func (s *Store) enqueue(add func(*queue)) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	add(s.pending)
	full := s.pending.len() >= s.opts.MaxBatch
	if !full && s.timer == nil {
		s.timer = time.AfterFunc(s.opts.MaxDelay, s.flushLater)
	}
	err := s.lastErr
	s.lastErr = nil
	s.mu.Unlock()
	if full {
		// Written by the caller: a writer faster than the disk waits.
		if ferr := s.Flush(); ferr != nil {
			return ferr
		}
	}
	return err
}

// flushLater writes the queue when MaxDelay has passed.
func (s *Store) flushLater() {
	if err := s.Flush(); err != nil {
		s.log.Error("store: writing media details failed", "err", err)
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
	}
}

// Flush writes the queued puts and forgets in one transaction. When it
// fails, they are lost (the files are probed again) and the error is
// returned.
func (s *Store) Flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	batch := s.pending
	if batch.len() == 0 {
		s.mu.Unlock()
		return nil
	}
	s.pending = newQueue()
	s.inflight = batch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight = nil
		s.mu.Unlock()
	}()
	err := s.db.Update(func(tx *bolt.Tx) error {
		top := tx.Bucket(bucketDetails)
		for _, f := range batch.forgets {
			if err := forget(top, f); err != nil {
				return err
			}
		}
		for share, puts := range batch.byShare() {
			if err := putAll(top, share, puts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: write %d media details: %w", batch.len(), s.closedErr(err))
	}
	s.batches.Add(1)
	return nil
}

// putAll writes puts, sorted by key, into share's bucket below top.
func putAll(top *bolt.Bucket, share string, puts []keyedPut) error {
	b, err := top.CreateBucketIfNotExists([]byte(share))
	if err != nil {
		return err
	}
	after := 0
	if last, _ := b.Cursor().Last(); last != nil {
		after = len(puts) - sort.Search(len(puts), func(i int) bool { return bytes.Compare(puts[i].key, last) > 0 })
	} else {
		after = len(puts)
	}
	if float64(after) >= appendShare*float64(len(puts)) {
		b.FillPercent = appendFill
	}
	for _, p := range puts {
		if err := b.Put(p.key, encodeDetails(p.st, p.raw)); err != nil {
			return err
		}
	}
	return nil
}

// forget deletes f's details from top, the details bucket.
func forget(top *bolt.Bucket, f dkey) error {
	if f.rel == "" {
		if err := top.DeleteBucket([]byte(f.share)); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
		return nil
	}
	b := top.Bucket([]byte(f.share))
	if b == nil {
		return nil
	}
	key := relKey(f.rel)
	if err := b.Delete(key); err != nil {
		return err
	}
	prefix := append(key, sep)
	c := b.Cursor()
	// Seek again after each delete: a cursor's Next after Delete skips.
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// EachDetails calls fn with the path and stamp of every file of share
// with details, in key order (a depth-first walk, siblings in byte order
// of their names), until fn returns false: a restart's check. It writes
// the queue first, and reads the store in chunks of a thousand entries,
// each in its own read transaction, so fn may call any method (forget,
// put) and memory stays small whatever the share's size. Entries added or
// removed during the walk may or may not be seen. When it returns, the
// pages of the store it made resident are released (see releaseMap).
func (s *Store) EachDetails(share string, fn func(rel string, st Stamp) bool) error {
	if err := s.Flush(); err != nil {
		return err
	}
	defer s.releaseMap()
	type entry struct {
		rel string
		st  Stamp
	}
	chunk := make([]entry, 0, eachChunk)
	var after []byte // the last key seen
	for {
		chunk = chunk[:0]
		err := s.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketDetails).Bucket([]byte(share))
			if b == nil {
				return nil
			}
			c := b.Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
			for ; k != nil && len(chunk) < eachChunk; k, v = c.Next() {
				st, _, err := decodeDetails(v)
				if err != nil {
					continue // checked at Open; skipped rather than fail a walk
				}
				chunk = append(chunk, entry{keyRel(k), st})
				after = append(after[:0], k...)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: read details of %q: %w", share, s.closedErr(err))
		}
		for _, e := range chunk {
			if !fn(e.rel, e.st) {
				return nil
			}
		}
		if len(chunk) < eachChunk {
			return nil
		}
	}
}
