package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/procstat"
)

// machine describes where the bench ran, for the report.
type machine struct {
	CPU      string // model name, "(virtual machine)" if the hypervisor flag is set
	CPUs     int
	Memory   string // MemTotal
	Kernel   string
	Go       string // the toolchain that built mediaftpd
	Revision string // of the mediaftpd checkout
	Disk     string // the file system and block device of the bench's folder
}

func describeMachine(ctx context.Context, moduleRoot, dir string) machine {
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
	m.Disk = describeDisk(dir)
	return m
}

// fsNames are the statfs magic numbers of the usual file systems.
var fsNames = map[int64]string{
	0xEF53:     "ext4",
	0x58465342: "xfs",
	0x9123683E: "btrfs",
	0x01021994: "tmpfs",
	0x2FC12FC1: "zfs",
	0x794C7630: "overlayfs",
	0xF2F52010: "f2fs",
	0x6969:     "nfs",
}

// describeDisk names the file system of dir and its block device, with
// whether the kernel calls it rotational (a virtual disk's flag says
// little about the storage behind it).
func describeDisk(dir string) string {
	var sfs syscall.Statfs_t
	fsName := "unknown file system"
	if err := syscall.Statfs(dir, &sfs); err == nil {
		if n, ok := fsNames[int64(sfs.Type)]; ok {
			fsName = n
		} else {
			fsName = fmt.Sprintf("file system 0x%x", sfs.Type)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return fsName
	}
	major, minor := (st.Dev>>8)&0xfff|(st.Dev>>32)&^0xfff, st.Dev&0xff|(st.Dev>>12)&^0xff
	sys := fmt.Sprintf("/sys/dev/block/%d:%d", major, minor)
	target, err := filepath.EvalSymlinks(sys)
	if err != nil {
		return fmt.Sprintf("%s on device %d:%d", fsName, major, minor)
	}
	dev := filepath.Base(target)
	var parts []string
	if strings.HasPrefix(dev, "vd") || strings.HasPrefix(dev, "xvd") {
		parts = append(parts, "a virtual disk")
	}
	model, _ := os.ReadFile(filepath.Join(target, "device", "model"))
	if m := strings.TrimSpace(string(model)); m != "" {
		parts = append(parts, m)
	}
	rot, err := os.ReadFile(filepath.Join(target, "queue", "rotational"))
	if err != nil { // a partition: its disk's queue
		rot, err = os.ReadFile(filepath.Join(target, "..", "queue", "rotational"))
	}
	if err == nil {
		switch strings.TrimSpace(string(rot)) {
		case "0":
			parts = append(parts, "non-rotational by the kernel's flag")
		case "1":
			parts = append(parts, "rotational by the kernel's flag")
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%s on /dev/%s", fsName, dev)
	}
	return fmt.Sprintf("%s on /dev/%s (%s)", fsName, dev, strings.Join(parts, "; "))
}

// load is a snapshot of the machine's CPU use, to tell how busy other
// processes kept it.
type load struct {
	at      time.Time
	busy    time.Duration // all CPUs, since boot
	self    time.Duration // the bench
	softirq time.Duration // ksoftirqd: partly the loopback traffic of the bench
}

func snapshot() load {
	l := load{at: time.Now(), self: procstat.SelfCPU(), softirq: procstat.SoftirqCPU()}
	l.busy, _ = procstat.MachineBusy()
	return l
}

// others returns the share of all CPUs that processes other than the bench
// and its servers (whose CPU is servers) used since l, or -1 if unknown.
func (l load) others(servers time.Duration) float64 {
	now := snapshot()
	if l.busy == 0 || now.busy == 0 {
		return -1
	}
	other := (now.busy - l.busy) - (now.self - l.self) - servers - (now.softirq - l.softirq)
	return max(0, other.Seconds()/(now.at.Sub(l.at).Seconds()*float64(runtime.NumCPU())))
}
