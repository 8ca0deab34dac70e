package dlna

import (
	"encoding/hex"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

func TestParseMachineID(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"3d1219c7c4c5404aaa1f6d2a48adfda4\n", true},
		{"3D1219C7C4C5404AAA1F6D2A48ADFDA4", true},
		{"", false},
		{"uninitialized\n", false},
		{"00000000000000000000000000000000\n", false},
		{"3d1219c7c4c5404aaa1f6d2a48adfda", false},
		{"3d1219c7-c4c5-404a-aa1f-6d2a48adfda4", false},
		{"3d1219c7c4c5404aaa1f6d2a48adfdxx", false},
	}
	for _, tt := range tests {
		_, err := parseMachineID([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("parseMachineID(%q): %v", tt.in, err)
		}
	}
}

// TestAppSpecificIDMatchesSystemd checks appSpecificID against systemd's
// own sd_id128_get_machine_app_specific, through systemd-id128.
func TestAppSpecificIDMatchesSystemd(t *testing.T) {
	b, err := os.ReadFile(defaultMachineIDFile)
	if err != nil {
		t.Skipf("no machine ID: %v", err)
	}
	testtool.Need(t, "systemd-id128") // package systemd
	mid, err := parseMachineID(b)
	if err != nil {
		t.Skipf("machine ID: %v", err)
	}
	out, err := exec.Command("systemd-id128", "machine-id", "-u", "-a", hex.EncodeToString(appID[:])).Output()
	if err != nil {
		t.Fatalf("systemd-id128: %v", err)
	}
	want := "uuid:" + strings.TrimSpace(string(out))
	if got := formatUDN(appSpecificID(mid)); got != want {
		t.Errorf("appSpecificID = %s, systemd says %s", got, want)
	}
}

func TestUDN(t *testing.T) {
	dir := t.TempDir()
	mid := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o444); err != nil {
			t.Fatal(err)
		}
		return p
	}
	box1 := mid("box1", "3d1219c7c4c5404aaa1f6d2a48adfda4\n")
	box2 := mid("box2", "8f2e0c3a9b1d4e5f8a7b6c5d4e3f2a1b\n")
	broken := mid("broken", "uninitialized\n")
	missing := filepath.Join(dir, "missing")
	quiet := slog.New(slog.DiscardHandler)
	udnOf := func(st State, machineID string) string {
		srv := &Server{State: st, machineIDFile: machineID, Logger: quiet}
		srv.st = st
		if st == nil {
			srv.st = newMemState()
		}
		u := srv.loadUDN()
		if !validUDN(u) {
			t.Fatalf("UDN %q is not valid", u)
		}
		return u
	}

	// Without State: the same box, the same UDN; two boxes, two.
	a1, a2, b := udnOf(nil, box1), udnOf(nil, box1), udnOf(nil, box2)
	if a1 != a2 || a1 == b {
		t.Errorf("box1 %s and %s, box2 %s", a1, a2, b)
	}
	if strings.Contains(a1, "3d1219c7") {
		t.Errorf("UDN %s shows the machine ID", a1)
	}
	if r1, r2 := udnOf(nil, missing), udnOf(nil, broken); r1 == r2 || r1 == a1 {
		t.Errorf("random UDNs %s and %s", r1, r2)
	}

	// With one: made once and kept, whatever happens to the machine ID.
	state := openStore(t, filepath.Join(dir, "state"))
	first := udnOf(state, box1)
	if first != a1 {
		t.Errorf("kept UDN %s, want the derived %s", first, a1)
	}
	if v, ok := state.Value(valueUDN); !ok || string(v) != first {
		t.Errorf("the store holds %q, %v", v, ok)
	}
	if again := udnOf(state, box2); again != first {
		t.Errorf("after the machine ID changed: %s, want %s", again, first)
	}
	// Random when there is no machine ID, then stable.
	state2 := openStore(t, filepath.Join(dir, "state2"))
	r := udnOf(state2, missing)
	if again := udnOf(state2, missing); again != r {
		t.Errorf("random UDN not kept: %s then %s", r, again)
	}
	// A damaged value is replaced.
	state2.SetValue(valueUDN, []byte("garbage"))
	if got := udnOf(state2, box2); got != b {
		t.Errorf("after a damaged value: %s, want %s", got, b)
	}

	if s := serialNumber(first); len(s) != 16 || strings.Contains(s, "-") {
		t.Errorf("serial number %q", s)
	}
}
