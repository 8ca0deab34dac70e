package ftpd

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestListManyBatches lists a folder of several times readDirBatch
// entries, hidden ones among them: every visible name comes exactly once,
// in name order, whatever order the folder holds them in.
func TestListManyBatches(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	const n = 3*readDirBatch + 17
	var want []string
	for i := range n {
		name := fmt.Sprintf("clip %04d.mkv", (i*7919)%n) // not created in name order
		writeFile(t, dir, "many/"+name, "x")
		want = append(want, name)
		if i%100 == 0 {
			writeFile(t, dir, fmt.Sprintf("many/.hidden%d", i), "x")
		}
	}
	slices.Sort(want)
	c := login(t, ts.Addr)
	got := strings.Split(strings.TrimSuffix(c.list("NLST /Media/many"), "\r\n"), "\r\n")
	if !slices.Equal(got, want) {
		t.Errorf("NLST sent %d names (first %q), want %d sorted names", len(got), got[:min(3, len(got))], len(want))
	}
}
