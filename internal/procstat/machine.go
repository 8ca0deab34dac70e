package procstat

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SelfCPU returns the CPU time this process has used (getrusage), or 0 if
// the system does not say.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// MachineBusy returns the time all CPUs together have spent busy since
// boot, from the "cpu" line of /proc/stat: everything but idle and iowait.
func MachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseBusy(line)
}

func parseBusy(line string) (time.Duration, error) {
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

// SoftirqCPU returns the CPU time of the kernel's ksoftirqd threads, which
// do part of the work of loopback TCP; 0 where /proc shows none (as in a
// PID namespace of its own).
func SoftirqCPU() time.Duration {
	var total time.Duration
	eachProcess(func(pid int) {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || !bytes.HasPrefix(comm, []byte("ksoftirqd/")) {
			return
		}
		if st, err := ReadStat(pid); err == nil {
			total += st.CPU + st.ChildCPU
		}
	})
	return total
}

// Load is a snapshot of the machine's CPU use, to tell afterwards how busy
// other processes kept it while this one measured something.
type Load struct {
	at      time.Time
	busy    time.Duration // all CPUs, since boot; 0 if unknown
	self    time.Duration // this process
	softirq time.Duration // ksoftirqd: partly the loopback traffic of this process
}

// TakeLoad takes a snapshot of the machine's CPU use now.
func TakeLoad() Load {
	l := Load{at: time.Now(), self: SelfCPU(), softirq: SoftirqCPU()}
	l.busy, _ = MachineBusy()
	return l
}

// Others returns the share of all CPUs that other processes used since l,
// from 0 to 1 for every CPU busy, or -1 if /proc/stat could not be read.
// The CPU of this process, of the kernel's ksoftirqd threads, and measured
// (what the processes this one measured used since l) are not counted.
func (l Load) Others(measured time.Duration) float64 {
	return l.others(TakeLoad(), measured, runtime.NumCPU())
}

func (l Load) others(now Load, measured time.Duration, cpus int) float64 {
	if l.busy == 0 || now.busy == 0 {
		return -1
	}
	other := (now.busy - l.busy) - (now.self - l.self) - measured - (now.softirq - l.softirq)
	return max(0, other.Seconds()/(now.at.Sub(l.at).Seconds()*float64(cpus)))
}
