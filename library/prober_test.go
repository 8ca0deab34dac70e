package library

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library/probe"
	"github.com/mediaftpd/mediaftpd/library/store"
)

// wav returns a mono 16-bit PCM WAV file of the given length at 8 kHz.
func wav(d time.Duration) []byte {
	n := int(d.Seconds() * 8000 * 2)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(n))
	b.Write(make([]byte, n))
	return b.Bytes()
}

func writeMedia(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour) // settled: counted by the first scan
	os.Chtimes(p, old, old)
}

// runProber runs a Prober of s on the store in dir until the test ends
// (or stop is called) and returns it with its log.
func runProber(t *testing.T, s *Set, dir string, busy func() bool) (p *Prober, lb *logBuffer, stop func()) {
	t.Helper()
	log, lb := testLogger(t)
	st, err := store.Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	p = &Prober{Set: s, Store: st, Busy: busy, Logger: log}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	var once atomic.Bool
	stop = func() {
		if once.CompareAndSwap(false, true) {
			cancel()
			<-done
			if err := st.Close(); err != nil {
				t.Errorf("closing the store: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return p, lb, stop
}

var readyRe = regexp.MustCompile(`msg="media details ready" share=(\S+) .*files=(\d+) probed=(\d+)`)

// awaitReady waits for the n'th "media details ready" line of the log and
// returns its files and probed counts.
func awaitReady(t *testing.T, lb *logBuffer, n int) (files, probed int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		m := readyRe.FindAllStringSubmatch(lb.String(), -1)
		if len(m) >= n {
			files, _ = strconv.Atoi(m[n-1][2])
			probed, _ = strconv.Atoi(m[n-1][3])
			return files, probed
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d'th \"media details ready\" line; log:\n%s", n, lb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func details(t *testing.T, s *Set, p *Prober, share, rel string) (time.Duration, bool) {
	t.Helper()
	e, err := s.Entry(share, rel, MediaFiles)
	if err != nil {
		return 0, false
	}
	d, ok := p.Of(share, rel, e)
	return d.Duration, ok
}

// TestProberRestartProbesNothing probes a share of many files, restarts
// on the same store and checks that nothing is read again; then a file
// replaced by another (same name) is read again, and a deleted one is
// forgotten.
func TestProberRestartProbesNothing(t *testing.T) {
	const n = 10_000
	media, state := t.TempDir(), t.TempDir()
	one, two := wav(time.Second), wav(2*time.Second)
	for i := range n {
		writeMedia(t, filepath.Join(media, fmt.Sprintf("Album %d/track %03d.wav", i/100, i%100)), one)
	}
	writeMedia(t, filepath.Join(media, "notes.txt"), []byte("not media"))

	s, _ := newRunningSet(t, Share{Name: "Music", Path: media})
	awaitStatus(t, s, "Music", "indexed", hasFiles(n+1, int64(n*len(one)+9)))
	p, lb, stop := runProber(t, s, state, nil)
	if files, probed := awaitReady(t, lb, 1); files != n || probed != n {
		t.Errorf("first pass: %d files, %d probed; want %d and %d", files, probed, n, n)
	}
	if d, ok := details(t, s, p, "Music", "Album 3/track 007.wav"); !ok || d != time.Second {
		t.Errorf("details of a track: %v, %v", d, ok)
	}
	stop()

	// A restart: every file known, none read.
	p, lb, _ = runProber(t, s, state, nil)
	if files, probed := awaitReady(t, lb, 1); files != n || probed != 0 {
		t.Errorf("after a restart: %d files, %d probed; want %d and 0", files, probed, n)
	}
	// OfMany finds what Of finds, in one read: a folder of 100 tracks,
	// with a folder and a file that is not media among them.
	es, _, err := s.Children("Music", "Album 3", AllFiles, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	root, _, _ := s.Children("Music", ".", AllFiles, 0, 0)
	es = append(es, root[0], root[len(root)-1]) // "Album 0" and notes.txt
	rels := make([]string, len(es))
	for i, e := range es {
		rels[i] = "Album 3/" + e.Name
	}
	rels[len(es)-2], rels[len(es)-1] = es[len(es)-2].Name, es[len(es)-1].Name
	found := map[int]time.Duration{}
	p.OfMany("Music", rels, es, func(i int, d probe.Details) {
		if _, twice := found[i]; twice {
			t.Errorf("OfMany: %s twice", rels[i])
		}
		found[i] = d.Duration
	})
	for i, e := range es {
		d, ok := p.Of("Music", rels[i], e)
		if got, has := found[i]; has != ok || got != d.Duration {
			t.Errorf("%s: OfMany %v %v, Of %v %v", rels[i], got, has, d.Duration, ok)
		}
	}
	if len(found) != 100 {
		t.Errorf("OfMany found %d of the 100 tracks", len(found))
	}

	// The same name, another file: read again.
	tmp := filepath.Join(media, ".new.wav")
	writeMedia(t, tmp, two)
	if err := os.Rename(tmp, filepath.Join(media, "Album 3", "track 007.wav")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replaced file's new details", func() bool {
		d, ok := details(t, s, p, "Music", "Album 3/track 007.wav")
		return ok && d == 2*time.Second
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestProberBusyAndOffline checks that probing goes on (one file at a
// time) while a stream runs, that an unplugged disk keeps its details, and
// that files seen gone are forgotten.
func TestProberBusyAndOffline(t *testing.T) {
	base, state := t.TempDir(), t.TempDir()
	media := filepath.Join(base, "usb")
	for i := range 20 {
		writeMedia(t, filepath.Join(media, fmt.Sprintf("song %d.wav", i)), wav(time.Second))
	}
	s, _ := newRunningSet(t, Share{Name: "USB", Path: media})
	awaitStatus(t, s, "USB", "indexed", func(st ShareStatus) bool { return st.State == StateWatching && st.Files == 20 })
	var busyCalls atomic.Int64
	p, lb, _ := runProber(t, s, state, func() bool { busyCalls.Add(1); return true })
	if _, probed := awaitReady(t, lb, 1); probed != 20 {
		t.Errorf("while busy: %d probed, want 20", probed)
	}
	if busyCalls.Load() == 0 {
		t.Error("Busy was never asked")
	}
	e, err := s.Entry("USB", "song 3.wav", MediaFiles)
	if err != nil {
		t.Fatal(err)
	}

	// Unplugged: the details stay.
	if err := os.Rename(media, filepath.Join(base, "away")); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, s, "USB", "offline", func(st ShareStatus) bool { return st.State == StateOffline })
	time.Sleep(200 * time.Millisecond)
	if _, ok := p.Of("USB", "song 3.wav", e); !ok {
		t.Error("the details of an unplugged disk's file were forgotten")
	}

	// Back without one file: that one is forgotten.
	if err := os.Remove(filepath.Join(base, "away", "song 3.wav")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(base, "away"), media); err != nil {
		t.Fatal(err)
	}
	awaitReady(t, lb, 2)
	if _, ok := p.Of("USB", "song 3.wav", e); ok {
		t.Error("the details of a deleted file are still kept")
	}
	if d, ok := details(t, s, p, "USB", "song 4.wav"); !ok || d != time.Second {
		t.Errorf("song 4 after the disk came back: %v, %v", d, ok)
	}
}
