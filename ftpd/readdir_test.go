package ftpd

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
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

// TestListBigFolderFacts lists a folder big enough to be stat'ed by
// several goroutines, holding files of different sizes, folders, symlinks
// inside and outside the share and a FIFO: every MLSD line carries the
// type, size and time of what its name leads to, as os.Stat sees it, and
// only files and folders inside the share are listed.
func TestListBigFolderFacts(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	secret := escapeTree(t, dir) // a secret next to the share
	many := filepath.Join(dir, "many")
	want := map[string]string{}
	for i := range parallelStat + 300 {
		name := fmt.Sprintf("f%05d.mkv", (i*7919)%(parallelStat+300))
		switch {
		case i%50 == 1:
			name = strings.TrimSuffix(name, ".mkv")
			if err := os.MkdirAll(filepath.Join(many, name), 0o755); err != nil {
				t.Fatal(err)
			}
		case i%50 == 2:
			if err := os.Symlink(fmt.Sprintf("f%05d.mkv", 0), filepath.Join(many, name)); err != nil {
				t.Fatal(err)
			}
		case i%50 == 3:
			if err := os.Symlink(secret, filepath.Join(many, name)); err != nil {
				t.Fatal(err)
			}
			continue // leaves the share: not listed
		case i%50 == 4:
			if err := os.Symlink("nothing", filepath.Join(many, name)); err != nil {
				t.Fatal(err)
			}
			continue // dangling
		case i%50 == 5:
			if err := syscall.Mkfifo(filepath.Join(many, name), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		default:
			writeFile(t, dir, "many/"+name, strings.Repeat("x", i))
			mt := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
			if err := os.Chtimes(filepath.Join(many, name), mt, mt); err != nil {
				t.Fatal(err)
			}
		}
		want[name] = ""
	}
	if err := os.Symlink("f00000.mkv", filepath.Join(many, "zz-link.mkv")); err != nil {
		t.Fatal(err)
	}
	want["zz-link.mkv"] = ""
	for name := range want {
		fi, err := os.Stat(filepath.Join(many, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			want[name] = "type=dir;modify=" + fi.ModTime().UTC().Format("20060102150405")
		} else {
			want[name] = fmt.Sprintf("type=file;size=%d;modify=%s", fi.Size(), fi.ModTime().UTC().Format("20060102150405"))
		}
	}

	c := login(t, ts.Addr)
	got := map[string]string{}
	var order []string
	for line := range strings.SplitSeq(strings.TrimSuffix(c.list("MLSD /Media/many"), "\r\n"), "\r\n") {
		facts, name, _ := strings.Cut(line, " ")
		var keep []string
		for f := range strings.SplitSeq(strings.TrimSuffix(facts, ";"), ";") {
			if k, _, _ := strings.Cut(f, "="); k == "type" || k == "size" || k == "modify" {
				keep = append(keep, f)
			}
		}
		got[name] = strings.Join(keep, ";")
		order = append(order, name)
	}
	if !slices.IsSorted(order) {
		t.Error("MLSD lines are not in name order")
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s is not listed", name)
		} else if !sameFacts(g, w) {
			t.Errorf("%s: facts %q, want %q", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is listed but should not be", name)
		}
	}
}

// sameFacts compares two fact lists whatever their order.
func sameFacts(a, b string) bool {
	x, y := strings.Split(a, ";"), strings.Split(b, ";")
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
