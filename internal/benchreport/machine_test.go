package benchreport

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestCPUModel(t *testing.T) {
	const x86 = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu vme hypervisor lahf_lm\n\n" +
		"processor\t: 1\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu vme hypervisor\n"
	for in, want := range map[string]string{
		x86: "AMD EPYC 7B13 (virtual machine)",
		"processor\t: 0\nmodel name\t: Intel(R) Core(TM) i5\nflags\t\t: fpu hypervisorx\n":                      "Intel(R) Core(TM) i5",
		"processor\t: 0\nBogoMIPS\t: 38.40\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n": "Raspberry Pi 4 Model B Rev 1.4",
		"":                          "unknown",
		"flags\t: fpu hypervisor\n": "unknown (virtual machine)",
	} {
		if got := cpuModel(in); got != want {
			t.Errorf("cpuModel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMemTotal(t *testing.T) {
	for in, want := range map[string]string{
		"MemTotal:       24576000 kB\nMemFree:        20000000 kB\n": "23.4 GiB",
		"MemFree:        20000000 kB\n":                              "",
		"MemTotal:       many kB\n":                                  "",
	} {
		if got := memTotal(in); got != want {
			t.Errorf("memTotal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribeMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	// No checkout: nothing is run, and the revision is not known.
	m := DescribeMachine(context.Background(), "")
	if m.CPUs != runtime.NumCPU() || m.Go != runtime.Version() || m.Revision != "unknown" {
		t.Errorf("got %+v", m)
	}
	if !strings.HasPrefix(m.Kernel, "Linux ") || !strings.HasSuffix(m.Memory, " GiB") {
		t.Errorf("kernel %q, memory %q", m.Kernel, m.Memory)
	}
}

func TestDescribeDisk(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /sys")
	}
	got := DescribeDisk(t.TempDir())
	if strings.HasPrefix(got, "unknown file system") {
		t.Errorf("DescribeDisk of a temp dir: %q", got)
	}
	if got := DescribeDisk("/no/such/folder"); got != "unknown file system" {
		t.Errorf("DescribeDisk of a missing folder: %q", got)
	}
}
