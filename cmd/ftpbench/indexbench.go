package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Figure 8 is mediaftpd's alone: vsftpd keeps no index. It comes from the
// library benchmark BenchmarkInitialScan (library/bench_test.go): the first
// scan of a synthetic library of 100,000 files in 5,000 folders with a warm
// page cache, and the heap the finished index holds. The bench runs it with
// go test and reads its output.

// indexFiles is the size of the library benchmark's tree.
const indexFiles = 100_000

// runIndexBench runs BenchmarkInitialScan count times in moduleRoot and
// returns one set of samples per run.
func runIndexBench(ctx context.Context, moduleRoot string, count int, quick bool) ([][]sample, error) {
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkInitialScan$", "-benchmem", "-count", strconv.Itoa(count)}
	if quick {
		args = append(args, "-benchtime", "1x")
	}
	args = append(args, "./library/")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	var runs [][]sample
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkInitialScan") {
			continue
		}
		// name iterations value unit value unit ...
		vals := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				vals[f[i+1]] = v
			}
		}
		nsOp, ok1 := vals["ns/op"]
		heap, ok2 := vals["heap-B/file"]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("BenchmarkInitialScan: no ns/op or heap-B/file in %q", sc.Text())
		}
		runs = append(runs, []sample{
			{mIndexTime, nsOp / 1e9},
			{mIndexPerFile, nsOp / indexFiles},
			{mIndexHeap, heap * indexFiles / mib},
			{mIndexHeapBytes, heap},
		})
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("go %s printed no result:\n%s", strings.Join(args, " "), out)
	}
	return runs, nil
}
