//go:build darwin || freebsd || netbsd

package library

import "syscall"

func ctimespec(st *syscall.Stat_t) syscall.Timespec { return st.Ctimespec }
