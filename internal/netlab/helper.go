package netlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Helper describes a helper process: the test binary itself, started
// again in a namespace so that Go code (a server, a client library) runs
// there as a program of its own. The binary runs only the test function
// named Test, which does nothing in a normal run and acts as the helper
// its environment asks for when started by [Lab.StartHelper]:
//
//	func TestHelperProcess(t *testing.T) {
//		mode, params := helper.Mode()
//		if mode == "" {
//			return // a normal test run
//		}
//		...
//	}
//
// The environment variables are named by the test package, so that the
// helpers of one package never act on another's.
type Helper struct {
	// Test is the name of the test function that acts as the helper,
	// like "TestHelperProcess".
	Test string
	// ModeEnv names the variable that holds the helper's mode; a
	// process without it is not a helper.
	ModeEnv string
	// ParamsEnv names the variable that holds its parameters, JSON.
	ParamsEnv string
	// MachineNSEnv names the variable that holds the inode of the test
	// machine's network namespace, where the helper refuses to run.
	MachineNSEnv string
}

// ErrMachineNS is what [Helper.Mode] prints before it exits in a helper
// process that finds itself in the test machine's own network namespace
// (or cannot tell where it is).
var ErrMachineNS = errors.New("refusing to run in the test machine's own network namespace")

// StartHelper starts the test binary in namespace ns as a helper process
// of h running in the given mode, with params (marshalled to JSON), as
// [Lab.Start] starts a program: killed when the test ends, its "EVENT"
// lines arriving as events.
func (l *Lab) StartHelper(h Helper, name, ns, mode string, params any) *Proc {
	l.t.Helper()
	exe, err := os.Executable() // not /proc/self/exe: that would be ip
	if err != nil {
		l.t.Fatal(err)
	}
	js, err := json.Marshal(params)
	if err != nil {
		l.t.Fatal(err)
	}
	env := []string{
		h.ModeEnv + "=" + mode,
		h.ParamsEnv + "=" + string(js),
		h.MachineNSEnv + "=" + strconv.FormatUint(MachineNS(), 10),
	}
	return l.Start(name, ns, env, exe, "-test.run=^"+h.Test+"$", "-test.count=1")
}

// Mode returns the mode and the parameters (JSON) of this process when it
// is a helper started by [Lab.StartHelper], and "" when it is not (a
// normal test run, where the helper's test function returns at once). A
// helper that finds itself in the test machine's own network namespace,
// or cannot tell, prints ErrMachineNS and exits with status 3: it must
// not talk to the real network.
func (h Helper) Mode() (mode string, params []byte) {
	mode = os.Getenv(h.ModeEnv)
	if mode == "" {
		return "", nil
	}
	here := CurrentNS()
	if machine := os.Getenv(h.MachineNSEnv); here == 0 || machine == "" || machine == strconv.FormatUint(here, 10) {
		fmt.Fprintln(os.Stderr, "helper:", ErrMachineNS)
		os.Exit(3)
	}
	return mode, []byte(os.Getenv(h.ParamsEnv))
}
