package ftpd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
)

// FuzzListFormat checks that a LIST or MLSD line is one line whatever the
// name, size and time of the entry: nothing in a file name may start a new
// line, and the name ends the line as it is.
func FuzzListFormat(f *testing.F) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC).Unix()
	for _, s := range []struct {
		name string
		size int64
		sec  int64
	}{
		{"film.mkv", 1 << 30, now - 3600},
		{"Amélie (2001).mkv", 0, now - 400*86400},
		{"  two  spaces  .mp4", 42, now + 86400},
		{"a;b;type=dir; x", 1, 0},
		{"size=1; evil", 7, -1},
		{"\xff\xfe\xc3\x28 bad utf-8", 1<<63 - 1, 1 << 40},
		{"日本語のタイトル.mkv", 123, now},
		{"tab\there", 5, -62135596800},
		{"cr\rlf\n", 5, now},
	} {
		f.Add([]byte(s.name), s.size, s.sec, int64(0), false, uint8(allFacts))
		f.Add([]byte(s.name), s.size, s.sec, int64(999999999), true, uint8(factType|factPerm))
	}
	nowT := time.Unix(now, 0)
	f.Fuzz(func(t *testing.T, name []byte, size, sec, nsec int64, dir bool, fs uint8) {
		if size < 0 {
			return
		}
		e := entry{name: string(name), size: size, mtime: time.Unix(sec, nsec), dir: dir}
		list := appendList(nil, e, nowT)
		facts := append(appendFacts(nil, e, facts(fs)&allFacts, e.name), "\r\n"...)
		if !library.Visible(e.name) {
			return // never listed
		}
		for _, line := range [][]byte{list, facts} {
			if !bytes.HasSuffix(line, []byte("\r\n")) || bytes.Count(line, []byte("\r")) != 1 || bytes.Count(line, []byte("\n")) != 1 {
				t.Fatalf("not one CRLF line: %q", line)
			}
		}

		// LIST: ls -l columns, the name last.
		l := string(list[:len(list)-2])
		perm, rest, _ := strings.Cut(l, " ")
		if len(perm) != 10 || !strings.ContainsRune("d-", rune(perm[0])) || strings.Trim(perm[1:], "rwx-") != "" {
			t.Errorf("LIST permissions %q in %q", perm, l)
		}
		if !strings.HasPrefix(rest, "1 ftp ftp ") {
			t.Errorf("LIST line %q lacks \"1 ftp ftp\"", l)
		}
		if !strings.HasSuffix(l, " "+e.name) {
			t.Errorf("LIST line %q does not end in the name", l)
		}

		// MLSD: "fact=value;...; name".
		m := string(facts[:len(facts)-2])
		fl, got, ok := strings.Cut(m, " ")
		if !ok || got != e.name {
			t.Fatalf("MLSD line %q: name %q, want %q", m, got, e.name)
		}
		if fl != "" && !strings.HasSuffix(fl, ";") {
			t.Errorf("MLSD facts %q do not end in \";\"", fl)
		}
		for fact := range strings.SplitSeq(strings.TrimSuffix(fl, ";"), ";") {
			if fl == "" {
				break
			}
			k, v, ok := strings.Cut(fact, "=")
			if !ok || k == "" || v == "" {
				t.Errorf("MLSD fact %q in %q", fact, m)
			}
			if y := e.mtime.UTC().Year(); k == "modify" && y >= 0 && y <= 9999 &&
				(len(v) != 14 || strings.Trim(v, "0123456789") != "") {
				t.Errorf("modify=%q is not YYYYMMDDHHMMSS", v)
			}
		}
	})
}
