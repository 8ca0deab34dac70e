package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenCompacts: a store mostly emptied by forgets is compacted by the
// next Open, keeps what it held, and a small or well-used one is not.
func TestOpenCompacts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: writes 60,000 entries")
	}
	tests := []struct {
		name     string
		files    int
		keep     func(i int) bool
		compacts bool
	}{
		{"mostly forgotten", 60_000, func(i int) bool { return i%10 == 0 }, true},
		{"well used", 60_000, func(int) bool { return true }, false},
		{"small", 2_000, func(i int) bool { return i%10 == 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.files {
				s.PutDetails("S", streamRel(i), streamStamp(i), typical)
			}
			s.Flush()
			for i := range tt.files {
				if !tt.keep(i) {
					s.ForgetDetails("S", streamRel(i))
				}
			}
			s.SetValue("v", []byte("kept"))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, FileName)
			os.WriteFile(path+compactSuffix, []byte("left over by a crash"), 0o600)
			before, _ := os.Stat(path)

			log, buf := newLog()
			s, err = Open(dir, log)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			after, _ := os.Stat(path)
			t.Logf("%d bytes before, %d after; log: %s", before.Size(), after.Size(), buf)
			if got := strings.Contains(buf.String(), "compacted"); got != tt.compacts {
				t.Errorf("compacted %v, want %v", got, tt.compacts)
			}
			if tt.compacts && after.Size() > before.Size()/2 {
				t.Errorf("compaction left %d of %d bytes", after.Size(), before.Size())
			}
			if _, err := os.Stat(path + compactSuffix); !os.IsNotExist(err) {
				t.Errorf("the compaction's copy is left: %v", err)
			}
			n := 0
			err = s.EachDetails("S", func(rel string, st Stamp) bool {
				for !tt.keep(n) {
					n++
				}
				if rel != streamRel(n) || st != streamStamp(n) {
					t.Fatalf("entry %s %+v, want %s", rel, st, streamRel(n))
				}
				n++
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := s.Details("S", streamRel(0), streamStamp(0)); !ok || d.Title != typical.Title {
				t.Errorf("details of entry 0: %+v, %v", d, ok)
			}
			if v, _ := s.Value("v"); string(v) != "kept" {
				t.Errorf("value %q", v)
			}
			// The compacted store is the one in use: writes reach the file.
			s.PutDetails("S", "new", Stamp{}, typical)
			s.Close()
			s, err = Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, ok := s.Details("S", "new", Stamp{}); !ok {
				t.Error("a put after the compaction was lost")
			}
			// And it is locked.
			if _, err := (Options{LockTimeout: 1}).Open(dir, nil); err == nil {
				t.Error("a second Open of the compacted store succeeded")
			}
		})
	}
}
