package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// With -pprof DIR, mediaftpd is built with one more file,
// pprof_overlay.go.txt, added to its main package by go build -overlay
// (the checkout is not touched). The file serves a few profiling
// endpoints on a loopback port, and the bench writes, for each run of each
// workload, DIR/<workload>-<run>.cpu.pprof over the measured part, and
// DIR/<workload>-<run>.{before,after}.heap.pprof around it; the memory
// workload adds DIR/memory-<run>.sessions.heap.pprof with the 200
// sessions open. Allocations of one run:
//
//	go tool pprof -sample_index=alloc_space -diff_base DIR/list-1.before.heap.pprof DIR/list-1.after.heap.pprof
//
// The profiled build carries net/http and profiling costs CPU: its figures
// are for finding what costs, not for the table.

//go:embed pprof_overlay.go.txt
var pprofOverlay []byte

// pprofEnv tells the profiled build where to listen.
const pprofEnv = "FTPBENCH_PPROF"

// profiler drives the endpoints of a profiled mediaftpd.
type profiler struct {
	dir  string // where profiles go
	addr string // the endpoints' loopback address
}

// newProfiler writes the overlay for go build into work and returns the
// -overlay file, and a profiler writing into dir.
func newProfiler(dir, work, moduleRoot string) (*profiler, string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	src := filepath.Join(work, "ftpbench_pprof.go")
	if err := os.WriteFile(src, pprofOverlay, 0o644); err != nil {
		return nil, "", err
	}
	overlay, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(moduleRoot, "cmd", "mediaftpd", "zz_ftpbench_pprof.go"): src},
	})
	if err != nil {
		return nil, "", err
	}
	overlayFile := filepath.Join(work, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return nil, "", err
	}
	// A free loopback port for the endpoints.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := l.Addr().String()
	l.Close()
	return &profiler{dir: dir, addr: addr}, overlayFile, nil
}

func (p *profiler) post(ctx context.Context, path, file string) error {
	u := "http://" + p.addr + path
	if file != "" {
		u += "?file=" + url.QueryEscape(filepath.Join(p.dir, file))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("pprof %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// begin writes the "before" heap profile of a run and starts its CPU
// profile; end stops it and writes the "after" heap profile. Both do
// nothing for a server that is not profiled.
func (s *server) begin(ctx context.Context, name string) error {
	if s.prof == nil {
		return nil
	}
	if err := s.prof.post(ctx, "/heap", name+".before.heap.pprof"); err != nil {
		return err
	}
	return s.prof.post(ctx, "/cpu/start", name+".cpu.pprof")
}

func (s *server) end(ctx context.Context, name string) error {
	if s.prof == nil {
		return nil
	}
	if err := s.prof.post(ctx, "/cpu/stop", ""); err != nil {
		return err
	}
	return s.prof.post(ctx, "/heap", name+".after.heap.pprof")
}

// heap writes a heap profile of a profiled server now.
func (s *server) heap(ctx context.Context, file string) error {
	if s.prof == nil {
		return nil
	}
	return s.prof.post(ctx, "/heap", file)
}
