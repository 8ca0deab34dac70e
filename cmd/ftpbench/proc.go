package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// How the bench accounts a server's CPU and memory from /proc, counting
// every process of the server: vsftpd forks two processes per session
// (a privileged parent, and a chrooted, unprivileged child that speaks to
// the client); mediaftpd is one process.
//
// CPU: a process's utime+stime in /proc/PID/stat counts its own threads;
// its cutime+cstime count every child it has waited for, and recursively
// theirs, since Linux adds a reaped child's total to its parent. vsftpd's
// listener waits for each session process, and each session process for
// its child, so the listener's four fields plus those of its live
// descendants are all the CPU its tree has used. A process exiting between
// two reads of one snapshot could be counted twice or not at all, so the
// bench takes CPU snapshots only when the server is quiescent: no session
// open and no session process left (see server.awaitQuiet).
//
// Memory: PSS (proportional set size) from /proc/PID/smaps_rollup, summed
// over the tree. PSS divides each shared page among the processes that map
// it, so vsftpd's shared libc and binary pages are counted once in total,
// and the sum is what the server costs the machine.

// userHZ is the unit of the times in /proc/PID/stat: USER_HZ, which Linux
// fixes at 100 for user space whatever the kernel's HZ.
const userHZ = 100

// procStat is what the bench reads from /proc/PID/stat.
type procStat struct {
	pid, ppid int
	// cpu is utime+stime+cutime+cstime: the process's own CPU and that of
	// the children it has reaped.
	cpu time.Duration
}

// readStat parses /proc/PID/stat. The command name, field 2, is in
// parentheses and may hold spaces and parentheses itself, so the fields
// are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(pid, b)
}

func parseStat(pid int, b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	st := procStat{pid: pid}
	var err error
	if st.ppid, err = strconv.Atoi(f[1]); err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: ppid: %w", pid, err)
	}
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("/proc/%d/stat: times: %w", pid, err)
		}
		ticks += n
	}
	st.cpu = time.Duration(ticks) * time.Second / userHZ
	return st, nil
}

// processTree returns the stat of root and of every live descendant, root
// first. Processes that exit while /proc is read are left out.
func processTree(root int) ([]procStat, error) {
	rs, err := readStat(root)
	if err != nil {
		return nil, fmt.Errorf("server process %d: %w", root, err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]procStat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // gone meanwhile
		}
		children[st.ppid] = append(children[st.ppid], st)
	}
	tree := []procStat{rs}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i].pid]...)
	}
	return tree, nil
}

// treeCPU returns the CPU time the server's processes have used, exited
// ones included; see the comment at the top of this file.
func treeCPU(root int) (time.Duration, error) {
	tree, err := processTree(root)
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, st := range tree {
		total += st.cpu
	}
	return total, nil
}

// sumPSS returns the summed PSS of processes in bytes, and how many of
// them there were. The first is the server's own process and must exist;
// the others may exit meanwhile.
func sumPSS(pids []int) (int64, int, error) {
	var total int64
	n := 0
	for i, pid := range pids {
		pss, err := readPSS(pid)
		if errors.Is(err, os.ErrNotExist) && i > 0 {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		total += pss
		n++
	}
	return total, n, nil
}

// readPSS returns the Pss line of /proc/PID/smaps_rollup (Linux 4.14+), in
// bytes; 0 for a zombie.
func readPSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Pss:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/smaps_rollup: %w", pid, err)
		}
		return kb << 10, nil
	}
	// A zombie, exited but not yet reaped, has no memory and no lines.
	return 0, sc.Err()
}

// selfCPU returns the CPU time the bench itself has used: its client's
// share of the work on loopback.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineBusy returns the time all CPUs together have spent busy since
// boot, from the "cpu" line of /proc/stat: everything but idle and iowait.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		// user nice system idle iowait irq softirq steal guest guest_nice;
		// guest time is already counted in user.
		if i != 3 && i != 4 && i < 8 {
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / userHZ, nil
}

// softirqCPU returns the CPU time of the ksoftirqd kernel threads.
func softirqCPU() time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || !bytes.HasPrefix(comm, []byte("ksoftirqd/")) {
			continue
		}
		if st, err := readStat(pid); err == nil {
			total += st.cpu
		}
	}
	return total
}
