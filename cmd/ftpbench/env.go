package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// machine describes where the bench ran, for the report.
type machine struct {
	CPU      string // model name, "(virtual machine)" if the hypervisor flag is set
	CPUs     int    // usable by the bench
	Memory   string // MemTotal
	Kernel   string
	Go       string // the toolchain that built mediaftpd
	Vsftpd   string
	Revision string // of the mediaftpd checkout
}

func describeMachine(ctx context.Context, moduleRoot, vsftpdBin string) machine {
	m := machine{CPU: "unknown", CPUs: runtime.NumCPU(), Memory: "unknown", Kernel: "unknown", Go: runtime.Version(), Revision: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		hv := false
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			switch strings.TrimSpace(k) {
			case "model name", "Model": // x86; Raspberry Pi
				if m.CPU == "unknown" {
					m.CPU = strings.TrimSpace(v)
				}
			case "flags":
				hv = hv || strings.Contains(" "+v+" ", " hypervisor ")
			}
		}
		f.Close()
		if hv {
			m.CPU += " (virtual machine)"
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
					m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if moduleRoot != "" {
		if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
			m.Go = strings.TrimSpace(string(out))
		}
		if out, err := exec.CommandContext(ctx, "git", "-C", moduleRoot, "describe", "--always", "--dirty").Output(); err == nil {
			m.Revision = strings.TrimSpace(string(out))
		}
	}
	if vsftpdBin != "" {
		m.Vsftpd = vsftpdVersion(vsftpdBin)
	}
	return m
}
