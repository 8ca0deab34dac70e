// Package faultfs is a fault-injecting passthrough file system for tests:
// a FUSE mount that shows a backing folder made by the test, and fails
// chosen operations the way a failing disk, an unreadable file or a USB
// disk pulled out mid-stream does.
//
// It mounts with mount(2) directly (no fusermount binary), so it needs root
// and /dev/fuse. Mount skips the test when either is missing, and fails it
// under CI (CI=true), where both are there. The FUSE server runs in the test
// process; the mount is taken down in t.Cleanup, whether the test passes or
// fails, so that no mount is left behind.
//
// Files are opened with FOPEN_DIRECT_IO and not in passthrough mode, and
// the kernel caches no attributes or names, so every injected fault is seen
// by the next system call, sendfile(2) included.
//
// go-fuse does not build for 32-bit targets (its splice package assigns
// syscall.Splice's int to an int64), so on those the package is empty and
// the tests that use it are not built.
package faultfs
