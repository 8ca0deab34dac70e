package library

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mediaftpd/mediaftpd/internal/config"
)

// Changing the shares
//
// This file is the one place where a share is added, removed, renamed or
// reloaded while the server runs. The status page and SIGHUP both go
// through a Manager; nothing else writes the shares to the config file or
// changes the running Set.

// ErrShared means the folder of a new share is shared already, maybe
// under another path that leads to it (a symlink).
var ErrShared = errors.New("folder is shared already")

// Manager owns the running share list: it checks a change, saves it to
// the config file, and applies it to the Set (and so to every front end
// and the index), one change at a time. Its exported fields are its
// configuration; set them before the first call.
//
// A change is saved before it is applied, so a failed save changes
// nothing: FTP, HTTP and the index never see a share the file lacks. When
// the change then cannot be applied, the file is put back as it was. In
// both cases the error is returned, with the restore's own error if that
// failed too.
type Manager struct {
	// Set is the running share set; required.
	Set *Set
	// ConfigPath is the config file changes are saved to, keeping its
	// comments (see config.AddShare). Empty means changes are applied but
	// not saved, and last until the server stops.
	ConfigPath string
	// Logger receives each change at info level; nil means the Set's.
	Logger *slog.Logger

	mu sync.Mutex // serializes changes: check, save, apply (or reload)

	// Test seams: called before saving and before applying a change with
	// the change's name ("add", "remove", "rename", "access"); an error they return
	// fails that step. Nil in production.
	beforeSave, beforeApply func(op string) error
}

// Add shares the folder sh.Path as sh.Name. The name must follow the
// config file's rules (config.CheckShareName) and be new (compared as
// config.SameShareName does); the path must be absolute, and its folder
// not shared already (ErrShared). It reports whether the change was saved
// to the config file.
func (m *Manager) Add(sh Share) (saved bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.Set.checkNew(sh); err != nil {
		return false, err
	}
	if err := m.checkFolder(sh.Path); err != nil {
		return false, err
	}
	saved, err = m.change("add",
		func() (bool, error) {
			return true, config.AddShare(m.ConfigPath, config.Share{Name: sh.Name, Path: sh.Path, RescanInterval: sh.RescanInterval, Access: sh.Access})
		},
		func() error { return m.Set.Add(sh) })
	if err == nil {
		m.logger().Info("share added", "share", sh.Name, "path", sh.Path, "saved", saved)
	}
	return saved, err
}

// Remove stops sharing the named share. Files being sent from it finish.
// It reports whether the config file had the share (one given on the
// command line is not in the file, and comes back after a restart).
func (m *Manager) Remove(name string) (saved bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.Set.entry(name); err != nil {
		return false, err
	}
	saved, err = m.change("remove",
		func() (bool, error) { return config.RemoveShare(m.ConfigPath, name) },
		func() error { return m.Set.Remove(name) })
	if err == nil {
		m.logger().Info("share removed", "share", name, "saved", saved)
	}
	return saved, err
}

// Rename gives the share named old the name new, which must follow the
// same rules as in Add; it may differ from old in case only. The share's
// index is kept. It reports whether the config file had the share.
func (m *Manager) Rename(old, new string) (saved bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.Set.entry(old); err != nil {
		return false, err
	}
	if err := m.Set.checkName(new, old); err != nil {
		return false, err
	}
	saved, err = m.change("rename",
		func() (bool, error) { return config.RenameShare(m.ConfigPath, old, new) },
		func() error { return m.Set.Rename(old, new) })
	if err == nil {
		m.logger().Info("share renamed", "share", old, "to", new, "saved", saved)
	}
	return saved, err
}

// SetAccess makes the named share private to the users in access, or
// public when access is empty. The users must be in the config file's
// users (config.SetShareAccess checks it). It reports whether the config
// file had the share.
func (m *Manager) SetAccess(name string, access []string) (saved bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.Set.entry(name); err != nil {
		return false, err
	}
	saved, err = m.change("access",
		func() (bool, error) { return config.SetShareAccess(m.ConfigPath, name, access) },
		func() error { return m.Set.SetAccess(name, access) })
	if err == nil {
		who := "public"
		if len(access) > 0 {
			who = strings.Join(access, ", ")
		}
		m.logger().Info("share access changed", "share", name, "access", who, "saved", saved)
	}
	return saved, err
}

// Reload makes the running shares those that load returns, as when the
// config file is read again on SIGHUP (see Set.Sync). load runs while no
// other change is under way, so a change saved to the file by Add, Remove
// or Rename is either in what it reads, and kept, or made after the reload,
// never undone by it. An error from load changes nothing.
func (m *Manager) Reload(load func() ([]Share, error)) (Changes, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	shares, err := load()
	if err != nil {
		return Changes{}, err
	}
	return m.Set.Sync(shares)
}

// change saves a change with save (unless there is no config file) and
// then applies it with apply. save reports whether the file had what it
// changed. A failed apply puts the file back as it was.
func (m *Manager) change(op string, save func() (bool, error), apply func() error) (saved bool, err error) {
	var snap config.Snapshot
	if m.ConfigPath != "" {
		if snap, err = config.TakeSnapshot(m.ConfigPath); err != nil {
			return false, err
		}
		if err := hook(m.beforeSave, op); err != nil {
			return false, err
		}
		if saved, err = save(); err != nil {
			return false, err
		}
	}
	if err := hook(m.beforeApply, op); err != nil {
		return false, m.undo(saved, snap, err)
	}
	if err := apply(); err != nil {
		return false, m.undo(saved, snap, err)
	}
	return saved, nil
}

// undo puts the config file back after a saved change could not be
// applied (err), and returns err with the restore's error, if any.
func (m *Manager) undo(saved bool, snap config.Snapshot, err error) error {
	if !saved {
		return err
	}
	if rerr := config.Restore(m.ConfigPath, snap); rerr != nil {
		m.logger().Error("a share change could not be applied, and the config file could not be put back; "+
			"check it before the next reload", "file", m.ConfigPath, "err", err, "restore_err", rerr)
		return errors.Join(err, fmt.Errorf("putting the config file back: %w", rerr))
	}
	return err
}

func hook(h func(op string) error, op string) error {
	if h == nil {
		return nil
	}
	return h(op)
}

// checkFolder refuses a folder that a share has already, by its path or
// by where the share's path leads.
func (m *Manager) checkFolder(dir string) error {
	clean := filepath.Clean(dir)
	real, rerr := filepath.EvalSymlinks(dir)
	for _, sh := range m.Set.List() {
		other, err := filepath.EvalSymlinks(sh.Path)
		if filepath.Clean(sh.Path) == clean || err == nil && rerr == nil && other == real {
			return fmt.Errorf("path: %w: %s, as %q", ErrShared, dir, sh.Name)
		}
	}
	return nil
}

func (m *Manager) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return m.Set.logger()
}

// checkNew reports why sh cannot be added to the set as it is now: a bad
// name or path, or a name taken.
func (s *Set) checkNew(sh Share) error {
	if err := CheckName(sh.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	switch {
	case sh.Path == "":
		return fmt.Errorf("path: %w", errNoPath)
	case !filepath.IsAbs(sh.Path):
		return fmt.Errorf("path: %q %w", sh.Path, errRelative)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.taken(sh.Name, "")
}

// checkName reports why name cannot name the share now named old: it
// breaks the name rules, or another share has it.
func (s *Set) checkName(name, old string) error {
	if err := CheckName(name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.taken(name, old)
}

// Errors of a share's path.
var (
	errNoPath   = errors.New("missing; choose the folder to share")
	errRelative = errors.New("is not an absolute path (write it from /, like /media/usb/Movies)")
)
