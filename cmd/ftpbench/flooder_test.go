package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// TestMain lets the test binary be a flooder process too, as the bench's
// binary is when startFloodProcess runs it.
func TestMain(m *testing.M) {
	if spec := os.Getenv(flooderEnv); spec != "" {
		os.Exit(runFlooder(spec, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// TestFloodProcess runs a flood in a flooder process against a server
// that refuses every connection with 421 at the greeting, as mediaftpd
// does a locked-out address, and reads the flooder's counts back.
func TestFloodProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Write([]byte("421 Too many failed logins from your address; try again later.\r\n"))
			c.Close()
		}
	}()
	cert, err := makeCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &ftpsBench{cert: cert, floodRate: 200}
	stop, err := p.startFloodProcess(context.Background(), ln.Addr().String(), 3)
	if err != nil {
		t.Fatal(err)
	}
	testtool.WaitFor(t, "the flooder's connections", func() bool { return accepted.Load() >= 20 })
	r, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if r.locked < 20 || r.wrong != 0 || r.conns < r.locked || r.elapsed <= 0 || r.cpu <= 0 {
		t.Errorf("flooder counts %+v; want at least 20 answered 421", r)
	}

	// A flooder given nonsense says so and exits 2.
	var out bytes.Buffer
	if code := runFlooder("{", strings.NewReader(""), &out); code != exitUsage {
		t.Errorf("runFlooder with a bad spec = %d, want %d", code, exitUsage)
	}
}
