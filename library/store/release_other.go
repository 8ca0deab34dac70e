//go:build !linux

package store

// dontNeed does nothing on this system: the memory it would release is
// measured, and the release tested, on Linux only (see release_linux.go).
func dontNeed(addr, n uintptr) error { return nil }
