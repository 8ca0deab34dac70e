// Package procstat reads what Linux's /proc says about processes and the
// machine, for the project's own tools (the bench against vsftpd, the
// soak): a process's CPU times and parent, its threads, RSS and PSS, its
// open descriptors and TCP sockets, a process tree, and the machine's busy
// time, and (Load) the share of the CPUs other processes used while a
// bench ran. It holds no state; every function reads /proc afresh.
//
// CPU: a process's utime+stime in /proc/PID/stat count its own threads;
// its cutime+cstime count every child it has waited for, and recursively
// theirs, since Linux adds a reaped child's total to its parent's. The sum
// of the four over a tree is all the CPU the tree has used only while no
// process of it exits between two reads (see TreeCPU).
//
// Memory: PSS (proportional set size) from /proc/PID/smaps_rollup divides
// each shared page among the processes that map it, so the PSS of a tree
// of processes sharing libc and their binary counts those pages once in
// total (see SumPSS).
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the times in /proc/PID/stat and /proc/stat:
// USER_HZ, which Linux fixes at 100 for user space whatever the kernel's HZ.
const userHZ = 100

// Stat is what the package reads from /proc/PID/stat.
type Stat struct {
	PID, PPID int
	// CPU is utime+stime: the time the process's own threads have run.
	CPU time.Duration
	// ChildCPU is cutime+cstime: the CPU of the children the process has
	// waited for, and of theirs.
	ChildCPU time.Duration
}

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Stat{}, err
	}
	return parseStat(pid, b)
}

// parseStat parses the text of /proc/PID/stat. The command name, field
// 2, is in parentheses and may hold spaces and parentheses itself, so the
// fields are counted from the last ')'.
func parseStat(pid int, b []byte) (Stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return Stat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	st := Stat{PID: pid}
	var err error
	if st.PPID, err = strconv.Atoi(f[1]); err != nil {
		return Stat{}, fmt.Errorf("/proc/%d/stat: ppid: %w", pid, err)
	}
	var ticks [4]int64
	for j, s := range f[11:15] {
		if ticks[j], err = strconv.ParseInt(s, 10, 64); err != nil {
			return Stat{}, fmt.Errorf("/proc/%d/stat: times: %w", pid, err)
		}
	}
	st.CPU = time.Duration(ticks[0]+ticks[1]) * time.Second / userHZ
	st.ChildCPU = time.Duration(ticks[2]+ticks[3]) * time.Second / userHZ
	return st, nil
}

// Tree returns the Stat of root and of every live descendant, root
// first, each process before its children. Processes that exit while
// /proc is read are left out; root must exist.
func Tree(root int) ([]Stat, error) {
	rs, err := ReadStat(root)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", root, err)
	}
	children := map[int][]Stat{}
	err = eachProcess(func(pid int) {
		if pid == root {
			return
		}
		if st, err := ReadStat(pid); err == nil { // else gone meanwhile
			children[st.PPID] = append(children[st.PPID], st)
		}
	})
	if err != nil {
		return nil, err
	}
	tree := []Stat{rs}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i].PID]...)
	}
	return tree, nil
}

// PIDs returns the PIDs of a tree, in its order.
func PIDs(tree []Stat) []int {
	pids := make([]int, len(tree))
	for i, st := range tree {
		pids[i] = st.PID
	}
	return pids
}

// TreeCPU returns the CPU time root and its descendants have used, the
// exited ones included: the sum of CPU and ChildCPU over Tree(root). It
// is exact only if every process of the tree waits for its children and
// none exits while it reads: a process exiting between two reads may be
// counted twice or not at all.
func TreeCPU(root int) (time.Duration, error) {
	tree, err := Tree(root)
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, st := range tree {
		total += st.CPU + st.ChildCPU
	}
	return total, nil
}

// eachProcess calls fn with the PID of every process /proc lists.
func eachProcess(fn func(pid int)) error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			fn(pid)
		}
	}
	return nil
}

// number parses the value of a /proc line (the part after the colon),
// such as "  1234 kB" or "\t7": its first field.
func number(v string) (int64, error) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, fmt.Errorf("no value in %q", v)
	}
	return strconv.ParseInt(f[0], 10, 64)
}
