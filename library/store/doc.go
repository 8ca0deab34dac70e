// Package store is mediaftpd's embedded store: one bbolt file
// (go.etcd.io/bbolt), mediaftpd.db in the state directory, that keeps
// across restarts what is costly to learn again or must not change:
//
//   - the details of media files (duration, picture size, tags: what
//     package library/probe reads), keyed by share and share-relative path
//     and valid while the file's [Stamp] (size, modification time, inode)
//     matches, so a restart probes only what changed;
//   - resume positions, where a person or a TV stopped playing a file;
//   - small named values (the DLNA UDN, SystemUpdateID's high-water mark).
//
// # One owner
//
// [Open] takes bbolt's exclusive file lock (flock), waiting briefly: a
// second process on the same state directory gets [ErrLocked], and the
// app says so and exits 2. flock conflicts between two opens in one process
// too, so a second [Open] of the same directory in one process also gets
// [ErrLocked].
//
// # Never a crash loop, never lost silently
//
// The file carries a format number in its "meta" bucket. At [Open]:
//
//   - a store written by a newer mediaftpd (a higher format number) is
//     renamed aside to "mediaftpd.db.newer-<UTC time>" and a new one made,
//     so going back to an older version works and going forward again
//     finds the newer store in the folder;
//   - a corrupt store (bbolt refuses it, its meta is missing or garbage,
//     it is shorter than its pages say, or walking its buckets fails or
//     faults) is renamed aside to "mediaftpd.db.corrupt-<UTC time>" and a
//     new one made;
//   - an older format is migrated in place, or, where no migration exists,
//     its details are dropped (they are a cache) while positions and values
//     are kept.
//
// Setting a file aside is one warning in the log naming both files (a
// migration is one line at info level). Deleting the file is always safe: the next [Open] makes a new one. The store keeps
// bbolt's default fsync on every commit, so a process killed at any moment
// (kill -9, a crash) leaves a store that opens and holds every commit that
// returned.
//
// # Layout
//
// Top-level buckets: "meta" (the format number), "details" and
// "positions" (one sub-bucket per share; keys are share-relative paths
// with "/" replaced by a NUL byte, so a folder's contents are one
// contiguous range right after the folder's name: a prefix scan, and
// iteration is a depth-first walk with siblings in byte order), and
// "values". A details value is the stamp as varints followed by the bytes
// of probe's Details.MarshalBinary; a position is two varints.
//
// # Batched writes
//
// [Store.PutDetails] and [Store.ForgetDetails] queue: the queue is
// written in one transaction when it holds [Options.MaxBatch] entries,
// [Options.MaxDelay] after its first entry, at [Store.Flush] and at
// [Store.Close]. Reads see queued entries at once. Details are a cache,
// so a put lost to a crash costs one probe again. Positions and values
// are written at once (one transaction each).
//
// # Size
//
// bbolt never shrinks its file, and inserts in random key order leave its
// pages about half full. [Open] compacts a file of over 4 MiB that is less
// than half used (a copy with full pages, put in the file's place under
// the lock).
//
// # Memory
//
// bbolt maps the file read-only, so a walk of the whole store (the check
// at [Open], [Store.EachDetails]) makes every page of it resident in the
// process, where it counts in RSS and PSS, and so does, for its part, a
// read of the details of a big folder ([Store.DetailsMany] of a thousand
// files or more). After such a walk the store
// tells the kernel that the process does not need those pages now
// (madvise MADV_DONTNEED, on Linux): they stay in the page cache, and the
// few that later reads need are faulted in again. Small reads release
// nothing.
package store
