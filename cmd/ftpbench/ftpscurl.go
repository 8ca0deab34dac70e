package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// The curl cross-check of figure 9: the same download with curl
// --ssl-reqd (OpenSSL, its own buffer sizes), so that the ratio does not
// rest on the bench's client alone. curl resumes the control connection's
// TLS session on the data connection, as both servers require.

// curlSuite is the TLS 1.3 cipher suite curl is told to offer alone. Left
// to itself, curl (OpenSSL) puts AES-256-GCM first, which vsftpd (OpenSSL)
// takes and mediaftpd (Go, which prefers AES-128-GCM) does not: the two
// servers would encrypt with different ciphers. This is the one the
// bench's Go client gets from both.
const curlSuite = "TLS_AES_128_GCM_SHA256"

// curlFormat is curl's -w output: bytes, seconds, bytes per second.
const curlFormat = "%{size_download} %{time_total} %{speed_download}\n"

// curlResult is what one curl download reports.
type curlResult struct {
	size       int64
	seconds    float64
	speed      float64  // bytes per second, curl's average over the transfer
	negotiated []string // "TLSv1.3 / TLS_AES_256_GCM_SHA384", each distinct one
}

// curl downloads big.bin once with curl --ssl-reqd.
func (p *ftpsBench) curl(ctx context.Context, s *server, run int) ([]sample, error) {
	bin, err := exec.LookPath("curl")
	if err != nil {
		return nil, errors.New("curl is not installed (apt-get install curl), or leave out ftps-curl with -only")
	}
	if err := s.awaitQuiet(ctx); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-sS", "-v", "--ssl-reqd", "--tlsv1.3", "--tls13-ciphers", curlSuite, "--cacert", p.cert.certFile,
		"-o", "/dev/null", "-w", curlFormat, "ftp://"+s.addr+bigName)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("curl: %w\n%s", err, lastLines(stderr.String(), 10))
	}
	r, err := parseCurl(stdout.String(), stderr.String())
	if err != nil {
		return nil, err
	}
	if r.size != bigSize {
		return nil, fmt.Errorf("curl got %d bytes of %d", r.size, bigSize)
	}
	p.info.Curl[s.Name] = strings.Join(r.negotiated, "; ")
	return []sample{{mCurlSingle, r.speed / mib}}, nil
}

// parseCurl reads curl's -w line (curlFormat) from stdout and the TLS
// parameters from its -v output.
func parseCurl(stdout, verbose string) (curlResult, error) {
	var r curlResult
	f := strings.Fields(stdout)
	if len(f) != 3 {
		return r, fmt.Errorf("curl printed %q, want size, time and speed", stdout)
	}
	var errs [3]error
	r.size, errs[0] = strconv.ParseInt(f[0], 10, 64)
	r.seconds, errs[1] = strconv.ParseFloat(f[1], 64)
	r.speed, errs[2] = strconv.ParseFloat(f[2], 64)
	if err := errors.Join(errs[:]...); err != nil {
		return r, fmt.Errorf("curl printed %q: %w", stdout, err)
	}
	for line := range strings.Lines(verbose) {
		if _, v, ok := strings.Cut(line, "SSL connection using "); ok {
			v = strings.TrimSpace(v)
			if !slices.Contains(r.negotiated, v) {
				r.negotiated = append(r.negotiated, v)
			}
		}
	}
	return r, nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
