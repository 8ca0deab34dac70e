package dlna

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Samsung TVs keep a video's resume position on the server: X_SetBookmark
// stores it, and sec:dcmInfo's BM= returns it so the TV offers "resume".
// Positions are kept in StateDir, keyed by the object ID of the file
// (stable across restarts), and written atomically after each change.

const (
	// bookmarksFile is the bookmarks' file in StateDir.
	bookmarksFile = "dlna-bookmarks.json"
	// maxBookmarks bounds the bookmarks kept; the oldest go first.
	maxBookmarks = 5000
	// minBookmark is the least position kept, in seconds: a video stopped
	// in its first half minute starts over, as MiniDLNA does.
	minBookmark = 30
)

// bookmark is one stored position.
type bookmark struct {
	Pos int64     `json:"pos"` // seconds
	Set time.Time `json:"set"`
}

// bookmarkFile is the file's layout.
type bookmarkFile struct {
	Version   int                 `json:"version"`
	Bookmarks map[string]bookmark `json:"bookmarks"`
}

// bookmarkStore holds the bookmarks. It is safe for concurrent use.
type bookmarkStore struct {
	path string // "" keeps them in memory
	log  *slog.Logger

	writeMu sync.Mutex // serializes writing the file; taken before mu
	mu      sync.Mutex // guards m
	m       map[string]bookmark
}

// newBookmarkStore returns the store kept in stateDir, loaded from its
// file. A file that cannot be read is logged and the store starts empty.
func newBookmarkStore(stateDir string, log *slog.Logger) *bookmarkStore {
	b := &bookmarkStore{log: log, m: make(map[string]bookmark)}
	if stateDir == "" {
		return b
	}
	b.path = filepath.Join(stateDir, bookmarksFile)
	data, err := os.ReadFile(b.path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("cannot read DLNA bookmarks; starting without", "err", err)
		}
		return b
	}
	var f bookmarkFile
	if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 {
		log.Warn("DLNA bookmarks file is not readable; starting without", "file", b.path, "err", err)
		return b
	}
	for id, bm := range f.Bookmarks {
		if bm.Pos >= minBookmark {
			b.m[id] = bm
		}
	}
	return b
}

// get returns the position kept for the object, in seconds, or 0.
func (b *bookmarkStore) get(id string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[id].Pos
}

// set keeps pos seconds for the object; a position under minBookmark
// removes its bookmark. The file is written before set returns.
func (b *bookmarkStore) set(id string, pos int64, now time.Time) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.Lock()
	if pos < minBookmark {
		if _, ok := b.m[id]; !ok {
			b.mu.Unlock()
			return nil
		}
		delete(b.m, id)
	} else {
		b.m[id] = bookmark{Pos: pos, Set: now}
		if len(b.m) > maxBookmarks {
			oldest, at := "", time.Time{}
			for k, v := range b.m {
				if oldest == "" || v.Set.Before(at) {
					oldest, at = k, v.Set
				}
			}
			delete(b.m, oldest)
		}
	}
	if b.path == "" {
		b.mu.Unlock()
		return nil
	}
	data, err := json.Marshal(bookmarkFile{Version: 1, Bookmarks: b.m})
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("bookmarks: %w", err)
	}
	return writeFileAtomic(b.path, data)
}
