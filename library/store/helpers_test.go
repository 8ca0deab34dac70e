package store

import (
	"log/slog"
	"testing"

	"github.com/mediaftpd/mediaftpd/internal/testtool"
)

// newTestStore opens a store in a new temporary folder, closed by
// t.Cleanup.
func newTestStore(t testing.TB, o Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := o.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// logBuffer is a slog handler's output, safe for concurrent writes.
type logBuffer = testtool.LogBuffer

// newLog returns a logger writing text lines to a buffer.
func newLog() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}
