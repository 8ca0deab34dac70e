package web

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// EditShares runs fn while no share change made on the page is under way,
// and holds new ones back until fn returns. A change on the page is saved
// to the config file and then applied to Shares; a config reload, which
// reads that file and applies its shares, runs in EditShares so that it
// neither applies a change the page has saved but not yet applied (the
// page's own apply would then fail, and undo its save) nor undoes one the
// page applied after the reload read the file.
func (s *Server) EditShares(fn func()) {
	s.editMu.Lock()
	defer s.editMu.Unlock()
	fn()
}

// SetPasswordHash replaces the admin password's bcrypt hash, as when the
// config file is reloaded after `mediaftpd passwd`; "" turns management
// off. Every admin is logged out: whoever knew the old password must log
// in with the new one. A value that is not a bcrypt hash is refused and
// changes nothing.
func (s *Server) SetPasswordHash(hash string) error {
	s.once.Do(s.init)
	if err := checkHash(hash); err != nil {
		return fmt.Errorf("web.password_hash: %w", err)
	}
	if *s.hash.Load() == hash {
		return nil
	}
	s.hash.Store(&hash)
	s.auth.endAll()
	s.logger().Info("admin password changed; admins were logged out", "management", hash != "")
	return nil
}

// passwordHash returns the admin password's hash, or "" when management
// is off.
func (s *Server) passwordHash() string { return *s.hash.Load() }

// checkHash reports whether hash is empty or a bcrypt hash.
func checkHash(hash string) error {
	if hash == "" {
		return nil
	}
	_, err := bcrypt.Cost([]byte(hash))
	return err
}
