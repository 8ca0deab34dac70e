package ftpd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// listingNow is the fixed clock of the golden listings.
var listingNow = time.Date(2024, time.June, 15, 12, 30, 45, 0, listingZone)

// listingZone is not UTC, so that the golden files show LIST in the
// mtime's zone and MLSD in UTC.
var listingZone = time.FixedZone("UTC+5:30", 5*3600+30*60)

// listingEntries is the input of the golden listings.
var listingEntries = []entry{
	{name: "Films", size: 4096, mtime: listingNow.Add(-time.Hour), dir: true},
	{name: "Empty", mtime: listingNow.AddDate(0, -7, 0), dir: true},
	{name: "empty.txt", size: 0, mtime: listingNow.Add(-time.Hour)},
	{name: "big.mkv", size: 5<<30 + 7, mtime: listingNow.AddDate(0, -5, 0)},
	{name: "now.mkv", size: 1, mtime: listingNow},
	{name: "old.avi", size: 700 << 20, mtime: listingNow.AddDate(0, -7, 0)},
	{name: "new year.avi", size: 12, mtime: time.Date(2024, time.January, 1, 0, 0, 0, 0, listingZone)},
	{name: "future.mp4", size: 42, mtime: listingNow.Add(48 * time.Hour)},
	{name: "pi-no-clock.jpg", size: 123456, mtime: time.Unix(0, 0).In(listingZone)},
	{name: "name with  spaces .mkv", size: 3, mtime: listingNow.Add(-time.Minute)},
	{name: " leading space", size: 3, mtime: listingNow.Add(-time.Minute)},
	{name: "Фильм – été 映画.mkv", size: 9, mtime: listingNow.Add(-24 * time.Hour)},
	{name: "semi;colon=1;.mkv", size: 5, mtime: listingNow.AddDate(-1, 0, 0)},
	{name: "far-future.mkv", size: 5, mtime: time.Date(2100, time.December, 31, 23, 59, 59, 0, listingZone)},
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

var (
	listLineRe = regexp.MustCompile(`^([d-])([r-][w-][x-]){3} 1 ftp ftp (\d+) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d\d) (\d\d:\d\d| \d{4}) (.+)\r\n$`)
	mlsdLineRe = regexp.MustCompile(`^type=(file|dir);(?:size=(\d+);)?modify=(\d{14});perm=(r|el); (.+)\r\n$`)
)

func TestAppendListGolden(t *testing.T) {
	var out []byte
	for _, e := range listingEntries {
		line := appendList(nil, e, listingNow)
		out = append(out, line...)

		m := listLineRe.FindStringSubmatch(string(line))
		if m == nil {
			t.Errorf("LIST line %q is not an ls -l line", line)
			continue
		}
		if (m[1] == "d") != e.dir {
			t.Errorf("LIST line %q: type, dir = %v", line, e.dir)
		}
		if perm := line[1:10]; string(perm) != "r-xr-xr-x" && string(perm) != "r--r--r--" {
			t.Errorf("LIST line %q: permissions %q", line, perm)
		}
		if m[3] != strconv.FormatInt(e.size, 10) {
			t.Errorf("LIST line %q: size, want %d", line, e.size)
		}
		if m[7] != e.name {
			t.Errorf("LIST line %q: name, want %q", line, e.name)
		}
		age := listingNow.Sub(e.mtime)
		recent := age >= 0 && age < 182*24*time.Hour
		if want := e.mtime.Format("15:04"); recent && m[6] != want {
			t.Errorf("LIST line %q: %s ago, want the time %s", line, age, want)
		}
		if want := e.mtime.Format(" 2006"); !recent && m[6] != want {
			t.Errorf("LIST line %q: %s ago, want the year %q", line, age, want)
		}
		if want := e.mtime.Format("Jan 02"); m[4]+" "+m[5] != want {
			t.Errorf("LIST line %q: date, want %s in the mtime's zone", line, want)
		}
	}
	golden(t, "list.golden", out)
}

func TestAppendFactsGolden(t *testing.T) {
	var out []byte
	for _, e := range listingEntries {
		line := append(appendFacts(nil, e, allFacts, e.name), "\r\n"...)
		out = append(out, line...)

		m := mlsdLineRe.FindStringSubmatch(string(line))
		if m == nil {
			t.Errorf("MLSD line %q is not a fact line", line)
			continue
		}
		if e.dir && (m[1] != "dir" || m[2] != "" || m[4] != "el") {
			t.Errorf("MLSD line %q: want type=dir, no size, perm=el", line)
		}
		if !e.dir && (m[1] != "file" || m[2] != strconv.FormatInt(e.size, 10) || m[4] != "r") {
			t.Errorf("MLSD line %q: want type=file;size=%d; and perm=r", line, e.size)
		}
		if want := e.mtime.UTC().Format("20060102150405"); m[3] != want {
			t.Errorf("MLSD line %q: modify, want %s (UTC)", line, want)
		}
		if m[5] != e.name {
			t.Errorf("MLSD line %q: name, want %q", line, e.name)
		}
	}
	golden(t, "mlsd.golden", out)

	// Chosen facts only, in the fixed order, still ending "; name".
	e := listingEntries[3]
	for f, want := range map[facts]string{
		factType | factSize:   "type=file;size=5368709127; big.mkv",
		factSize | factModify: "size=5368709127;modify=20240115070045; big.mkv",
		factPerm:              "perm=r; big.mkv",
		0:                     " big.mkv",
	} {
		if got := string(appendFacts(nil, e, f, e.name)); got != want {
			t.Errorf("appendFacts(%s) = %q, want %q", f.String(false), got, want)
		}
	}
	// MLST names the full path.
	if got, want := string(appendFacts(nil, listingEntries[0], allFacts, "/Media/Films")),
		"type=dir;modify=20240615060045;perm=el; /Media/Films"; got != want {
		t.Errorf("appendFacts for MLST = %q, want %q", got, want)
	}
}

// TestListSixMonthsNoClock covers a Pi that booted without a clock: its
// "now" is 1970, so every real file is in the future and shows its year.
func TestListSixMonthsNoClock(t *testing.T) {
	now := time.Date(1970, time.January, 1, 0, 5, 0, 0, time.UTC)
	for _, tt := range []struct {
		mtime time.Time
		want  string
	}{
		{time.Date(2024, time.March, 9, 21, 15, 0, 0, time.UTC), "Mar 09  2024"},
		{time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC), "Jan 01 00:00"},
		{time.Date(1970, time.January, 1, 0, 6, 0, 0, time.UTC), "Jan 01  1970"},
	} {
		got := string(appendList(nil, entry{name: "x", mtime: tt.mtime}, now))
		if want := "-r--r--r-- 1 ftp ftp 0 " + tt.want + " x\r\n"; got != want {
			t.Errorf("appendList at 1970 of %v = %q, want %q", tt.mtime, got, want)
		}
	}
}

// listNames returns the names of LIST or MLSD output, checking each line.
func listNames(t *testing.T, out string, re *regexp.Regexp) []string {
	t.Helper()
	var names []string
	for line := range strings.SplitAfterSeq(out, "\r\n") {
		if line == "" {
			continue
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("bad listing line %q", line)
			continue
		}
		names = append(names, m[len(m)-1])
	}
	return names
}

// nlstNames splits NLST output, checking the CRLF line ends.
func nlstNames(t *testing.T, out string) []string {
	t.Helper()
	if out == "" {
		return nil
	}
	if !strings.HasSuffix(out, "\r\n") || strings.Count(out, "\n") != strings.Count(out, "\r\n") {
		t.Errorf("NLST output %q: lines must end in CRLF", out)
	}
	return strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
}

func listingTree(t *testing.T, dir string) {
	t.Helper()
	// Created out of order; readdir order is the file system's.
	for _, rel := range []string{
		"dir/b.txt", "dir/a.txt", "dir/.hidden", "zeta.mkv", "Alpha.mkv", "file.txt",
		"a b;c.mkv", " lead.mkv", "Фильм.mkv", ".config/x", "dir/sub/x.mkv", "beta/x",
	} {
		writeFile(t, dir, rel, "12345")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad\nname.mkv"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestListArguments(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	listingTree(t, dir)
	c := login(t, ts.Addr)
	c.cmd("CWD /Media", 250)

	top := []string{" lead.mkv", "Alpha.mkv", "a b;c.mkv", "beta", "dir", "file.txt", "zeta.mkv", "Фильм.mkv"}
	dirNames := []string{"a.txt", "b.txt", "sub"}
	for _, tt := range []struct {
		line string
		want []string
	}{
		{"LIST", top},
		{"LIST -a", top},
		{"LIST -al", top},
		{"LIST -l", top},
		{"LIST -la /Media/dir", dirNames},
		{"LIST -l dir", dirNames},
		{"LIST -a -l dir", dirNames},
		{"LIST dir", dirNames},
		{"LIST /Media/dir/", dirNames},
		{"LIST file.txt", []string{"file.txt"}},
		{"LIST -l /Media/dir/a.txt", []string{"a.txt"}},
	} {
		out := c.list(tt.line)
		if got := listNames(t, out, listLineRe); !slices.Equal(got, tt.want) {
			t.Errorf("%s: names %q, want %q\n%s", tt.line, got, tt.want, out)
		}
	}

	for _, tt := range []struct {
		line string
		want []string
	}{
		{"MLSD", top},
		{"MLSD dir", dirNames},
		{"MLSD /Media/dir", dirNames},
	} {
		out := c.list(tt.line)
		if got := listNames(t, out, mlsdLineRe); !slices.Equal(got, tt.want) {
			t.Errorf("%s: names %q, want %q\n%s", tt.line, got, tt.want, out)
		}
		if strings.Contains(out, "cdir") || strings.Contains(out, "pdir") {
			t.Errorf("%s lists cdir or pdir:\n%s", tt.line, out)
		}
	}
	if out := c.list("MLSD dir"); !strings.Contains(out, "type=dir;modify=") || !strings.Contains(out, ";perm=el; sub\r\n") ||
		!strings.Contains(out, "type=file;size=5;modify=") || !strings.Contains(out, ";perm=r; a.txt\r\n") {
		t.Errorf("MLSD dir facts:\n%s", out)
	}

	for _, tt := range []struct {
		line string
		want []string
	}{
		{"NLST", top},
		{"NLST dir", dirNames},
		{"NLST /Media/dir", dirNames},
	} {
		if got := nlstNames(t, c.list(tt.line)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.line, got, tt.want)
		}
	}

	// MLSD of a file is an error (RFC 3659 7.2.1), before any 150.
	c.epsv()
	c.send("MLSD file.txt")
	if code, raw := c.reply(); code != 501 && code != 550 {
		t.Errorf("MLSD of a file: %q, want 501 or 550", raw)
	}

	// MLST: "250-", one entry line with exactly one leading space, "250 End".
	for _, tt := range []struct{ arg, entry string }{
		{"file.txt", ` type=file;size=5;modify=\d{14};perm=r; /Media/file\.txt`},
		{"/Media/dir", ` type=dir;modify=\d{14};perm=el; /Media/dir`},
		{"dir/", ` type=dir;modify=\d{14};perm=el; /Media/dir`},
		{"a b;c.mkv", ` type=file;size=5;modify=\d{14};perm=r; /Media/a b;c\.mkv`},
		{"", ` type=dir;modify=\d{14};perm=el; /Media`},
		{"/", ` type=dir;modify=\d{14};perm=el; /`},
	} {
		raw := c.cmd("MLST "+tt.arg, 250)
		re := regexp.MustCompile(`^250-[^\r\n]*\r\n` + tt.entry + `\r\n250 End[^\r\n]*\r\n$`)
		if !re.MatchString(raw) {
			t.Errorf("MLST %s: %q, want %s", tt.arg, raw, re)
		}
	}
}

func TestListVirtualRoot(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	writeFile(t, dir, "a.mkv", "x")
	music := t.TempDir()
	writeFile(t, music, "song.flac", "la")
	if err := ts.Set.Add(libShare("Music", music)); err != nil {
		t.Fatal(err)
	}
	if err := ts.Set.Add(libShare("USB", filepath.Join(t.TempDir(), "unplugged"))); err != nil {
		t.Fatal(err)
	}

	c := login(t, ts.Addr)
	shares := []string{"Media", "Music"}
	for _, line := range []string{"LIST", "LIST /", "LIST -al /"} {
		out := c.list(line)
		if got := listNames(t, out, listLineRe); !sameSet(got, shares) {
			t.Errorf("%s: %q, want the online shares %q", line, got, shares)
		}
		for l := range strings.SplitAfterSeq(out, "\r\n") {
			if l != "" && !strings.HasPrefix(l, "dr-xr-xr-x 1 ftp ftp ") {
				t.Errorf("%s: share listed as %q, want a folder", line, l)
			}
		}
	}
	out := c.list("MLSD /")
	if got := listNames(t, out, mlsdLineRe); !sameSet(got, shares) {
		t.Errorf("MLSD /: %q, want %q", got, shares)
	}
	if strings.Count(out, "type=dir;") != len(shares) {
		t.Errorf("MLSD /: shares must be folders:\n%s", out)
	}
	if got := nlstNames(t, c.list("NLST /")); !sameSet(got, shares) {
		t.Errorf("NLST /: %q, want %q", got, shares)
	}
	if got := nlstNames(t, c.list("NLST /Music")); !slices.Equal(got, []string{"song.flac"}) {
		t.Errorf("NLST /Music: %q", got)
	}
	c.cmd("CWD /USB", 550)
	c.epsv()
	c.cmd("LIST /USB", 550)
}

func libShare(name, path string) library.Share { return library.Share{Name: name, Path: path} }

// sameSet reports whether a and b hold the same names, each once.
func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))) &&
		len(slices.Compact(slices.Sorted(slices.Values(a)))) == len(a)
}

func TestOptsMLST(t *testing.T) {
	ts, dir := newTestServer(t, nil)
	writeFile(t, dir, "a.mkv", "12345")
	writeFile(t, dir, "Sub/x", "")
	c := login(t, ts.Addr)

	feat := c.cmd("FEAT", 211)
	if !strings.Contains(feat, "\r\n MLST type*;size*;modify*;perm*;\r\n") {
		t.Errorf("FEAT before OPTS MLST:\n%s", feat)
	}
	if raw := c.cmd("OPTS MLST type;size;", 200); !strings.Contains(raw, "type;size;") {
		t.Errorf("OPTS MLST reply %q should name the facts chosen", raw)
	}
	feat = c.cmd("FEAT", 211)
	if !strings.Contains(feat, "\r\n MLST type*;size*;modify;perm;\r\n") {
		t.Errorf("FEAT after OPTS MLST type;size;:\n%s", feat)
	}
	if got, want := c.list("MLSD /Media"), "type=dir; Sub\r\ntype=file;size=5; a.mkv\r\n"; got != want {
		t.Errorf("MLSD after OPTS MLST type;size; = %q, want %q", got, want)
	}
	raw := c.cmd("MLST /Media/a.mkv", 250)
	if !strings.Contains(raw, "\r\n type=file;size=5; /Media/a.mkv\r\n") {
		t.Errorf("MLST after OPTS MLST type;size; = %q", raw)
	}

	// Unknown facts are ignored; case does not matter.
	c.cmd("OPTS MLST Modify;UNIX.mode;", 200)
	if got := c.list("MLSD /Media"); !regexp.MustCompile(`^modify=\d{14}; Sub\r\nmodify=\d{14}; a\.mkv\r\n$`).MatchString(got) {
		t.Errorf("MLSD after OPTS MLST Modify; = %q", got)
	}
	// The choice is per session.
	c2 := login(t, ts.Addr)
	if got := c2.list("MLSD /Media"); !strings.Contains(got, "type=file;size=5;modify=") {
		t.Errorf("another session's MLSD = %q", got)
	}
}
