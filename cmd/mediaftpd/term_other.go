//go:build !linux

package main

import "os"

// isTerminal reports false: outside Linux the password is read as a line,
// with echo.
func isTerminal(*os.File) bool { return false }

func readNoEcho(f *os.File) (string, error) { return readLine(f) }
