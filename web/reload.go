package web

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// SetPasswordHash replaces the admin password's bcrypt hash, as when the
// config file is reloaded after `mediaftpd passwd`; "" turns management
// off. Every admin is logged out: whoever knew the old password must log
// in with the new one. Users stay logged in. A value that is not a bcrypt hash is refused and
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
	s.auth.endWhere((*session).admin)
	s.wake.notify()
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
