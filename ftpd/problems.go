package ftpd

import (
	"errors"
	"io/fs"
	"sync"
	"syscall"
)

// maxProblems bounds the problems a Server remembers having logged. Past
// it, new problems are logged at debug level only: a disk so broken that
// thousands of its files fail says so in the first few thousand lines.
const maxProblems = 4096

// problemLog remembers which problems with files have been logged, so that
// each is logged at warning level once and not at every request: players
// retry a file that fails again and again. Its memory is bounded by
// maxProblems. The zero value is ready to use.
type problemLog struct {
	mu   sync.Mutex
	seen map[problem]struct{}
	full bool // a problem came with maxProblems remembered, and was not
}

// problem is one file or folder that cannot be served, and why.
type problem struct {
	share, path string
	kind        string // see problemKind
}

// Outcomes of problemLog.record.
const (
	problemNew  = iota // first seen: log it at warning level
	problemSeen        // logged before
	problemFull        // new, but maxProblems are remembered already
)

// record notes p and says whether it is new. nowFull is true for the first
// problem that finds maxProblems remembered already: the log is full then.
func (l *problemLog) record(p problem) (outcome int, nowFull bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[p]; ok {
		return problemSeen, false
	}
	if len(l.seen) >= maxProblems {
		nowFull = !l.full
		l.full = true
		return problemFull, nowFull
	}
	if l.seen == nil {
		l.seen = make(map[problem]struct{})
	}
	l.seen[p] = struct{}{}
	return problemNew, false
}

// problemKind says what an error from opening, listing or reading a file
// tells the owner of the server: "permission denied" for a file or folder
// that exists but may not be read, "read error" for a disk that fails (or
// was unplugged while in use). Other errors (a missing file, a bad path, an
// offline share) are the client's business, and their kind is "".
func problemKind(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case isDiskError(err):
		return "read error"
	}
	return ""
}

// isDiskError reports whether err is one that only a failing storage
// device gives: never a write to a TCP connection, so that it tells the
// two apart even in the one error of a sendfile(2) call.
func isDiskError(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENXIO) ||
		errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ESTALE)
}

// problem logs that the file or folder p cannot be served because of err,
// if err is a problem of the disk or of permissions (see problemKind): at
// warning level the first time the server meets it, at debug level after.
func (s *session) problem(p vpath, err error) {
	kind := problemKind(err)
	if kind == "" || p == "" {
		return
	}
	share, rel := p.split()
	outcome, nowFull := s.srv.problems.record(problem{share: share, path: rel, kind: kind})
	if nowFull {
		s.log.Warn("too many files that cannot be served; further ones are logged at debug level only", "max", maxProblems)
	}
	switch outcome {
	case problemNew:
		s.log.Warn("cannot serve file", "share", share, "path", rel, "problem", kind, "err", err)
	case problemSeen:
		s.log.Debug("cannot serve file (logged before)", "share", share, "path", rel, "problem", kind, "err", err)
	default:
		s.log.Debug("cannot serve file", "share", share, "path", rel, "problem", kind, "err", err)
	}
}
