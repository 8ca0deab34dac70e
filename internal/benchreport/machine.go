package benchreport

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Machine describes where a bench ran, for its report.
type Machine struct {
	CPU      string // model name, "(virtual machine)" if the hypervisor flag is set
	CPUs     int    // usable by the bench
	Memory   string // MemTotal
	Kernel   string
	Go       string // the toolchain that built mediaftpd
	Revision string // of the mediaftpd checkout
}

// DescribeMachine reads the CPU, memory and kernel from /proc. With the
// mediaftpd checkout at moduleRoot, it asks go for its version and git
// for the checkout's revision; with "" (a binary given, no checkout) Go is
// the toolchain that built the bench and Revision "unknown". What cannot
// be read is "unknown".
func DescribeMachine(ctx context.Context, moduleRoot string) Machine {
	m := Machine{CPU: "unknown", CPUs: runtime.NumCPU(), Memory: "unknown", Kernel: "unknown", Go: runtime.Version(), Revision: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = cpuModel(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if s := memTotal(string(b)); s != "" {
			m.Memory = s
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
	return m
}

// cpuModel returns the first model name in /proc/cpuinfo ("unknown" if
// none), with " (virtual machine)" if any CPU has the hypervisor flag.
func cpuModel(cpuinfo string) string {
	cpu, hv := "unknown", false
	for line := range strings.SplitSeq(cpuinfo, "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch strings.TrimSpace(k) {
		case "model name", "Model": // x86; Raspberry Pi
			if cpu == "unknown" {
				cpu = strings.TrimSpace(v)
			}
		case "flags":
			hv = hv || strings.Contains(" "+v+" ", " hypervisor ")
		}
	}
	if hv {
		cpu += " (virtual machine)"
	}
	return cpu
}

// memTotal returns MemTotal of /proc/meminfo in GiB, "" if it is not there.
func memTotal(meminfo string) string {
	for line := range strings.Lines(meminfo) {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return ""
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

// DescribeDisk names the file system of dir and its block device, with
// whether the kernel calls it rotational (a virtual disk's flag says
// little about the storage behind it).
func DescribeDisk(dir string) string {
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
