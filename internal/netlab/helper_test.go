package netlab_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/netlab"
)

var helper = netlab.Helper{
	Test:         "TestHelperProcess",
	ModeEnv:      "NETLAB_TEST_HELPER",
	ParamsEnv:    "NETLAB_TEST_PARAMS",
	MachineNSEnv: "NETLAB_TEST_NETNS",
}

// echoed is what the "echo" helper reports.
type echoed struct {
	Params map[string]int
	NS     uint64
}

// TestHelperProcess is not a test: run by StartHelper, it acts as the
// helper its environment names. Run normally, it does nothing.
func TestHelperProcess(t *testing.T) {
	mode, params := helper.Mode()
	if mode == "" {
		return
	}
	var e echoed
	if mode != "echo" || json.Unmarshal(params, &e.Params) != nil {
		fmt.Fprintf(os.Stderr, "helper: bad mode %q or params %s\n", mode, params)
		os.Exit(1)
	}
	e.NS = netlab.CurrentNS()
	js, _ := json.Marshal(map[string]any{"kind": "echo", "data": e})
	fmt.Printf("EVENT %s\n", js)
	os.Exit(0)
}

// TestStartHelper: a helper started in a namespace gets its mode and
// parameters, and runs in that namespace.
func TestStartHelper(t *testing.T) {
	l := netlab.New(t, "nlh")
	ns := l.NS("a")
	p := l.StartHelper(helper, "echo", ns, "echo", map[string]int{"n": 7})
	var got echoed
	p.Await(t, "echo", 10*time.Second, nil).Decode(t, &got)
	if got.Params["n"] != 7 || got.NS == 0 || got.NS == netlab.MachineNS() {
		t.Errorf("helper reported %+v; machine's namespace is %d", got, netlab.MachineNS())
	}
}

// TestHelperRefusesMachineNS: a helper that finds itself in the test
// machine's own namespace, or is not told which that is, refuses to run.
// (It is started here without a namespace; it does nothing but refuse.)
func TestHelperRefusesMachineNS(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, machine := range []string{strconv.FormatUint(netlab.MachineNS(), 10), ""} {
		cmd := exec.Command(exe, "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helper.ModeEnv+"=echo", helper.ParamsEnv+"={}", helper.MachineNSEnv+"="+machine)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 3 || !strings.Contains(string(out), netlab.ErrMachineNS.Error()) {
			t.Errorf("machine namespace %q: %v\n%s", machine, err, out)
		}
	}
}
