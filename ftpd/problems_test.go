package ftpd

import (
	"fmt"
	"testing"
)

// TestProblemLogBounded checks that the problem log stops remembering at
// maxProblems, says so once, and still knows the problems it remembers.
func TestProblemLogBounded(t *testing.T) {
	var l problemLog
	fulls := 0
	for i := range maxProblems + 100 {
		outcome, nowFull := l.record(problem{share: "USB", path: fmt.Sprint(i), kind: "read error"})
		if nowFull {
			fulls++
		}
		want := problemNew
		if i >= maxProblems {
			want = problemFull
		}
		if outcome != want {
			t.Fatalf("problem %d: outcome %d, want %d", i, outcome, want)
		}
	}
	if len(l.seen) != maxProblems || fulls != 1 {
		t.Errorf("remembered %d problems and filled up %d times; want %d and once", len(l.seen), fulls, maxProblems)
	}
	if outcome, _ := l.record(problem{share: "USB", path: "0", kind: "read error"}); outcome != problemSeen {
		t.Errorf("a remembered problem: outcome %d, want %d (seen)", outcome, problemSeen)
	}
}
