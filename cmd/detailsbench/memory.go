package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/procstat"
	"github.com/mediaftpd/mediaftpd/library/store"
)

// rollup is the PSS of a process and its parts, in bytes. procstat reads
// only the total (Pss); the parts, which show whether details cost heap
// (anonymous memory) or mapped store pages (file), come from the same
// file here.
type rollup struct {
	PSS, Anon, File int64
	// Store is the PSS of the mappings of the store file (bbolt maps it
	// read-only), from /proc/PID/smaps; part of File.
	Store int64
}

// readRollup reads /proc/PID/smaps_rollup: the total with procstat, the
// parts (Pss_Anon, Pss_File: Linux 5.9+) itself; missing parts stay 0.
func readRollup(pid int) (rollup, error) {
	var r rollup
	var err error
	if r.PSS, err = procstat.ReadPSS(pid); err != nil {
		return r, err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return r, err
	}
	r.Anon, r.File = parseRollupParts(string(b))
	if b, err = os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid)); err != nil {
		return r, err
	}
	r.Store = mappedPSS(string(b), "/"+store.FileName)
	return r, nil
}

// mappedPSS sums the Pss lines of the mappings in smaps whose path ends
// in suffix.
func mappedPSS(smaps, suffix string) int64 {
	var total int64
	in := false
	for line := range strings.Lines(smaps) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping's first line: range perms offset dev inode [path]
			in = len(f) >= 6 && strings.HasSuffix(strings.Join(f[5:], " "), suffix)
			continue
		}
		if in && f[0] == "Pss:" && len(f) >= 2 {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				total += kb << 10
			}
		}
	}
	return total
}

// parseRollupParts returns the Pss_Anon and Pss_File lines of
// smaps_rollup, in bytes.
func parseRollupParts(s string) (anon, file int64) {
	for line := range strings.Lines(s) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "Pss_Anon":
			anon = kb << 10
		case "Pss_File":
			file = kb << 10
		}
	}
	return anon, file
}

// settledPSS waits until the server has been idle for settle after the
// moment ready (so that its reclaimer, which returns freed memory after 5
// s without sessions, has run at least once after the work before it),
// then reads the PSS samples times, samplesGap apart, and returns the read
// with the median PSS.
func settledPSS(ctx context.Context, s *server, ready time.Time, settle time.Duration, samples int, samplesGap time.Duration) (rollup, error) {
	if wait := time.Until(ready.Add(settle)); wait > 0 {
		select {
		case <-ctx.Done():
			return rollup{}, ctx.Err()
		case <-time.After(wait):
		}
	}
	var reads []rollup
	for i := range samples {
		if i > 0 {
			select {
			case <-ctx.Done():
				return rollup{}, ctx.Err()
			case <-time.After(samplesGap):
			}
		}
		r, err := readRollup(s.PID())
		if err != nil {
			return rollup{}, err
		}
		reads = append(reads, r)
	}
	slices.SortFunc(reads, func(a, b rollup) int { return int(a.PSS - b.PSS) })
	return reads[len(reads)/2], s.Exited()
}
