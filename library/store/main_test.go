package store

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The test binary runs again as a helper process (another mediaftpd on
// the same state folder) when helperEnv names a mode; dirEnv is the folder.
const (
	helperEnv = "STORE_TEST_HELPER"
	dirEnv    = "STORE_TEST_DIR"
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "hold":
		os.Exit(holdHelper(os.Getenv(dirEnv)))
	case "write":
		os.Exit(writeHelper(os.Getenv(dirEnv)))
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", helperEnv, os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// holdHelper opens the store, says "open" and keeps it until its stdin
// closes.
func holdHelper(dir string) int {
	s, err := Open(dir, nil)
	if err != nil {
		fmt.Println("error:", err)
		return 3
	}
	fmt.Println("open")
	io.Copy(io.Discard, os.Stdin)
	if err := s.Close(); err != nil {
		fmt.Println("error:", err)
		return 3
	}
	return 0
}

// The writer's stream: entry i of share "S".
func streamRel(i int) string { return fmt.Sprintf("d%03d/Some Film %06d (2019) 1080p.mkv", i/100, i) }

func streamStamp(i int) Stamp {
	return Stamp{Size: int64(i) * 1_000_003, ModTime: 1_700_000_000_000_000_000 + int64(i), Ino: uint64(i) + 1}
}

func streamRaw(i int) []byte { return []byte(strings.Repeat(fmt.Sprintf("<%d>", i), 1+i%17)) }

// streamBatch is how many entries the writer commits after entry i:
// batches of several sizes, so kills land in small and big transactions.
func streamBatch(i int) int { return []int{1, 3, 17, 64, 250}[i%5] }

// writeHelper continues the stream in dir from where the store stands,
// forever: a batch of puts, Flush, then the value "count", then a line on
// stdout with the count committed. The test kills it.
func writeHelper(dir string) int {
	s, err := Options{MaxBatch: 1 << 30, MaxDelay: time.Hour}.Open(dir, nil)
	if err != nil {
		fmt.Println("error:", err)
		return 3
	}
	n := 0
	s.EachDetails("S", func(string, Stamp) bool { n++; return true })
	out := bufio.NewWriter(os.Stdout)
	for b := 0; ; b++ {
		for range streamBatch(b) {
			if err := s.putDetailsRaw("S", streamRel(n), streamStamp(n), streamRaw(n)); err != nil {
				fmt.Println("error:", err)
				return 3
			}
			n++
		}
		if err := s.Flush(); err != nil {
			fmt.Println("error:", err)
			return 3
		}
		if err := s.SetValue("count", fmt.Appendf(nil, "%d", n)); err != nil {
			fmt.Println("error:", err)
			return 3
		}
		fmt.Fprintln(out, n)
		out.Flush()
	}
}

// helper is a helper process and its stdout's lines.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
}

// startHelper runs the test binary in mode on dir; t.Cleanup kills it.
func startHelper(t *testing.T, mode, dir string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, dirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &helper{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
}

// line returns the helper's next line of output.
func (h *helper) line(t *testing.T) string {
	t.Helper()
	if !h.lines.Scan() {
		t.Fatalf("helper: no more output (%v)", h.lines.Err())
	}
	if l := h.lines.Text(); strings.HasPrefix(l, "error:") {
		t.Fatalf("helper: %s", l)
	}
	return h.lines.Text()
}
