package accounts

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
)

// Changing the users
//
// This file is the one place where users are added, removed or given a new
// password, or given private shares, while the server runs. The status
// page and SIGHUP both go through a Manager.

// Errors of user changes.
var (
	// ErrNoUser means no user has the given name.
	ErrNoUser = errors.New("no such user")
	// ErrPublicShare means a share named for a user is public: everyone
	// sees it already. Make it private first (library.Manager.SetAccess).
	ErrPublicShare = errors.New("share is public")
	// ErrUserExists means Add was given the name of a user (compared
	// ignoring case).
	ErrUserExists = errors.New("user exists")
)

// Manager owns the running user list: it checks a change, saves it to the
// config file, then applies it to Users (and to the shares' access, through
// the share Manager), one change at a time. Without a ConfigPath changes
// are applied but not saved. Set the fields before the first call.
type Manager struct {
	// Users is the running user list; required.
	Users *Users
	// Shares changes the shares' access; required for Remove and SetShares.
	Shares *library.Manager
	// ConfigPath is the config file changes are saved to, keeping its
	// comments; empty means changes last until the server stops.
	ConfigPath string
	// Logger receives each change at info level; nil means slog.Default().
	Logger *slog.Logger
	// OnEnded, if set, is called with the users whose sessions must end:
	// removed, or with a new password. It is called after the change.
	OnEnded func(names []string)

	mu sync.Mutex // serializes changes
}

// Add adds the user name with a password. It is refused with
// ErrUserExists when a user has that name, compared ignoring case; the
// name must follow config.CheckUserName, the password suit Hash. It
// reports whether the change was saved.
func (m *Manager) Add(name, password string) (saved bool, err error) {
	return m.setPassword(name, password, true)
}

// SetPassword sets the password of the user name, adding the user if
// new. The name must follow config.CheckUserName and differ ignoring case
// from every other user's; the password must suit Hash. The user's
// sessions end (OnEnded). It reports whether the change was saved.
func (m *Manager) SetPassword(name, password string) (saved bool, err error) {
	return m.setPassword(name, password, false)
}

// setPassword is SetPassword, or Add when onlyNew is set.
func (m *Manager) setPassword(name, password string, onlyNew bool) (saved bool, err error) {
	if err := config.CheckUserName(name); err != nil {
		return false, fmt.Errorf("user name: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.list()
	i := slices.IndexFunc(list, func(u User) bool { return u.Name == name })
	switch j := slices.IndexFunc(list, func(u User) bool { return config.SameUserName(u.Name, name) }); {
	case j >= 0 && onlyNew:
		return false, fmt.Errorf("%w: %q is already a user (names are compared ignoring case); set their password instead", ErrUserExists, list[j].Name)
	case i < 0 && j >= 0:
		return false, fmt.Errorf("user name: %w", fmt.Errorf("%q is already a user (names are compared ignoring case): %w", list[j].Name, config.ErrInvalid))
	}
	hash, err := Hash(password)
	if err != nil {
		return false, err
	}
	if m.ConfigPath != "" {
		if err := config.SetUserPasswordHash(m.ConfigPath, name, hash); err != nil {
			return false, err
		}
		saved = true
	}
	if i < 0 {
		list = append(list, User{Name: name, PasswordHash: hash})
	} else {
		list[i].PasswordHash = hash
	}
	m.apply(list)
	if i < 0 {
		m.logger().Info("user added", "user", name, "saved", saved)
	} else {
		m.logger().Info("user password changed", "user", name, "saved", saved)
	}
	return saved, nil
}

// Remove removes the user name and their name from every share's access.
// It is refused with config.ErrOnlyUser when they are the only user of a
// private share, which would become public. Their sessions end.
func (m *Manager) Remove(name string) (saved bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.list()
	i := slices.IndexFunc(list, func(u User) bool { return u.Name == name })
	if i < 0 {
		return false, fmt.Errorf("%w: %q", ErrNoUser, name)
	}
	shares := m.Shares.Set.List()
	for _, sh := range shares {
		if len(sh.Access) == 1 && sh.Access[0] == name {
			return false, fmt.Errorf("%w: %q is the only user who may see share %q; make it public or give it to another user first",
				config.ErrOnlyUser, name, sh.Name)
		}
	}
	if m.ConfigPath != "" {
		if saved, err = config.RemoveUser(m.ConfigPath, name); err != nil {
			return false, err
		}
	}
	// The config file has changed; the running shares follow. Access is
	// only narrowed here, so a failure leaves no share more open.
	for _, sh := range shares {
		if slices.Contains(sh.Access, name) {
			if err := m.Shares.Set.SetAccess(sh.Name, slices.DeleteFunc(slices.Clone(sh.Access), func(u string) bool { return u == name })); err != nil {
				m.logger().Warn("removing a user from a share's access", "user", name, "share", sh.Name, "err", err)
			}
		}
	}
	m.apply(slices.Delete(list, i, i+1))
	m.logger().Info("user removed", "user", name, "saved", saved)
	return saved, nil
}

// SetShares makes the private shares in shares, and no other, list the
// user name. Every refusal comes before anything changes: an unknown user
// (ErrNoUser), an unknown share (library.ErrNoShare), a public one
// (ErrPublicShare), a share named twice (config.ErrInvalid), and taking a
// share from its only user (config.ErrOnlyUser). It reports whether the
// changes were saved.
func (m *Manager) SetShares(name string, shares []string) (saved bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.Users.Has(name) {
		return false, fmt.Errorf("%w: %q", ErrNoUser, name)
	}
	all := m.Shares.Set.List()
	for k, want := range shares {
		i := slices.IndexFunc(all, func(sh library.Share) bool { return sh.Name == want })
		switch {
		case i < 0:
			return false, fmt.Errorf("%w: %q", library.ErrNoShare, want)
		case len(all[i].Access) == 0:
			return false, fmt.Errorf("%w: %q is seen by everyone already; make it private first", ErrPublicShare, want)
		case slices.Contains(shares[:k], want):
			return false, fmt.Errorf("%q is listed twice: %w", want, config.ErrInvalid)
		}
	}
	type change struct {
		share  string
		access []string
	}
	var changes []change
	for _, sh := range all {
		if len(sh.Access) == 0 {
			continue
		}
		has, want := slices.Contains(sh.Access, name), slices.Contains(shares, sh.Name)
		switch {
		case has == want:
			continue
		case want:
			changes = append(changes, change{sh.Name, append(slices.Clone(sh.Access), name)})
		case len(sh.Access) == 1:
			return false, fmt.Errorf("%w: %q is the only user who may see share %q; make it public or give it to another user first",
				config.ErrOnlyUser, name, sh.Name)
		default:
			changes = append(changes, change{sh.Name, slices.DeleteFunc(slices.Clone(sh.Access), func(u string) bool { return u == name })})
		}
	}
	saved = m.ConfigPath != ""
	for _, c := range changes {
		s, err := m.Shares.SetAccess(c.share, c.access)
		if err != nil {
			return false, err
		}
		saved = saved && s
	}
	m.logger().Info("user's shares changed", "user", name, "shares", shares, "saved", saved)
	return saved, nil
}

// Reload makes the users and the anonymous setting those of a config file
// read again (SIGHUP), and reports whether that changed them. The
// sessions of users removed or with a new password end.
func (m *Manager) Reload(users []User, anonymous bool) (changed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	before, anonBefore := m.list(), m.Users.Anonymous()
	ended := m.Users.Set(users, anonymous)
	if len(ended) > 0 {
		m.logger().Info("users changed; their sessions end", "users", ended)
		if m.OnEnded != nil {
			m.OnEnded(ended)
		}
	}
	return len(ended) > 0 || anonBefore != anonymous || len(before) != len(users)
}

// list returns the running users, sorted by name.
func (m *Manager) list() []User {
	u := m.Users
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make([]User, 0, len(u.hashes))
	for name, hash := range u.hashes {
		out = append(out, User{Name: name, PasswordHash: hash})
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// apply makes list the running users and ends the sessions of those
// removed or with a new password. m.mu is held.
func (m *Manager) apply(list []User) {
	if ended := m.Users.Set(list, m.Users.Anonymous()); len(ended) > 0 && m.OnEnded != nil {
		m.OnEnded(ended)
	}
}

func (m *Manager) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}
