package dlna

import (
	"io/fs"
	"os"

	"github.com/mediaftpd/mediaftpd/library"
)

// Content is what the server shows and streams: the shares and their live
// index. *library.Set implements it. It must be safe for concurrent use.
type Content interface {
	// Names returns the share names in display order.
	Names() []string
	// Entry returns the entry of rel in the share, if the view shows it;
	// rel "." is the share's own folder, whose Name is the share's name. A
	// folder's Children are counted in the view. Errors wrap
	// library.ErrNoShare, library.ErrOffline, library.ErrNotIndexed or
	// fs.ErrNotExist.
	Entry(share, rel string, v library.View) (library.Entry, error)
	// Children returns the entries [offset, offset+limit) of the folder
	// rel that the view shows, in the default order (folders first, then
	// library.NaturalCompare of the names), and how many there are; limit
	// <= 0 means all from offset. It costs what the page costs, not what
	// the folder holds. TVs are shown library.MediaFiles; subtitles are
	// found in library.AllFiles.
	Children(share, rel string, v library.View, offset, limit int) ([]library.Entry, int, error)
	// Walk calls fn with every entry below the folder rel that the view
	// shows and its share-relative path, depth first in the default order,
	// until fn returns false. fn must not call back into Content.
	Walk(share, rel string, v library.View, fn func(rel string, e library.Entry) bool) error
	// Recent returns the at most n files added last, newest first.
	Recent(n int) []library.Addition
	// Open opens the regular file rel of the share for streaming through
	// the one safe opener: visible names only, inside the share's folder.
	Open(share, rel string) (*os.File, fs.FileInfo, error)
	// Watch returns a watcher of the folders whose entries change; the
	// server closes it when it stops.
	Watch() *library.Watcher
}

var _ Content = (*library.Set)(nil)
