package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The soak itself runs for ten minutes by hand (see the README); these
// tests run it for a few seconds against the real mediaftpd binary, so
// that it keeps working.

var (
	buildOnce sync.Once
	buildDir  string // removed by TestMain
	builtBin  string
	buildErr  error
)

// serverBinary builds cmd/mediaftpd once for the package's tests.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "ftpsoak-test-")
		if buildErr == nil {
			builtBin, buildErr = buildServer(context.Background(), buildDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// shortArgs are the flags of a run of a few seconds over a small tree.
func shortArgs(bin string) []string {
	return []string{"-server", bin, "-clients", "8", "-duration", "4s", "-sizes", "1,2,3",
		"-many", "150", "-sample", "1s", "-settle", "200ms", "-rate", "4-8", "-seed", "8"}
}

// count returns the number after label in the report.
func count(t *testing.T, report, label string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `\s+(\d+)`).FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("report has no %q line:\n%s", label, report)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestShortSoak runs the soak for a few seconds: the clients must move
// data, seek and abort, find no error, and the server's resources must be
// back at the end.
func TestShortSoak(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(shortArgs(serverBinary(t)), &out, &errOut)
	report := out.String()
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, report, errOut.String())
	}
	for _, want := range []string{"PASS:", "server exit     exit 0 on SIGTERM", "open FDs", "RSS MiB", "threads"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if n := count(t, report, "unexpected"); n != 0 {
		t.Errorf("%d unexpected errors:\n%s", n, report)
	}
	for _, label := range []string{"sessions", "seeks", "aborts", "drops"} {
		if count(t, report, label) == 0 {
			t.Errorf("no %s in a %s run:\n%s", label, "4 s", report)
		}
	}
	if testing.Verbose() {
		t.Log("\n" + report)
	}
}

// TestSoakCatchesWrongBytes serves files that differ from what the soak
// generated: it must count mismatches and fail.
func TestSoakCatchesWrongBytes(t *testing.T) {
	o, err := parseArgs(shortArgs(serverBinary(t)), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o.duration = 2 * time.Second
	// One wrong byte in every 64 KiB of every big file.
	o.damage = func(tr *tree) error {
		for _, f := range tr.big {
			fh, err := os.OpenFile(tr.host(f.vpath), os.O_RDWR, 0)
			if err != nil {
				return err
			}
			b := make([]byte, 1)
			for off := int64(12345); off < f.size; off += 64 << 10 {
				fh.ReadAt(b, off)
				b[0] ^= 0x20
				fh.WriteAt(b, off)
			}
			fh.Close()
		}
		return nil
	}
	r, err := soak(context.Background(), context.Background(), o, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r.write(&out)
	if r.st.mismatches.Load() == 0 || len(r.faults) == 0 || !strings.Contains(out.String(), "FAIL:") {
		t.Errorf("wrong bytes went unnoticed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "bytes differ") {
		t.Errorf("the report does not name the mismatch:\n%s", out.String())
	}
}

// TestJudge checks that resources not back near the start fail the soak.
func TestJudge(t *testing.T) {
	start := usage{fds: 12, threads: 8, rss: 14 << 20, sessions: 0, goroutines: 9}
	for _, tc := range []struct {
		name string
		end  usage
		want string // in the one fault; "" for none
	}{
		{"back", usage{fds: 13, threads: 12, rss: 30 << 20, goroutines: 10}, ""},
		{"goroutine leak", usage{fds: 12, threads: 8, rss: 14 << 20, goroutines: 9 + goroutineSlack + 1}, "goroutines"},
		{"fd leak", usage{fds: 12 + fdSlack + 1, threads: 8, rss: 14 << 20}, "open FDs"},
		{"threads", usage{fds: 12, threads: 8 + 10 + threadSlack + 1, rss: 14 << 20}, "threads"},
		{"memory", usage{fds: 12, threads: 8, rss: (14 + rssSlackMiB + 1) << 20}, "RSS"},
		{"sessions", usage{fds: 12, threads: 8, rss: 14 << 20, sessions: 3}, "sessions left"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &result{o: &options{clients: 10}, st: newStats(), start: start, end: tc.end}
			r.st.sessions.Store(1)
			r.judge()
			switch {
			case tc.want == "" && len(r.faults) > 0:
				t.Errorf("faults %q, want none", r.faults)
			case tc.want != "" && (len(r.faults) != 1 || !strings.Contains(r.faults[0], tc.want)):
				t.Errorf("faults %q, want one about %q", r.faults, tc.want)
			}
		})
	}
}

// TestContent checks that fillContent gives the same bytes whatever the
// offset a read starts at, so that seeks are verified like whole reads.
func TestContent(t *testing.T) {
	whole := make([]byte, 1000)
	fillContent(42, 0, whole)
	for _, off := range []int64{0, 1, 7, 8, 9, 333, 999} {
		part := make([]byte, 1000-off)
		fillContent(42, off, part)
		if !bytes.Equal(part, whole[off:]) {
			t.Errorf("bytes from %d differ from the whole file's", off)
		}
	}
	other := make([]byte, 1000)
	fillContent(43, 0, other)
	if bytes.Equal(other, whole) {
		t.Error("two seeds give the same bytes")
	}
}

func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{"-sizes", "1, 2", "-rate", "2-4"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.sizes) != 2 || o.sizes[1] != 2 || o.rateLo != 2 || o.rateHi != 4 || o.clients != 50 || o.duration != 10*time.Minute {
		t.Errorf("got %+v", o)
	}
	for _, bad := range [][]string{{"-sizes", "0"}, {"-sizes", "1,2,3,4,5,6"}, {"-rate", "4"}, {"-rate", "4-2"}, {"-clients", "0"}, {"extra"}} {
		if _, err := parseArgs(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
