package library

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// What clients may see
//
// This file is the one place that decides what of a share a client sees
// and how a file is opened for streaming. FTP, HTTP (/files), the index
// and every later front end ask it; none has a rule of its own.
//
// A client sees a file or folder when
//   - every component of its path has a visible name (Visible): not
//     empty, not starting with a dot (dotfiles, ".", ".."), and without
//     control characters (CR and LF cannot be sent in an FTP listing or
//     typed by a person, and the others are as bad). Names that are not
//     valid UTF-8 (a disk written under a Latin-1 locale) stay visible:
//     FTP sends their bytes as they are and HTTP escapes them, so they can
//     be opened; front ends that need text show them with replacement
//     characters;
//   - it is a regular file or a folder (VisibleType): FIFOs, sockets and
//     devices are never shown or opened;
//   - a symlink counts as what it points to, and only when that stays
//     inside the share: every lookup goes through the share's os.Root,
//     which refuses to leave it.

// Errors of the visibility rule. Front ends answer both as "not found".
var (
	// ErrHidden means a path has a component the rule hides.
	ErrHidden = errors.New("hidden name")
	// ErrNotRegular means a path names something other than a regular
	// file or a folder (a FIFO, a socket, a device), or a folder where a
	// file is wanted.
	ErrNotRegular = errors.New("not a regular file or folder")
)

// Visible reports whether a folder entry with this name is shown.
func Visible(name string) bool {
	return name != "" && name[0] != '.' && !strings.ContainsFunc(name, isControl)
}

// isControl reports control characters: C0, DEL and (when validly
// encoded) C1. The bytes of invalid UTF-8 decode to utf8.RuneError and are
// not control characters.
func isControl(r rune) bool {
	return r != utf8.RuneError && unicode.IsControl(r)
}

// VisiblePath reports whether every component of a share-relative,
// slash-separated path is visible. "." (the share's own folder) is.
func VisiblePath(rel string) bool {
	if rel == "." {
		return true
	}
	for comp := range strings.SplitSeq(rel, "/") {
		if !Visible(comp) {
			return false
		}
	}
	return true
}

// VisibleType reports whether a file of this mode (after following
// symlinks) is shown: regular files and folders only.
func VisibleType(mode fs.FileMode) bool {
	return mode.IsRegular() || mode.IsDir()
}

// Stat returns the file info of rel in a share's root, following a
// symlink when it stays inside the share. It fails with ErrHidden for a
// hidden name on the way and with ErrNotRegular for what is neither a
// regular file nor a folder.
func Stat(root *os.Root, rel string) (fs.FileInfo, error) {
	if !VisiblePath(rel) {
		return nil, fmt.Errorf("%s: %w", rel, ErrHidden)
	}
	fi, err := root.Stat(rel)
	if err != nil {
		return nil, err
	}
	if !VisibleType(fi.Mode()) {
		return nil, fmt.Errorf("%s: %w", rel, ErrNotRegular)
	}
	return fi, nil
}

// Open opens the regular file rel of a share's root for streaming and
// returns it with its info. It is the one way a front end opens a file:
// through the root (no escape by ".." or symlink), visible names only,
// and with O_NONBLOCK, so that a FIFO put in the share, which would block
// a plain open until a writer came, is refused at once. The file is
// checked once open (fstat), so a name swapped for a FIFO or a folder
// after a Stat is refused too. The root may be closed once Open returns.
func Open(root *os.Root, rel string) (*os.File, fs.FileInfo, error) {
	if !VisiblePath(rel) {
		return nil, nil, fmt.Errorf("%s: %w", rel, ErrHidden)
	}
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", rel, ErrNotRegular)
	}
	return f, fi, nil
}

// OpenDir opens the folder rel of a share's root for reading its entries.
// O_DIRECTORY and O_NONBLOCK: a FIFO swapped in for the folder must not
// block the open.
func OpenDir(root *os.Root, rel string) (*os.File, error) {
	if !VisiblePath(rel) {
		return nil, fmt.Errorf("%s: %w", rel, ErrHidden)
	}
	return root.OpenFile(rel, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
}

// The rule as methods of the Set, for front ends that take the shares
// through an interface of their own (ftpd.Shares, dlna.Content).

// Visible is the package function Visible.
func (*Set) Visible(name string) bool { return Visible(name) }

// StatAt is the package function Stat.
func (*Set) StatAt(root *os.Root, rel string) (fs.FileInfo, error) { return Stat(root, rel) }

// OpenAt is the package function Open.
func (*Set) OpenAt(root *os.Root, rel string) (*os.File, fs.FileInfo, error) { return Open(root, rel) }

// OpenDirAt is the package function OpenDir.
func (*Set) OpenDirAt(root *os.Root, rel string) (*os.File, error) { return OpenDir(root, rel) }

// Open opens the regular file rel of the named share for streaming, as
// the package function Open does; the share's root is open only while it
// runs. It returns ErrNoShare or ErrOffline when the share cannot be
// reached.
func (s *Set) Open(share, rel string) (*os.File, fs.FileInfo, error) {
	root, err := s.Root(share)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	return Open(root, rel)
}
