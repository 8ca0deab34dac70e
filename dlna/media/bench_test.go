package media

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkServe measures GET throughput of a 64 MiB file over loopback
// (in the page cache after the first run), in MB/s: "sendfile" through
// net/http's ReadFrom, as Serve runs in the server, and "copy" through a
// ResponseWriter that hides ReadFrom, for comparison.
func BenchmarkServe(b *testing.B) {
	const size = 64 << 20
	for _, bc := range []struct {
		name string
		wrap func(http.ResponseWriter) http.ResponseWriter
	}{
		{"sendfile", func(w http.ResponseWriter) http.ResponseWriter { return w }},
		{"copy", func(w http.ResponseWriter) http.ResponseWriter { return opaqueWriter{w} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ts := newTestServer(b)
			ts.file(b, "clip.mkv", size)
			inner := ts.Config.Handler
			ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inner.ServeHTTP(bc.wrap(w), r)
			})
			url := ts.URL + "/v/clip.mkv"
			b.SetBytes(size)
			b.ResetTimer()
			for b.Loop() {
				resp, err := ts.Client().Get(url)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || n != size {
					b.Fatalf("%d bytes, %v", n, err)
				}
			}
		})
	}
}
