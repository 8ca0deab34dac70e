package childproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The children of these tests are the test binary itself, run again with
// childEnv naming what it is to do (see child).
const childEnv = "CHILDPROC_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		child(mode)
		return
	}
	os.Exit(m.Run())
}

// child is the program the tests run:
//   - serve: says "ready", and on SIGTERM says "bye" and exits 0;
//   - stubborn: ignores SIGTERM and says "ready";
//   - fail: writes "boom" to standard error and exits 3.
func child(mode string) {
	switch mode {
	case "serve":
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Println("ready")
		<-term
		fmt.Println("bye")
		os.Exit(0)
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		select {}
	case "fail":
		fmt.Fprintln(os.Stderr, "boom")
		os.Exit(3)
	}
	os.Exit(2)
}

// start starts the test binary as a child in mode, and stops it when the
// test ends.
func start(t *testing.T, mode string) *Process {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	p := &Process{Name: "child-" + mode, Cmd: cmd, LogFile: filepath.Join(t.TempDir(), mode+".log")}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.StopTimeout = time.Millisecond
		p.Stop()
	})
	return p
}

// logSays returns a condition for Await: the child's log holds s.
func logSays(p *Process, s string) func() (bool, error) {
	return func() (bool, error) {
		b, err := os.ReadFile(p.LogFile)
		return strings.Contains(string(b), s), err
	}
}

func awaitReady(t *testing.T, p *Process) {
	t.Helper()
	if err := p.Await(context.Background(), time.Minute, 5*time.Millisecond, logSays(p, "ready\n")); err != nil {
		t.Fatal(err)
	}
}

func TestStartStop(t *testing.T) {
	p := start(t, "serve")
	if pgid, err := syscall.Getpgid(p.PID()); err != nil || pgid != p.PID() {
		t.Errorf("child's process group %d (%v), want its own, %d", pgid, err, p.PID())
	}
	awaitReady(t, p)
	if err := p.Exited(); err != nil {
		t.Errorf("a running child: %v", err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop: %v, want a clean exit", err)
	}
	if err := p.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if tail := p.LogTail(); tail != "ready\nbye\n" {
		t.Errorf("log %q, want the child's output", tail)
	}
	err := p.Exited()
	if err == nil || !strings.Contains(err.Error(), "child-serve exited (<nil>)") || !strings.Contains(err.Error(), "bye") {
		t.Errorf("Exited after Stop: %v", err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStopKillsStubbornChild(t *testing.T) {
	p := start(t, "stubborn")
	p.StopTimeout = 50 * time.Millisecond
	awaitReady(t, p)
	err := p.Stop()
	if !errors.Is(err, ErrKilled) || err.Error() != "did not exit within 0.05 s of SIGTERM; killed" {
		t.Errorf("Stop: %v, want ErrKilled", err)
	}
	if err := p.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Wait: %v, want killed", err)
	}
}

// TestStopSignalsGroup checks that Stop signals every process Group
// lists, not only the child.
func TestStopSignalsGroup(t *testing.T) {
	p := start(t, "serve")
	sibling := start(t, "serve")
	awaitReady(t, p)
	awaitReady(t, sibling)
	p.Group = func() ([]int, error) { return []int{p.PID(), sibling.PID()}, nil }
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sibling.Done():
	case <-time.After(time.Minute):
		t.Fatal("the other process of the group was not stopped")
	}
	if err := sibling.Wait(); err != nil {
		t.Errorf("the other process: %v, want a clean exit on SIGTERM", err)
	}
}

func TestAwait(t *testing.T) {
	p := start(t, "serve")
	never := func() (bool, error) { return false, nil }
	if err := p.Await(context.Background(), -1, time.Millisecond, never); !errors.Is(err, ErrTimeout) {
		t.Errorf("past the deadline: %v, want ErrTimeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Await(ctx, time.Minute, time.Millisecond, never); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v, want context.Canceled", err)
	}
	broken := errors.New("broken")
	if err := p.Await(context.Background(), time.Minute, time.Millisecond, func() (bool, error) { return false, broken }); err != broken {
		t.Errorf("failing condition: %v, want its error", err)
	}
}

func TestAwaitNoticesExit(t *testing.T) {
	p := start(t, "fail")
	err := p.Await(context.Background(), time.Minute, time.Millisecond, func() (bool, error) { return false, nil })
	if err == nil || errors.Is(err, ErrTimeout) {
		t.Fatalf("Await: %v, want the child's exit", err)
	}
	for _, want := range []string{"child-fail exited (exit status 3)", p.LogFile, "boom"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if err := p.Stop(); err == nil {
		t.Error("Stop of a child that failed: no error")
	}
}

func TestLogTailIsTheEnd(t *testing.T) {
	p := &Process{LogFile: filepath.Join(t.TempDir(), "log")}
	long := strings.Repeat("x", 5000) + "the end\n"
	if err := os.WriteFile(p.LogFile, []byte(long), 0o600); err != nil {
		t.Fatal(err)
	}
	if tail := p.LogTail(); len(tail) != tailBytes || !strings.HasSuffix(tail, "the end\n") {
		t.Errorf("tail of %d bytes ending %q", len(tail), tail[len(tail)-10:])
	}
}

func TestStartFails(t *testing.T) {
	dir := t.TempDir()
	p := &Process{Name: "nothing", Cmd: exec.Command(filepath.Join(dir, "no-such-program")), LogFile: filepath.Join(dir, "log")}
	if err := p.Start(); err == nil || !strings.HasPrefix(err.Error(), "starting nothing: ") {
		t.Errorf("Start of a missing program: %v", err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop of a child never started: %v", err)
	}
	p = &Process{Name: "child", Cmd: exec.Command(os.Args[0]), LogFile: filepath.Join(dir, "no-such-folder", "log")}
	if err := p.Start(); err == nil {
		t.Error("Start with a log in a missing folder: no error")
	}
}
