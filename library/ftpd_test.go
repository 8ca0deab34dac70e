package library_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/library"
)

// TestFTPServesSharesAddedAtRunTime runs the FTP server on a Set that is
// being indexed, adds, renames and removes shares while a client is logged
// in, and checks that the client's next command sees each change and that
// the index follows. (This test lives outside the package: library itself
// does not import ftpd.)
func TestFTPServesSharesAddedAtRunTime(t *testing.T) {
	first, added := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(first, "a.mkv"), []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(added, "Season 1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(added, "Season 1", "E01.mkv"), []byte("episode one"), 0o644); err != nil {
		t.Fatal(err)
	}

	set, addr := serveFTP(t, library.Share{Name: "First", Path: first})
	c := loginFTP(t, addr)
	top := func() []string {
		t.Helper()
		names, err := c.NameList("/")
		if err != nil {
			t.Fatalf("NameList /: %v", err)
		}
		return names
	}
	if got := top(); !slices.Equal(got, []string{"First"}) {
		t.Fatalf("shares = %q", got)
	}

	if err := set.Add(library.Share{Name: "Series", Path: added}); err != nil {
		t.Fatal(err)
	}
	if got := top(); !slices.Equal(got, []string{"First", "Series"}) {
		t.Errorf("after Add, shares = %q", got)
	}
	if got := retr(t, c, "/Series/Season 1/E01.mkv"); got != "episode one" {
		t.Errorf("RETR = %q", got)
	}
	awaitIndexed(t, set, "Series", 1)

	if err := set.Rename("Series", "TV"); err != nil {
		t.Fatal(err)
	}
	if got := top(); !slices.Equal(got, []string{"First", "TV"}) {
		t.Errorf("after Rename, shares = %q", got)
	}
	if got := retr(t, c, "/TV/Season 1/E01.mkv"); got != "episode one" {
		t.Errorf("RETR after Rename = %q", got)
	}
	if err := os.WriteFile(filepath.Join(added, "Season 1", "E02.mkv"), []byte("episode two"), 0o644); err != nil {
		t.Fatal(err)
	}
	awaitIndexed(t, set, "TV", 2)

	if err := set.Remove("First"); err != nil {
		t.Fatal(err)
	}
	if got := top(); !slices.Equal(got, []string{"TV"}) {
		t.Errorf("after Remove, shares = %q", got)
	}
	if _, err := c.Retr("/First/a.mkv"); err == nil {
		t.Error("RETR from a removed share worked")
	}
}

func retr(t *testing.T, c *ftp.ServerConn, path string) string {
	t.Helper()
	r, err := c.Retr(path)
	if err != nil {
		t.Fatalf("RETR %s: %v", path, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// awaitIndexed waits until the named share is watched with n files.
func awaitIndexed(t *testing.T, s *library.Set, name string, n int64) {
	t.Helper()
	ch, cancel := s.Subscribe()
	defer cancel()
	timeout := time.After(20 * time.Second)
	for {
		for _, st := range s.Status() {
			if st.Name == name && st.State == library.StateWatching && st.Files == n {
				return
			}
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("share %s never had %d files indexed: %+v", name, n, s.Status())
		}
	}
}

// serveFTP runs the index of the shares and an FTP server on them, on
// loopback, until the test ends, and returns the set and the server's
// address. The folders are checked often, so that a change (an unmount)
// is noticed at once.
// loginFTP logs in to the FTP server at addr anonymously; the client quits
// when the test ends.
func loginFTP(t *testing.T, addr string) *ftp.ServerConn {
	t.Helper()
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Quit() })
	if err := c.Login("anonymous", "x"); err != nil {
		t.Fatal(err)
	}
	return c
}

func serveFTP(t *testing.T, shares ...library.Share) (*library.Set, string) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	set, err := library.NewSet(shares...)
	if err != nil {
		t.Fatal(err)
	}
	set.Logger = log
	set.Settle = 20 * time.Millisecond
	set.OfflineCheck = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- set.Run(ctx) }()

	srv := &ftpd.Server{Shares: set, Logger: log}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		if err := <-served; !errors.Is(err, ftpd.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return set, l.Addr().String()
}
