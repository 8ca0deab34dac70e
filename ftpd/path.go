package ftpd

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
)

// maxPathLen bounds a path argument; longer ones are refused before any
// file system call (Linux's own PATH_MAX is 4096).
const maxPathLen = 4096

// Errors of path resolution, mapped to reply codes by errorReply.
var (
	// errBadPath means a path argument with a NUL, CR or LF, or too long.
	errBadPath = errors.New("invalid path")
	// errHidden means a path has a component that is not visible (a
	// dotfile, a name with a control character); it reads as "not found"
	// to the client.
	errHidden = errors.New("hidden path")
	// errNotRegular means a path names something that cannot be sent: the
	// virtual root, or a folder where a file is wanted.
	errNotRegular = errors.New("not a regular file")
)

// vpath is a clean, absolute virtual path: "/" or "/share/rest".
type vpath string

// resolvePath turns a command's path argument into a clean, absolute virtual
// path, relative arguments being taken from cwd. ".." never climbs above "/".
// Every component must be visible, as the visible function (the shares'
// one rule) says. Resolution is purely textual; opening goes through the
// share's os.Root, which refuses symlinks that leave the share.
func resolvePath(cwd vpath, arg string, visible func(name string) bool) (vpath, error) {
	if len(arg) > maxPathLen || strings.ContainsAny(arg, "\x00\r\n") {
		return "", errBadPath
	}
	p := arg
	if !strings.HasPrefix(p, "/") {
		p = string(cwd) + "/" + p
	}
	p = path.Clean(p)
	for rest := p[1:]; rest != ""; {
		var elem string
		elem, rest, _ = strings.Cut(rest, "/")
		if !visible(elem) {
			return "", errHidden
		}
	}
	return vpath(p), nil
}

// split returns the share name and the path inside the share ("." for the
// share's own folder). For "/" the share is "".
func (p vpath) split() (share, rel string) {
	if p == "/" {
		return "", "."
	}
	share, rel, _ = strings.Cut(string(p[1:]), "/")
	if rel == "" {
		rel = "."
	}
	return share, rel
}

// base returns the last component of p ("/" for the root).
func (p vpath) base() string { return path.Base(string(p)) }

// node is a resolved path: a share's root and a path inside it. The root
// is opened for one command, which closes it with close when done: an open
// root keeps the share's disk busy, so it could not be unmounted.
type node struct {
	root *os.Root // nil for the virtual root "/"
	rel  string
}

// close closes the node's root. Files opened through it stay open.
func (n node) close() {
	if n.root != nil {
		n.root.Close()
	}
}

// open resolves a virtual path to its share, opening the share's root,
// which the caller closes with n.close. It does not touch the file. A
// share the session may not see is as one that does not exist.
func (s *session) open(p vpath) (node, error) {
	name, rel := p.split()
	if name == "" {
		return node{rel: "."}, nil
	}
	if !s.allows(name) {
		return node{}, errNoShare
	}
	root, err := s.srv.Shares.Root(name)
	if err != nil {
		return node{}, err
	}
	return node{root: root, rel: rel}, nil
}

// lookup resolves a command's path argument and stats what it names: the
// one way from a client's path to a file. On success the caller closes the
// node with n.close when the command is done with it.
func (s *session) lookup(arg string) (vpath, node, fs.FileInfo, error) {
	var n node
	var fi fs.FileInfo
	p, err := s.resolveArg(arg, func(p vpath) (err error) {
		if n, err = s.open(p); err != nil {
			return err
		}
		if fi, err = s.stat(n); err != nil {
			n.close()
		}
		return err
	})
	if err != nil {
		return "", node{}, nil, err
	}
	return p, n, fi, nil
}

// lookupInfo is lookup for commands that need only the path and its file
// info: the share's root is closed before it returns.
func (s *session) lookupInfo(arg string) (vpath, fs.FileInfo, error) {
	p, n, fi, err := s.lookup(arg)
	if err != nil {
		return "", nil, err
	}
	n.close()
	return p, fi, nil
}

// stat returns the file info of a node, following symlinks inside the share.
// Only regular files and folders are visible.
func (s *session) stat(n node) (fs.FileInfo, error) {
	if n.root == nil {
		return rootInfo{s.srv.started}, nil
	}
	return s.srv.Shares.StatAt(n.root, n.rel)
}
