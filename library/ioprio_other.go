//go:build !linux

package library

// isMainThread reports false: outside Linux no thread priority is set.
func isMainThread() bool { return false }

// idleIOPriority does nothing outside Linux.
func idleIOPriority() bool { return false }
