//go:build !linux

package library

// idleIOPriority does nothing outside Linux.
func idleIOPriority() bool { return false }
