package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
	"github.com/mediaftpd/mediaftpd/library/probe"
)

// TestQuickReport runs the whole bench in its quick mode (2,000 and 1,000
// files, a 32 MiB film streamed for a second) with the real binary, built
// from this checkout, and checks that the report is produced with every
// figure. It asserts nothing about the figures themselves.
func TestQuickReport(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the bench reads /proc: Linux only")
	}
	testtool.Need(t, "go")
	var stdout, stderr bytes.Buffer
	args := []string{"-quick", "-dir", t.TempDir(), "-ports", freePortBase(t)}
	if code := run(args, &stdout, &stderr); code != exitOK {
		t.Fatalf("detailsbench %s: exit %d\nstderr:\n%s\nstdout:\n%s", strings.Join(args, " "), code, stderr.String(), stdout.String())
	}
	report := stdout.String()
	for _, want := range []string{
		"| figure ", "| measured |", "| target ",
		"1. restart with 2,000 known files: start to details ready (s)",
		"1. store size per file after the first probing (B)",
		"2. PSS added by details, per file (B)",
		"3. paced stream's rate, probing 1,000 files | details known (MB/s)",
		"3. seek during the stream (REST+RETR to first byte) (µs)",
		"3. seek with no stream: prober at full speed | idle (µs)",
		" targets met.", "Every run, in the order run", "Machine: ", "Disk: ", "Command: detailsbench -quick",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	t.Logf("report:\n%s", report)
}

// freePortBase returns a -ports base whose ports are all free.
func freePortBase(t *testing.T) string {
	for base := 29000; base < 32000; base += 250 {
		if portsFor(base).checkFree() == nil {
			return strconv.Itoa(base)
		}
	}
	t.Fatal("no free loopback ports between 29000 and 32000")
	return ""
}

func TestParseArgs(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseArgs(nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.files != 100_000 || o.fresh != 10_000 || o.runs != 5 || o.bigSize != 1<<30 || o.rate != 10e6 {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parseArgs([]string{"-quick", "-runs", "3", "-files", "500"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.runs != 3 || o.files != 500 || o.fresh != 1000 || o.bigSize != 32<<20 || o.streamFor != time.Second || o.settle != 0 {
		t.Errorf("-quick with -runs 3 -files 500: %+v", o)
	}
	for _, bad := range [][]string{
		{"-runs", "0"}, {"-files", "0"}, {"-ports", "80"}, {"-rate", "0"}, {"extra"},
		{"-big", "2000000", "-stream", "1s"}, // too small for 1 s at 10 MB/s
	} {
		if _, err := parseArgs(bad, &stderr); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseLogLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want map[string]string
	}{
		{
			`time=2026-12-04T05:11:29.117Z level=INFO msg="media details ready" component=details share=music files=2000 probed=2000 took=178ms`,
			map[string]string{"level": "INFO", "msg": "media details ready", "share": "music", "files": "2000", "probed": "2000", "took": "178ms"},
		},
		{
			`time=2026-12-04T05:10:18.536Z level=INFO msg="share indexed" share=music path="/a b/c" why="first scan" files=2000`,
			map[string]string{"msg": "share indexed", "path": "/a b/c", "why": "first scan", "files": "2000"},
		},
		{`time=2026-12-04T05:10:18.536Z msg="quoted \"inner\" text" x=1`, map[string]string{"msg": `quoted "inner" text`, "x": "1"}},
		{`panic: something went wrong`, map[string]string{}},
		{`msg="unterminated`, map[string]string{}},
		{``, map[string]string{}},
	} {
		l := parseLogLine(tc.line)
		for k, v := range tc.want {
			if l.attrs[k] != v {
				t.Errorf("%q: %s=%q, want %q", tc.line, k, l.attrs[k], v)
			}
		}
		if len(tc.want) == 0 && len(l.attrs) != 0 {
			t.Errorf("%q: attributes %v, want none", tc.line, l.attrs)
		}
	}
	l := parseLogLine(`time=2026-12-04T05:11:29.117Z msg=x files=12 took=1.5s`)
	if want := time.Date(2026, 12, 4, 5, 11, 29, 117e6, time.UTC); !l.time.Equal(want) {
		t.Errorf("time %v, want %v", l.time, want)
	}
	if l.int("files") != 12 || l.int("nope") != -1 || l.duration("took") != 1500*time.Millisecond || l.duration("files") != -1 {
		t.Errorf("int/duration of %v", l.attrs)
	}
}

func TestLogReader(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	r := logReader{path: p}
	if _, err := r.next(); err == nil {
		t.Error("a missing log: no error")
	}
	appendLog := func(s string) {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	msgs := func() []string {
		lines, err := r.next()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range lines {
			out = append(out, l.attrs["msg"])
		}
		return out
	}
	appendLog("msg=a\nmsg=b\nmsg=\"half")
	if got := msgs(); strings.Join(got, ",") != "a,b" {
		t.Errorf("first read %q, want a,b (the unended line kept)", got)
	}
	if got := msgs(); len(got) != 0 {
		t.Errorf("nothing new: %q", got)
	}
	appendLog(" done\"\nmsg=c\n")
	if got := msgs(); strings.Join(got, ",") != "half done,c" {
		t.Errorf("second read %q, want the completed line and c", got)
	}
}

// TestMusicFiles checks that the generated files are what the bench says:
// music with a duration and the file's own tags, a few hundred bytes
// each, in a library's folders.
func TestMusicFiles(t *testing.T) {
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 19, 20, 199, 200, 99_999} {
		rel, data := musicFile(i)
		if seen[rel] {
			t.Errorf("file %d: path %s used twice", i, rel)
		}
		seen[rel] = true
		if len(data) < 200 || len(data) > 600 {
			t.Errorf("%s: %d bytes, want a few hundred", rel, len(data))
		}
		d, err := probe.Probe(bytes.NewReader(data), int64(len(data)), filepath.Base(rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		wantContainer := strings.TrimPrefix(filepath.Ext(rel), ".")
		if d.Container != wantContainer || d.Duration <= 0 || d.SampleRate == 0 || d.Channels != 1 {
			t.Errorf("%s: %+v, want %s audio with a duration", rel, d, wantContainer)
		}
		parts := strings.Split(rel, "/")
		if len(parts) != 3 || d.Artist != parts[0] || d.Album != parts[1] || !strings.Contains(parts[2], d.Title) || d.Track == 0 {
			t.Errorf("%s: tags %q %q %q %d, want the path's", rel, d.Artist, d.Album, d.Title, d.Track)
		}
	}
	if r0, _ := musicFile(0); r0 != "Artist 000/Album 01/01 Track 01.mp3" {
		t.Errorf("first file %s", r0)
	}
	if r, _ := musicFile(99_999); r != "Artist 499/Album 10/20 Track 20.wav" {
		t.Errorf("100,000th file %s, want the 500th artist's", r)
	}
}

func TestMusicTree(t *testing.T) {
	dir := t.TempDir()
	var progress bytes.Buffer
	root, err := musicTree(dir, "lib", 45, &progress)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		fi, err := d.Info()
		if err == nil && !fi.ModTime().Equal(musicTime) {
			t.Errorf("%s modified %v, want %v", p, fi.ModTime(), musicTime)
		}
		return err
	})
	if err != nil || n != 45 {
		t.Fatalf("%d files (%v), want 45", n, err)
	}
	// Kept: a second call makes nothing.
	progress.Reset()
	if again, err := musicTree(dir, "lib", 45, &progress); err != nil || again != root || progress.Len() != 0 {
		t.Errorf("second call: %s, %v, said %q", again, err, progress.String())
	}
}

func TestTableJudgesTargets(t *testing.T) {
	res := results{}
	res.add(mRestartReady, 1.5)
	res.add(mRestartReady, 2.5)
	res.add(mRestartReady, 1.9) // median 1.9: met
	res.add(mPSSPerFile, 75)    // missed
	res.add(mRateProbing, 9.6)
	res.add(mRateKnown, 10) // 0.96: met
	res.add(mSeekProbing, 300)
	res.add(mSeekKnown, 240) // 1.25: missed
	res.add(mIdleProbing, 250)
	var b bytes.Buffer
	judged, missed := writeTable(&b, rows(100_000, 10_000), res)
	if judged != 4 || missed != 2 {
		t.Errorf("judged %d, missed %d; want 4 and 2 (a row without its comparison is not judged)\n%s", judged, missed, b.String())
	}
	for _, want := range []string{"100,000 known files", "|     1.90 |", " 0.96 | ratio ≥ 0.95 | yes ", " 1.25 | ratio ≤ 1.2  | **no** ", "≤ 60 B"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for _, l := range lines[1:] {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Errorf("line %q is not as wide as the header %q", l, lines[0])
		}
	}
	var runs bytes.Buffer
	writeRuns(&runs, rows(100_000, 10_000), res)
	if !strings.Contains(runs.String(), "- figure 1, restart with 100,000 known files: start to details ready (s): 1.50 2.50 1.90\n") ||
		!strings.Contains(runs.String(), "(MB/s): 9.60 | 10.0\n") {
		t.Errorf("runs:\n%s", runs.String())
	}
}

func TestParseRollupParts(t *testing.T) {
	const rollup = `55d4c0a3a000-7ffd9a5f1000 ---p 00000000 00:00 0                          [rollup]
Rss:               23004 kB
Pss:               19283 kB
Pss_Dirty:          7412 kB
Pss_Anon:           7400 kB
Pss_File:          11871 kB
Pss_Shmem:            12 kB
`
	anon, file := parseRollupParts(rollup)
	if anon != 7400<<10 || file != 11871<<10 {
		t.Errorf("anon %d, file %d", anon, file)
	}
	if a, f := parseRollupParts("Pss: 3 kB\n"); a != 0 || f != 0 {
		t.Errorf("an old kernel's rollup: %d %d, want zeros", a, f)
	}
}

func TestMappedPSS(t *testing.T) {
	const smaps = `00400000-00a00000 r-xp 00000000 fd:00 123 /usr/bin/mediaftpd
Rss:                5000 kB
Pss:                5000 kB
7f0000000000-7f0000800000 r--s 00000000 fd:00 456 /var/lib/media ftpd/mediaftpd.db
Size:               8192 kB
Rss:                1200 kB
Pss:                1200 kB
7f0000800000-7f0000900000 rw-p 00000000 00:00 0
Pss:                 300 kB
7f0001000000-7f0001100000 r--s 00000000 fd:00 789 /var/lib/media ftpd/mediaftpd.db
Pss:                  40 kB
7f0002000000-7f0002100000 r--s 00000000 fd:00 790 /tmp/mediaftpd.db.corrupt-x
Pss:                  99 kB
`
	if got := mappedPSS(smaps, "/mediaftpd.db"); got != 1240<<10 {
		t.Errorf("store map PSS %d, want %d", got, 1240<<10)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100_000: "100,000", 1_073_741_824: "1,073,741,824"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
