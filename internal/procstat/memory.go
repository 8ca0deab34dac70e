package procstat

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Status is what the package reads from /proc/PID/status.
type Status struct {
	Threads int
	// RSS is VmRSS in bytes: 0 for a zombie, which has no memory.
	RSS int64
}

// ReadStatus reads /proc/PID/status.
func ReadStatus(pid int) (Status, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Status{}, err
	}
	st, err := parseStatus(string(b))
	if err != nil {
		return Status{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return st, nil
}

func parseStatus(s string) (Status, error) {
	var st Status
	for line := range strings.Lines(s) {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "Threads":
			n, err := number(v)
			if err != nil {
				return Status{}, fmt.Errorf("Threads: %w", err)
			}
			st.Threads = int(n)
		case "VmRSS":
			kb, err := number(v)
			if err != nil {
				return Status{}, fmt.Errorf("VmRSS: %w", err)
			}
			st.RSS = kb << 10
		}
	}
	return st, nil
}

// ReadPSS returns the Pss line of /proc/PID/smaps_rollup (Linux 4.14+),
// in bytes; 0 for a zombie, exited but not yet reaped, which has no memory
// and no lines.
func ReadPSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	pss, err := parsePSS(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/smaps_rollup: %w", pid, err)
	}
	return pss, nil
}

func parsePSS(s string) (int64, error) {
	for line := range strings.Lines(s) {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			kb, err := number(rest)
			return kb << 10, err
		}
	}
	return 0, nil
}

// SumPSS returns the summed PSS of processes in bytes, and how many of
// them there were. The first process (a server's own) must exist; the
// others may exit meanwhile and are then left out.
func SumPSS(pids []int) (total int64, n int, err error) {
	for i, pid := range pids {
		pss, err := ReadPSS(pid)
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
