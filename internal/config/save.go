package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"

	"gopkg.in/yaml.v3"
)

// Saving
//
// The status page adds, removes and renames shares while the server runs,
// and `mediaftpd passwd` stores the password hash. Both change the config
// file through the functions below, which edit the file's YAML node tree
// (so comments, key order, quoting and blank lines stay as they were) and
// replace the file atomically: the new contents go to a temporary file in
// the same folder, which is synced to disk and renamed over the old one,
// and the folder is synced too. A crash at any moment leaves either the
// old file or the new one, never a mix.
//
// Each change reads the file afresh, changes it and writes it back while
// holding a lock (a mutex within the process and flock(2) on the folder
// across processes), so two changes made at once both end up in the file.
// A file that has errors is not changed, unless the change fixes them all
// (`mediaftpd passwd --user bob` on a file whose access lists name bob
// already), and a change that would leave the file unloadable is not
// written.

// ErrCannotEdit means the part of the config file a change must touch is
// written with a YAML alias, so that changing it would change other parts
// of the file too. The change is not made; edit the file by hand.
var ErrCannotEdit = errors.New("cannot edit the config file")

// newFilePerm is the mode of a config file that the writer creates: it may
// hold the password hash, so only its owner reads it.
const newFilePerm = 0o600

// saveMu serializes changes within the process; flock serializes them
// across processes.
var saveMu sync.Mutex

// saveHook, when set by tests, is called at each stage of writing a file:
// "written" after the temporary file has its contents, "synced" once it
// is synced and closed, before it is renamed. An error it returns aborts
// the save.
var saveHook func(stage string) error

// AddShare adds sh at the end of the shares of the config file at path,
// creating the file (and the shares key) if missing. Like every change, it
// is refused when the file would not load afterwards: an invalid share, or
// one whose name the file has already (ErrDuplicateShare).
func AddShare(path string, sh Share) error {
	return edit(path, func(root *yaml.Node) (bool, error) {
		seq, err := sharesNode(root, true)
		if err != nil {
			return false, err
		}
		item := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		item.Content = append(item.Content, str("name"), str(sh.Name), str("path"), str(sh.Path))
		if sh.RescanInterval > 0 {
			item.Content = append(item.Content, str("rescan_interval"), str(sh.RescanInterval.String()))
		}
		if !sh.Access.Public() {
			item.Content = append(item.Content, str("access"), accessNode(sh.Access))
		}
		seq.Content = append(seq.Content, item)
		return true, nil
	})
}

// RemoveShare removes the share named name from the config file at path.
// It reports whether the file had it; a share that came from the command
// line is not in the file, and removing it changes nothing.
func RemoveShare(path, name string) (found bool, err error) {
	err = edit(path, func(root *yaml.Node) (bool, error) {
		seq, err := sharesNode(root, false)
		if seq == nil || err != nil {
			return false, err
		}
		i, _ := findNamed(seq, name)
		if i < 0 {
			return false, nil
		}
		seq.Content = append(seq.Content[:i], seq.Content[i+1:]...)
		found = true
		return true, nil
	})
	return found, err
}

// RenameShare renames the share named old in the config file at path to
// new. It reports whether the file had the share; it is refused, as
// AddShare is, with an error matching ErrDuplicateShare if another share
// there is named new.
func RenameShare(path, old, new string) (found bool, err error) {
	err = edit(path, func(root *yaml.Node) (bool, error) {
		seq, err := sharesNode(root, false)
		if seq == nil || err != nil {
			return false, err
		}
		i, name := findNamed(seq, old)
		if i < 0 {
			return false, nil
		}
		if seq.Content[i].Kind == yaml.AliasNode || name.Kind == yaml.AliasNode {
			return false, fmt.Errorf("%w: the name of share %q is written with an alias", ErrCannotEdit, old)
		}
		name.Value, name.Tag = new, "!!str"
		found = true
		return true, nil
	})
	return found, err
}

// SetPasswordHash stores hash as web.password_hash in the config file at
// path, creating the file if missing.
func SetPasswordHash(path, hash string) error {
	return edit(path, func(root *yaml.Node) (bool, error) {
		web, err := mappingValue(root, "web", true)
		if err != nil {
			return false, err
		}
		_, v := lookup(web, "password_hash")
		if v == nil {
			web.Content = append(web.Content, str("password_hash"), str(hash))
			v = web.Content[len(web.Content)-1]
		}
		if v.Kind == yaml.AliasNode {
			return false, fmt.Errorf("%w: web.password_hash is written as an alias (*%s)", ErrCannotEdit, v.Value)
		}
		*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: hash, Style: yaml.DoubleQuotedStyle,
			LineComment: v.LineComment, HeadComment: v.HeadComment, FootComment: v.FootComment}
		return true, nil
	})
}

// Snapshot is the content of the config file at one moment, taken before
// a change so that Restore can undo it.
type Snapshot struct {
	data   []byte
	exists bool
}

// TakeSnapshot reads the config file at path as it is now.
func TakeSnapshot(path string) (Snapshot, error) {
	target, err := realPath(path)
	if err != nil {
		return Snapshot{}, err
	}
	data, err := os.ReadFile(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Snapshot{}, nil
	case err != nil:
		return Snapshot{}, fmt.Errorf("reading config: %w", err)
	}
	return Snapshot{data: data, exists: true}, nil
}

// Restore puts the config file at path back as it was in snap, as when a
// change that was saved could not be applied: atomically, under the same
// locks as every change, keeping the file's mode and owner. A file that did
// not exist is removed again.
func Restore(path string, snap Snapshot) error {
	return locked(path, func(dir *os.File, target string) error {
		if !snap.exists {
			if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("restoring config: %w", err)
			}
			return nil
		}
		perm, owner := fs.FileMode(newFilePerm), (*syscall.Stat_t)(nil)
		if fi, err := os.Stat(target); err == nil {
			perm = fi.Mode().Perm()
			owner, _ = fi.Sys().(*syscall.Stat_t)
		}
		return writeAtomic(dir, target, snap.data, perm, owner)
	})
}

// locked runs fn with the config file at path, resolved to the file it
// names (target), while holding the lock against other changes: saveMu
// within the process and flock(2) on its folder (dir, open) across
// processes.
func locked(path string, fn func(dir *os.File, target string) error) error {
	saveMu.Lock()
	defer saveMu.Unlock()
	target, err := realPath(path)
	if err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(target))
	if err != nil {
		return fmt.Errorf("saving config: %w", err)
	}
	defer dir.Close()
	if err := syscall.Flock(int(dir.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("saving config: locking %s: %w", filepath.Dir(target), err)
	}
	defer syscall.Flock(int(dir.Fd()), syscall.LOCK_UN)
	return fn(dir, target)
}

// edit applies change to the root mapping of the config file at path and
// saves the result, unless change reports that nothing changed.
func edit(path string, change func(root *yaml.Node) (changed bool, err error)) error {
	return locked(path, func(dir *os.File, target string) error {
		return editLocked(dir, target, change)
	})
}

// editLocked is edit once the lock is held.
func editLocked(dir *os.File, target string, change func(root *yaml.Node) (changed bool, err error)) error {
	old, err := os.ReadFile(target)
	perm, owner := fs.FileMode(newFilePerm), (*syscall.Stat_t)(nil)
	var oldErr error // the problems of the file as it is
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return fmt.Errorf("saving config: %w", err)
	default:
		// A file with errors is changed only if the change fixes them all,
		// as adding the user an access list names already does.
		if _, err := Parse(target, old); err != nil {
			oldErr = fmt.Errorf("the config file has errors, so it was not changed; fix them first:\n%w", err)
		}
		if fi, err := os.Stat(target); err == nil {
			perm = fi.Mode().Perm()
			owner, _ = fi.Sys().(*syscall.Stat_t)
		}
	}

	// fail reports err, or the file's own problems if it had some: the
	// change did not fix them.
	fail := func(err error) error {
		if oldErr != nil {
			return oldErr
		}
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(old, &doc); err != nil {
		return fail(fmt.Errorf("saving config: %w", err))
	}
	fresh := doc.Kind == 0 // empty, or only comments
	if fresh || isNull(doc.Content[0]) {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return fail(errors.New("saving config: the file is not a section of keys"))
	}
	changed, err := change(doc.Content[0])
	switch {
	case err != nil:
		return errors.Join(oldErr, err)
	case !changed:
		return oldErr
	}
	data, err := render(old, &doc, fresh)
	if err != nil {
		return fmt.Errorf("saving config: %w", err)
	}
	if _, err := Parse(target, data); err != nil {
		return fail(fmt.Errorf("saving config: the changed file would not load, so it was not written:\n%w", err))
	}
	removeStaleTemps(target)
	return writeAtomic(dir, target, data, perm, owner)
}

// realPath returns the file that path names, following symlinks, so that
// a symlinked config file is replaced and the link kept. A file that does
// not exist yet is path itself, made absolute.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("saving config: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return abs, nil
	}
	if err != nil {
		return "", fmt.Errorf("saving config: %w", err)
	}
	return real, nil
}

// tempPattern is the name of the temporary files of target, for
// os.CreateTemp: hidden, beside it.
func tempPattern(target string) string { return "." + filepath.Base(target) + ".tmp-*" }

// removeStaleTemps removes temporary files that a save interrupted by a
// crash left behind. The lock is held, so no save is using them.
func removeStaleTemps(target string) {
	stale, _ := filepath.Glob(filepath.Join(filepath.Dir(target), tempPattern(target)))
	for _, name := range stale {
		os.Remove(name)
	}
}

// writeAtomic replaces target with data: it writes a temporary file in
// target's folder (dir, open), syncs and renames it, then syncs dir. The
// new file gets the given mode and, when running as root, the old file's
// owner, so that `sudo mediaftpd passwd` leaves it readable by the server.
func writeAtomic(dir *os.File, target string, data []byte, perm fs.FileMode, owner *syscall.Stat_t) (err error) {
	f, err := os.CreateTemp(filepath.Dir(target), tempPattern(target))
	if err != nil {
		return fmt.Errorf("saving config: %w (the folder must be writable by mediaftpd's user for safe saves)", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("saving config: %w", err)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if owner != nil && os.Geteuid() == 0 {
		if err := f.Chown(int(owner.Uid), int(owner.Gid)); err != nil {
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := hook("written"); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := hook("synced"); err != nil {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		return err
	}
	if err := dir.Sync(); err != nil {
		// The file is replaced; only its durability across a power cut
		// is in doubt.
		return fmt.Errorf("saving config: syncing %s: %w", dir.Name(), err)
	}
	return nil
}

func hook(stage string) error {
	if saveHook != nil {
		return saveHook(stage)
	}
	return nil
}

// render encodes doc, which was read from old. A fresh document (old was
// empty or only comments) is appended to old's text; otherwise the blank
// lines of old, which yaml.v3 drops, are put back where they were.
func render(old []byte, doc *yaml.Node, fresh bool) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	if fresh {
		var out []byte
		if t := bytes.TrimRight(old, " \t\r\n"); len(t) > 0 {
			out = append(t, "\n\n"...)
		}
		return append(out, b.Bytes()...), nil
	}
	return restoreBlankLines(old, b.Bytes()), nil
}

// maxAlign bounds the work of restoreBlankLines (lines of old times lines
// of new); no real config comes near it.
const maxAlign = 4 << 20

// restoreBlankLines puts the blank lines of orig back into enc, which is
// orig's YAML re-encoded with changes. It aligns the lines of both (a
// longest common subsequence of their trimmed text) and, before each line
// of enc that matches a line of orig, puts the blank lines that preceded
// that line in orig. Lines that are new or gone pass their blank lines on
// to the next matching line. If the result does not decode to the same
// data as enc, enc is returned unchanged: blank lines are only looks.
func restoreBlankLines(orig, enc []byte) []byte {
	o, n := splitLines(orig), splitLines(enc)
	if len(o)*len(n) > maxAlign {
		return enc
	}
	key := func(s string) string { return strings.TrimSpace(s) }
	// lcs[i][j] is the length of the longest common subsequence of o[i:]
	// and n[j:].
	w := len(n) + 1
	lcs := make([]int32, (len(o)+1)*w)
	for i := len(o) - 1; i >= 0; i-- {
		for j := len(n) - 1; j >= 0; j-- {
			if key(o[i]) == key(n[j]) {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	var out strings.Builder
	pending, run := 0, 0 // blank lines owed; length of the current run in o
	emit := func(s string) { out.WriteString(s); out.WriteByte('\n') }
	i, j := 0, 0
	for i < len(o) && j < len(n) {
		switch {
		case key(o[i]) == key(n[j]) && lcs[i*w+j] == lcs[(i+1)*w+j+1]+1:
			if key(n[j]) == "" {
				pending = 0 // a blank line enc has too (in a block scalar)
			}
			for ; pending > 0; pending-- {
				emit("")
			}
			emit(n[j])
			i, j, run = i+1, j+1, 0
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]: // o[i] is gone
			if key(o[i]) == "" {
				run++
				pending = max(pending, run)
			} else {
				run = 0
			}
			i++
		default: // n[j] is new
			emit(n[j])
			j++
		}
	}
	for ; j < len(n); j++ {
		emit(n[j])
	}
	res := []byte(out.String())
	var a, b any
	if yaml.Unmarshal(res, &a) != nil || yaml.Unmarshal(enc, &b) != nil || !reflect.DeepEqual(a, b) {
		return enc
	}
	return res
}

// splitLines splits text into lines without their line endings.
func splitLines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// str returns a string scalar node; the encoder quotes it if needed.
func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// lookup returns the key and value nodes of key in mapping m, or nils.
// Merged keys (<<) are not looked into.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key && !isMerge(k) {
			return k, m.Content[i+1]
		}
	}
	return nil, nil
}

// mappingValue returns the mapping under key in m. A missing or empty key
// gets an empty mapping when create is set, else the result is nil.
func mappingValue(m *yaml.Node, key string, create bool) (*yaml.Node, error) {
	return childNode(m, key, yaml.MappingNode, create)
}

// childNode returns the mapping or sequence (kind) under key in m. A
// missing or empty key gets an empty one when create is set, else the
// result is nil.
func childNode(m *yaml.Node, key string, kind yaml.Kind, create bool) (*yaml.Node, error) {
	tag := "!!map"
	if kind == yaml.SequenceNode {
		tag = "!!seq"
	}
	_, v := lookup(m, key)
	switch {
	case v == nil && !create:
		return nil, nil
	case v == nil:
		v = &yaml.Node{Kind: kind, Tag: tag}
		m.Content = append(m.Content, str(key), v)
	case v.Kind == yaml.AliasNode:
		return nil, fmt.Errorf("%w: %s is written as an alias (*%s)", ErrCannotEdit, key, v.Value)
	case isNull(v):
		if !create {
			return nil, nil
		}
		*v = yaml.Node{Kind: kind, Tag: tag, HeadComment: v.HeadComment, LineComment: v.LineComment, FootComment: v.FootComment}
		moveLineComment(m, key)
	}
	return v, nil
}

// sharesNode returns the sequence of shares in root. A missing or empty
// key gets an empty sequence when create is set, else the result is nil.
func sharesNode(root *yaml.Node, create bool) (*yaml.Node, error) {
	return listNode(root, "shares", create)
}

// moveLineComment moves the line comment of key's value in mapping m to
// the key, where yaml.v3 keeps it for a block value: a comment written
// after "shares: []" stays on the "shares:" line when the list becomes a
// block.
func moveLineComment(m *yaml.Node, key string) {
	if k, v := lookup(m, key); k != nil && v.LineComment != "" && k.LineComment == "" {
		k.LineComment, v.LineComment = v.LineComment, ""
	}
}

// findShare returns the position in seq of the share named exactly name
// (as the share set looks names up), and the node of its name; -1 if there
// is none.
func findNamed(seq *yaml.Node, name string) (int, *yaml.Node) {
	for i, item := range seq.Content {
		m := resolve(item)
		if m.Kind != yaml.MappingNode {
			continue
		}
		if _, v := lookup(m, "name"); v != nil && resolve(v).Kind == yaml.ScalarNode && resolve(v).Value == name {
			return i, v
		}
	}
	return -1, nil
}
