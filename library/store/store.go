package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the name of the store's file in its folder.
const FileName = "mediaftpd.db"

// formatVersion is the format this code writes. Raise it when the layout
// or an encoding changes, and add a migration from the previous one to
// migrations (or let details be dropped, see migrate).
const formatVersion = 1

// Errors of the store.
var (
	// ErrLocked means another process (or another Open in this process)
	// holds the store: the app says "another mediaftpd uses <dir>" and
	// exits 2.
	ErrLocked = errors.New("store in use by another process")
	// ErrClosed is returned by writes after Close.
	ErrClosed = errors.New("store closed")
	// ErrBadName is returned for an empty share, path or value name, a
	// path that starts or ends with "/", or one holding a NUL byte.
	ErrBadName = errors.New("bad name")

	// errFault marks a panic or memory fault while reading the file: bbolt
	// maps the file, so a damaged one faults instead of returning an error.
	errFault = errors.New("fault reading the store")
	// errDecode marks a value that does not decode (a corrupt store).
	errDecode = errors.New("bad value")
)

// Options tune a store. The zero value means the documented defaults.
type Options struct {
	// LockTimeout is how long Open waits for another process's lock before
	// it returns ErrLocked (default 500ms).
	LockTimeout time.Duration
	// MaxBatch is how many queued puts make PutDetails write them at once
	// (default 4096).
	MaxBatch int
	// MaxDelay is how long a queued put waits at most before it is written
	// (default 1s).
	MaxDelay time.Duration
	// Now gives the time in the names of files set aside (default time.Now).
	Now func() time.Time

	// format and migrations stand in for formatVersion and migrations in
	// tests of older and newer stores (zero: the real ones).
	format     uint32
	migrations map[uint32]func(*bolt.Tx) error
}

// currentFormat is the format these options write.
func (o Options) currentFormat() uint32 {
	if o.format != 0 {
		return o.format
	}
	return formatVersion
}

// migrationSteps are the migrations these options know.
func (o Options) migrationSteps() map[uint32]func(*bolt.Tx) error {
	if o.migrations != nil {
		return o.migrations
	}
	return migrations
}

const (
	defaultLockTimeout = 500 * time.Millisecond
	defaultMaxBatch    = 4096
	defaultMaxDelay    = time.Second
)

func (o Options) withDefaults() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = defaultLockTimeout
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = defaultMaxBatch
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = defaultMaxDelay
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Store is an open store. Its methods are safe for concurrent use.
type Store struct {
	db   *bolt.DB
	log  *slog.Logger
	opts Options
	path string

	batches atomic.Int64 // transactions of details written since Open

	// wmu serializes the writers of queued details (Flush, and Close
	// after it), so batches reach the file in the order they were queued.
	wmu sync.Mutex

	mu       sync.Mutex  // guards the fields below
	pending  *queue      // writes of details not yet in a transaction
	inflight *queue      // the batch being written (nil when none)
	timer    *time.Timer // writes pending after MaxDelay; nil when none is armed
	lastErr  error       // error of a background write, returned once by the next put
	closed   bool
}

// Open opens the store in dir (making dir 0700 and the file 0600 when
// missing) with the default Options. See [Options.Open].
func Open(dir string, log *slog.Logger) (*Store, error) {
	return Options{}.Open(dir, log)
}

// Path returns the store's file.
func (s *Store) Path() string { return s.path }

// Close writes the queued puts and closes the store. Later writes return
// ErrClosed; Close again returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	ferr := s.Flush()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return ferr
}

// Stats are counts for the status page and tests.
type Stats struct {
	// Details is the number of files with details, in all shares.
	Details int
	// DetailsByShare is that number per share.
	DetailsByShare map[string]int
	// Positions is the number of resume positions.
	Positions int
	// Pending is the number of queued puts and forgets not yet written.
	Pending int
	// FileSize is the size of the store's file in bytes.
	FileSize int64
	// Batches is the number of transactions that wrote queued details
	// since Open.
	Batches int64
}

// Stats counts what the store holds. Queued puts count in Pending only.
func (s *Store) Stats() (Stats, error) {
	st := Stats{DetailsByShare: map[string]int{}}
	s.mu.Lock()
	st.Pending = s.pending.len() + s.inflight.len()
	s.mu.Unlock()
	st.Batches = s.batches.Load()
	err := s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketDetails).ForEachBucket(func(share []byte) error {
			n := tx.Bucket(bucketDetails).Bucket(share).Stats().KeyN
			st.DetailsByShare[string(share)] = n
			st.Details += n
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketPositions).ForEachBucket(func(share []byte) error {
			st.Positions += tx.Bucket(bucketPositions).Bucket(share).Stats().KeyN
			return nil
		})
	})
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	st.FileSize = fi.Size()
	return st, nil
}
