//go:build !linux

package accounts

// lowerThreadPriority does nothing where threads have no priority of
// their own.
func lowerThreadPriority() {}
