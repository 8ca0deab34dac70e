package ftpd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// entry is one visible item of a listing.
type entry struct {
	name  string
	size  int64
	mtime time.Time
	dir   bool
}

func entryOf(name string, fi fs.FileInfo) entry {
	return entry{name: name, size: fi.Size(), mtime: fi.ModTime(), dir: fi.IsDir()}
}

// readDirBatch is how many names readDir reads from the folder at a time.
const readDirBatch = 256

// parallelStat is the number of entries from which readDir stats them in
// several goroutines.
const parallelStat = 512

// readDir returns the visible entries of the folder at n, sorted by name.
// Symlinks are shown as what they point to, and only when it is a file or
// folder inside the share.
//
// The names are read first, sorted, and then stat'ed with fstatat(2) on
// the open folder, in order, into a slice of the right size: one small
// entry per file and no os.FileInfo. A big folder's names are stat'ed by
// several goroutines at once: on a USB hard disk with a cold cache each
// stat waits for the disk, and the disk serves several faster than one
// after another; with a warm cache the cores share the system calls.
func (s *session) readDir(n node) ([]entry, error) {
	if n.root == nil {
		return s.shareEntries(), nil
	}
	f, err := s.srv.Shares.OpenDirAt(n.root, n.rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	for {
		batch, err := f.Readdirnames(readDirBatch)
		for _, name := range batch {
			if s.srv.Shares.Visible(name) {
				names = append(names, name)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(names) == 0 {
				return nil, fmt.Errorf("read folder: %w", err)
			}
			break // list what could be read
		}
	}
	slices.Sort(names)
	out := make([]entry, len(names))
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("read folder: %w", err)
	}
	workers := 1
	if len(names) >= parallelStat {
		workers = min(runtime.GOMAXPROCS(0), 4)
	}
	err = rc.Control(func(fd uintptr) {
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := len(names)*w/workers, len(names)*(w+1)/workers
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					out[i] = s.statEntry(n, int(fd), names[i])
				}
			})
		}
		wg.Wait()
	})
	if err != nil {
		return nil, fmt.Errorf("read folder: %w", err)
	}
	// Drop what vanished since the folder was read, or is not a file or
	// folder inside the share (marked by an empty name).
	return slices.DeleteFunc(out, func(e entry) bool { return e.name == "" }), nil
}

// statEntry stats the entry name of the folder n open as dirfd. The
// entry's name is empty when it is to be left out: removed meanwhile, a
// dangling or looping symlink or one leaving the share, or something
// other than a file or folder. A symlink is judged by the shares' one
// rule (StatAt); the rest is the same rule on the fstatat result, which
// saves an os.FileInfo per entry.
func (s *session) statEntry(n node, dirfd int, name string) entry {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return entry{}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return entry{name: name, size: st.Size, mtime: time.Unix(st.Mtim.Unix()), dir: false}
	case unix.S_IFDIR:
		return entry{name: name, size: st.Size, mtime: time.Unix(st.Mtim.Unix()), dir: true}
	case unix.S_IFLNK:
		fi, err := s.srv.Shares.StatAt(n.root, path.Join(n.rel, name))
		if err != nil {
			return entry{}
		}
		return entryOf(name, fi)
	}
	return entry{}
}

// shareEntries lists the virtual root: one folder per share that is online
// and that the session may see. Each share's root is opened for its stat
// and closed at once.
func (s *session) shareEntries() []entry {
	var out []entry
	for _, name := range s.srv.Shares.Names() {
		if !s.srv.Shares.Visible(name) {
			continue
		}
		n, err := s.open(vpath("/" + name)) // the access rule, and the root
		if err != nil {
			continue
		}
		fi, err := n.root.Stat(".")
		n.close()
		if err != nil {
			continue
		}
		out = append(out, entry{name: name, mtime: fi.ModTime(), dir: true})
	}
	return out
}

// halfYear is the age past which ls shows a year instead of a time.
const halfYear = 31556952 * time.Second / 2

// appendList appends an "ls -l" line for e, as Kodi, Windows Explorer and
// gvfs parse it: nine permission characters, owner and group "ftp", size,
// English month, and the time if the date lies less than half a year in the
// past (else the year, as coreutils ls does, which also catches future
// dates). The time is shown in mtime's location.
func appendList(b []byte, e entry, now time.Time) []byte {
	if e.dir {
		b = append(b, "dr-xr-xr-x 1 ftp ftp "...)
	} else {
		b = append(b, "-r--r--r-- 1 ftp ftp "...)
	}
	b = strconv.AppendInt(b, e.size, 10)
	b = append(b, ' ')
	if age := now.Sub(e.mtime); age >= 0 && age < halfYear {
		b = e.mtime.AppendFormat(b, "Jan 02 15:04")
	} else {
		b = e.mtime.AppendFormat(b, "Jan 02  2006")
	}
	b = append(b, ' ')
	b = append(b, e.name...)
	return append(b, "\r\n"...)
}

// facts is a set of MLST facts (RFC 3659 7.5), chosen with OPTS MLST.
type facts uint8

const (
	factType facts = 1 << iota
	factSize
	factModify
	factPerm

	allFacts = factType | factSize | factModify | factPerm
)

var factNames = []struct {
	f    facts
	name string
}{{factType, "type"}, {factSize, "size"}, {factModify, "modify"}, {factPerm, "perm"}}

// parseFacts parses the argument of OPTS MLST: names separated by ";".
// Unknown names are ignored (RFC 3659 7.9).
func parseFacts(arg string) facts {
	var f facts
	for name := range strings.SplitSeq(arg, ";") {
		for _, fn := range factNames {
			if strings.EqualFold(name, fn.name) {
				f |= fn.f
			}
		}
	}
	return f
}

// String lists the facts as FEAT and OPTS MLST show them: "type*;size*;"
// with a star on the selected ones when all is set.
func (f facts) String(all bool) string {
	var b strings.Builder
	for _, fn := range factNames {
		if all || f&fn.f != 0 {
			b.WriteString(fn.name)
			if all && f&fn.f != 0 {
				b.WriteByte('*')
			}
			b.WriteByte(';')
		}
	}
	return b.String()
}

// appendFacts appends an MLSD/MLST fact line without its leading space:
// "type=file;size=N;modify=YYYYMMDDHHMMSS;perm=r; name". Times are UTC.
func appendFacts(b []byte, e entry, f facts, name string) []byte {
	if f&factType != 0 {
		if e.dir {
			b = append(b, "type=dir;"...)
		} else {
			b = append(b, "type=file;"...)
		}
	}
	if f&factSize != 0 && !e.dir {
		b = append(b, "size="...)
		b = strconv.AppendInt(b, e.size, 10)
		b = append(b, ';')
	}
	if f&factModify != 0 {
		b = append(b, "modify="...)
		b = e.mtime.UTC().AppendFormat(b, "20060102150405")
		b = append(b, ';')
	}
	if f&factPerm != 0 {
		// Read-only: files can be retrieved; folders entered and listed.
		if e.dir {
			b = append(b, "perm=el;"...)
		} else {
			b = append(b, "perm=r;"...)
		}
	}
	b = append(b, ' ')
	return append(b, name...)
}

// listFormat is the form of a listing on the data connection.
type listFormat int

const (
	formatList listFormat = iota // LIST: ls -l lines
	formatNLST                   // NLST: bare names
	formatMLSD                   // MLSD: fact lines
)

// appendEntry appends one line of a listing in the given format.
func (s *session) appendEntry(b []byte, format listFormat, e entry, now time.Time) []byte {
	switch format {
	case formatNLST:
		b = append(b, e.name...)
		return append(b, "\r\n"...)
	case formatMLSD:
		b = appendFacts(b, e, s.facts, e.name)
		return append(b, "\r\n"...)
	default:
		e.mtime = e.mtime.Local()
		return appendList(b, e, now)
	}
}

// listTarget resolves the argument of LIST, NLST, MLSD or STAT to the path
// and the entries it lists: the contents of a folder, or a single file.
func (s *session) listTarget(arg string, format listFormat) (vpath, []entry, error) {
	if format == formatList {
		arg = stripListOptions(arg)
	}
	p, n, fi, err := s.lookup(arg)
	if err != nil {
		return "", nil, err
	}
	defer n.close()
	if fi.IsDir() {
		entries, err := s.readDir(n)
		return p, entries, err
	}
	if format == formatMLSD {
		// RFC 3659 7.2.1: MLSD of a file is an error.
		return "", nil, errNotDir
	}
	return p, []entry{entryOf(p.base(), fi)}, nil
}

// errNotDir means a folder was expected.
var errNotDir = errors.New("not a folder")

// stripListOptions removes ls-style options ("-a", "-la /dir") that gvfs,
// Windows Explorer and others send with LIST, as vsftpd ignores them.
func stripListOptions(arg string) string {
	for strings.HasPrefix(arg, "-") {
		_, rest, _ := strings.Cut(arg, " ")
		arg = strings.TrimLeft(rest, " ")
	}
	return arg
}
