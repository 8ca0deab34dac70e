package ftpd

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// benchTLSFileSize is the size of the file BenchmarkTLSRetr downloads.
const benchTLSFileSize = 512 << 20

// BenchmarkTLSRetr downloads a 512 MiB file over a TLS 1.3 data connection
// (PROT P, resumed session) end to end, with each size of the reads of the
// file that copyFile encrypts, to choose tlsBuffer:
//
//	go test -run '^$' -bench TLSRetr -benchtime 4x -count 5 ./ftpd/
//
// The client runs in the same process, so the CPU time reported
// (cpu-ms/GiB: user and system time of the whole process per GiB sent)
// includes its decryption.
func BenchmarkTLSRetr(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"256KiB", 256 << 10}, {"1MiB", 1 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			ts, dir, cert := newTLSTestServer(b, func(s *Server) {
				s.Logger = slog.New(slog.DiscardHandler)
				s.tlsBufferSize = size.bytes
			})
			writeBenchFile(b, filepath.Join(dir, "big.bin"), benchTLSFileSize)
			conf := cert.clientConfig(tls.VersionTLS13, true)
			c := loginTLS(b, ts.Addr, conf)
			b.SetBytes(benchTLSFileSize)
			cpu0 := cpuTime(b)
			b.ResetTimer()
			for b.Loop() {
				d := dialData(b, c.epsv())
				c.cmd("RETR /Media/big.bin", 150)
				tc := tls.Client(d, conf)
				tc.SetDeadline(time.Now().Add(time.Minute))
				n, err := io.Copy(io.Discard, tc)
				if err != nil || n != benchTLSFileSize {
					b.Fatalf("got %d bytes, %v", n, err)
				}
				if !tc.ConnectionState().DidResume {
					b.Fatal("the data connection did not resume the TLS session")
				}
				tc.Close()
				c.expect(226)
			}
			b.StopTimer()
			gib := float64(b.N) * benchTLSFileSize / (1 << 30)
			b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/gib, "cpu-ms/GiB")
			c.cmd("QUIT", 221)
		})
	}
}

// writeBenchFile writes a file of size bytes of a non-repeating pattern,
// so that nothing in the path can compress or skip it.
func writeBenchFile(b *testing.B, p string, size int) {
	b.Helper()
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	chunk := pattern(13, 1<<20)
	for written := 0; written < size; written += len(chunk) {
		chunk[0]++ // no two chunks alike
		if _, err := f.Write(chunk); err != nil {
			f.Close()
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
