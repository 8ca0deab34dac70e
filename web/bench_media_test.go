package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// BenchmarkFolderView lists folders of n episodes, each with two
// subtitle files, and a poster: the cost of matching every video's
// subtitles and artwork against the folder's names, from the index.
func BenchmarkFolderView(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			for i := range n {
				name := fmt.Sprintf("Show S01E%04d", i)
				for _, ext := range []string{".mkv", ".en.srt", ".de.srt"} {
					mustWrite(b, filepath.Join(dir, name+ext), "x")
				}
			}
			mustWrite(b, filepath.Join(dir, "poster.jpg"), "x")
			set, err := library.NewSet(library.Share{Name: "Shows", Path: dir})
			if err != nil {
				b.Fatal(err)
			}
			set.Logger = quietLogger()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go set.Run(ctx)
			waitFor(b, "the share indexed", func() bool {
				_, total, err := set.Children("Shows", ".", library.AllFiles, 0, 1)
				return err == nil && total == 3*n+1
			})
			srv := &Server{Shares: set, Manager: &library.Manager{Set: set}, Logger: quietLogger(),
				Thumbs: &thumb.Cache{Dir: b.TempDir()}}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			b.ResetTimer()
			for b.Loop() {
				resp, err := http.Get(ts.URL + "/files/Shows/")
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), "Subtitles DE, EN") {
					b.Fatalf("%s: no subtitles listed", resp.Status)
				}
			}
			_ = time.Second
		})
	}
}
