//go:build !linux

package thumb

import "os/exec"

// startLowPriority starts cmd; lowering its priority is done on Linux
// only.
func startLowPriority(cmd *exec.Cmd) error { return cmd.Start() }
