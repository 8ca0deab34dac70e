// Package childproc runs a server under test as a child process, for the
// project's own tools (the bench against vsftpd, the soak): it finds the
// mediaftpd checkout and builds a binary from it, starts the child in a
// process group of its own with its output in a log file, awaits a
// condition while watching for its exit, and stops it with SIGTERM and,
// after a deadline, SIGKILL. Reading the child's figures from /proc is
// package procstat's.
package childproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Errors of the package.
var (
	// ErrTimeout is returned by Await when the condition did not hold in
	// time.
	ErrTimeout = errors.New("timed out")
	// ErrKilled is wrapped by Stop's error when the child outlived
	// StopTimeout after SIGTERM and was killed.
	ErrKilled = errors.New("did not exit")
	// ErrNoModule is wrapped by FindModule's error outside the checkout.
	ErrNoModule = errors.New("not inside the mediaftpd checkout")
)

// DefaultStopTimeout is Stop's wait between SIGTERM and SIGKILL when
// Process.StopTimeout is zero.
const DefaultStopTimeout = 10 * time.Second

// tailBytes is how much of the end of the log LogTail returns.
const tailBytes = 3000

// Process is a program run as a child of this one, alone in its process
// group, so that a Ctrl-C at the terminal reaches only the parent, which
// then stops it; the kernel kills it if the parent dies first. The
// exported fields are its configuration, set before Start and not
// changed after.
type Process struct {
	// Name names the program in errors, such as "mediaftpd".
	Name string
	// Cmd is the command to run. Start sets its Stdout, Stderr and
	// SysProcAttr.
	Cmd *exec.Cmd
	// LogFile is the file Start creates for the child's standard output
	// and standard error.
	LogFile string
	// StopTimeout is how long Stop waits after SIGTERM before it sends
	// SIGKILL; zero means DefaultStopTimeout.
	StopTimeout time.Duration
	// Group, if set, returns the PIDs Stop signals: the child's and those
	// of the processes it made (such as vsftpd's session processes).
	// When it is nil, fails or returns none, Stop signals the child
	// alone. Stop calls it only while the child has not been reaped, as
	// the PID of a reaped child may be another process's.
	Group func() ([]int, error)

	done chan struct{} // closed once the child has exited and been reaped
	err  error         // how it exited (exec.Cmd.Wait), once done is closed
}

// Start starts the child and returns at once; a goroutine reaps it when
// it exits.
func (p *Process) Start() error {
	logf, err := os.Create(p.LogFile)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy
	p.Cmd.Stdout, p.Cmd.Stderr = logf, logf
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.Cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	p.done = make(chan struct{})
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	return nil
}

// PID returns the child's process ID; it is valid once Start has
// succeeded.
func (p *Process) PID() int { return p.Cmd.Process.Pid }

// Done returns a channel closed once the child has exited and been
// reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the child to exit and returns how it exited: nil for
// exit status 0, else the error of exec.Cmd.Wait.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Exited returns nil while the child runs; once it has exited, an error
// that says how, with the end of its log.
func (p *Process) Exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v); its log, %s, ends:\n%s", p.Name, p.err, p.LogFile, p.LogTail())
	default:
		return nil
	}
}

// LogTail returns the end of the child's log (its last 3000 bytes), for
// error messages; "" if the log cannot be read.
func (p *Process) LogTail() string {
	b, _ := os.ReadFile(p.LogFile)
	if len(b) > tailBytes {
		b = b[len(b)-tailBytes:]
	}
	return string(b)
}

// Await calls ready every interval until it reports true, and then
// returns nil. It returns ready's error if ready fails, the child's exit
// (see Exited) if the child exits first, ctx's error if ctx ends first,
// and an error wrapping ErrTimeout once timeout has passed.
func (p *Process) Await(ctx context.Context, timeout, interval time.Duration, ready func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := ready()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if err := p.Exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w after %v", p.Name, ErrTimeout, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// Stop ends the child: SIGTERM to it (and to Group), then SIGKILL to what
// is left after StopTimeout. It waits for the child to exit and returns
// how it exited, as Wait does, or an error wrapping ErrKilled if it had
// to kill it. It does nothing but return that for a child already gone,
// or nil for one never started.
func (p *Process) Stop() error {
	if p.done == nil {
		return nil
	}
	select {
	case <-p.done:
		return p.err
	default:
	}
	timeout := p.StopTimeout
	if timeout == 0 {
		timeout = DefaultStopTimeout
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.signal(syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%w within %g s of SIGTERM; killed", ErrKilled, timeout.Seconds())
	}
}

// signal sends sig to the child's processes unless it has been reaped.
func (p *Process) signal(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	var pids []int
	if p.Group != nil {
		pids, _ = p.Group()
	}
	if len(pids) == 0 {
		pids = []int{p.PID()}
	}
	for _, pid := range pids {
		syscall.Kill(pid, sig)
	}
}
