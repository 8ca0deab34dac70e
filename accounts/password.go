// Package accounts holds the named users of the server: their password
// hashes, the one place passwords are hashed and checked, and the
// throttle of wrong guesses that every login (FTP, the status page) goes
// through. Who sees which share is library's rule (Share.Allows); this
// package only says who someone is.
package accounts

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Cost is the bcrypt cost of new hashes: 2^10 rounds. It takes about 50 ms
// on an amd64 core and 0.5 to 1 s on a Raspberry Pi Zero's ARMv6, which
// is what bounds guessing: logins are checked one at a time.
const Cost = bcrypt.DefaultCost

// Password limits. bcrypt reads at most 72 bytes of a password.
const (
	MinPasswordRunes = 8
	MaxPasswordBytes = 72
)

// ErrBadPassword means a new password is too short or too long.
var ErrBadPassword = errors.New("unusable password")

// Hash returns the bcrypt hash of a new password, which must have at least
// MinPasswordRunes characters and at most MaxPasswordBytes bytes.
func Hash(password string) (string, error) {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordRunes:
		return "", fmt.Errorf("%w: the password is too short: use at least %d characters", ErrBadPassword, MinPasswordRunes)
	case len(password) > MaxPasswordBytes:
		return "", fmt.Errorf("%w: the password is too long: bcrypt uses at most %d bytes", ErrBadPassword, MaxPasswordBytes)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), Cost)
	if err != nil {
		return "", fmt.Errorf("hashing the password: %w", err)
	}
	return string(hash), nil
}

// dummyHash is compared against when a name has no account, so that an
// unknown name takes as long as a wrong password.
var dummyHash = func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("no such user, no such password"), Cost)
	if err != nil {
		panic(err)
	}
	return h
}()

// matches reports whether password is the one of hash; an empty hash (no
// such user) never matches, after the same work.
func matches(hash, password string) bool {
	if hash == "" {
		compare(dummyHash, []byte(password))
		return false
	}
	return compare([]byte(hash), []byte(password)) == nil
}

// compare is bcrypt's comparison; tests count its calls.
var compare = bcrypt.CompareHashAndPassword
