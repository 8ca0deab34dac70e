package thumb

import (
	"bytes"
	"io"

	"github.com/mediaftpd/mediaftpd/library/probe"
)

// EmbeddedCover returns a source for Thumbnail: the cover art that the
// audio file r (of size bytes, named name) embeds (probe.Cover), or
// ErrNoCover when it embeds none.
func EmbeddedCover(r io.ReaderAt, size int64, name string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		data, _, ok, err := probe.Cover(r, size, name)
		switch {
		case err != nil:
			return nil, err
		case !ok:
			return nil, ErrNoCover
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
}
