package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/mediaftpd/mediaftpd/accounts"
	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
)

// User management, for the admin. The page checks what it is sent (the
// user and share names must exist, a share's access must name users) so
// that bad input changes nothing, and hands each change to its one owner:
// accounts.Manager (Server.Accounts) for the users and the shares each
// sees, library.Manager for a share's access. Both save the change to the
// config file, keeping its comments, and then apply it. A user removed or
// given a new password is logged out of the page at once.

// UserStatus is a user as the admin sees it on the page and in GET
// /api/users.
type UserStatus struct {
	Name string `json:"name"`
	// Shares are the private shares the user may see, in the shares'
	// order; every user sees the public ones too.
	Shares []string `json:"shares"`
}

// userList is the answer of GET /api/users.
type userList struct {
	Users []UserStatus `json:"users"`
}

// userRequest is the body of POST /api/users.
type userRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// passwordRequest is the body of PUT /api/users/{name}/password.
type passwordRequest struct {
	Password string `json:"password"`
}

// userSharesRequest is the body of PUT /api/users/{name}/shares.
type userSharesRequest struct {
	Shares *[]string `json:"shares"`
}

// accessRequest is the body of PUT /api/shares/{name}/access: "public",
// or the list of users the share is private to.
type accessRequest struct {
	Access json.RawMessage `json:"access"`
}

// userResponse describes a user that was added or changed.
type userResponse struct {
	Name   string   `json:"name"`
	Shares []string `json:"shares"`
	// Saved is set when the change was saved to the config file.
	Saved bool `json:"saved"`
}

// accessResponse describes a share whose access was set.
type accessResponse struct {
	Name string `json:"name"`
	// Access is "public" or the users the share is private to.
	Access any  `json:"access"`
	Saved  bool `json:"saved"`
}

// errNoAccounts answers the user routes of a server without Accounts.
const errNoAccounts = "user accounts are off on this server"

// userStatus returns the users with the private shares each sees, from
// all, a snapshot of the shares.
func (s *Server) userStatus(all []library.Share) []UserStatus {
	if s.Users == nil {
		return []UserStatus{}
	}
	names := s.Users.Names()
	out := make([]UserStatus, 0, len(names))
	for _, name := range names {
		out = append(out, UserStatus{Name: name, Shares: privateShares(all, name)})
	}
	return out
}

// privateShares returns the shares of all whose access lists the user.
func privateShares(all []library.Share, name string) []string {
	out := []string{}
	for _, sh := range all {
		if slices.Contains(sh.Access, name) {
			out = append(out, sh.Name)
		}
	}
	return out
}

// sharesOf returns the private shares the user sees.
func (s *Server) sharesOf(name string) []string { return privateShares(s.Shares.List(), name) }

// failUser answers an error of a user change: 404 for a user that does
// not exist, 409 for a change that would leave a private share without
// users, 400 for input the admin can correct, else as fail does.
func (s *Server) failUser(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, accounts.ErrNoUser):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, config.ErrOnlyUser), errors.Is(err, accounts.ErrUserExists):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, accounts.ErrBadPassword), errors.Is(err, config.ErrInvalid),
		errors.Is(err, accounts.ErrPublicShare), errors.Is(err, library.ErrNoShare):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.fail(w, what, err)
	}
}

// accountsOn answers 404 when user management is off.
func (s *Server) accountsOn(w http.ResponseWriter) bool {
	if s.Accounts == nil || s.Users == nil {
		writeError(w, http.StatusNotFound, errNoAccounts)
		return false
	}
	return true
}

// knownUser answers 404 unless name is exactly a user's name.
func (s *Server) knownUser(w http.ResponseWriter, name string) bool {
	if !s.Users.Has(name) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no user is named %q", name))
		return false
	}
	return true
}

// listUsers is GET /api/users.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w) {
		return
	}
	writeJSON(w, http.StatusOK, userList{Users: s.userStatus(s.Shares.List())})
}

// addUser is POST /api/users: a new user with a password, who sees the
// public shares until given private ones.
func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w) {
		return
	}
	var req userRequest
	if !readJSON(w, r, &req) {
		return
	}
	saved, err := s.Accounts.Add(req.Name, req.Password)
	if err != nil {
		s.failUser(w, "adding the user", err)
		return
	}
	s.wake.notify()
	s.logger().Info("user added from the page", "user", req.Name, "remote", r.RemoteAddr)
	w.Header().Set("Location", "/api/users/"+url.PathEscape(req.Name))
	writeJSON(w, http.StatusCreated, userResponse{Name: req.Name, Shares: []string{}, Saved: saved})
}

// setUserPassword is PUT /api/users/{name}/password. The user's sessions
// end: they log in again with the new password.
func (s *Server) setUserPassword(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w) {
		return
	}
	name := r.PathValue("name")
	var req passwordRequest
	if !readJSON(w, r, &req) || !s.knownUser(w, name) {
		return
	}
	saved, err := s.Accounts.SetPassword(name, req.Password)
	if err != nil {
		s.failUser(w, "setting the password", err)
		return
	}
	s.endUserSessions([]string{name})
	s.logger().Info("user's password set from the page", "user", name, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, userResponse{Name: name, Shares: s.sharesOf(name), Saved: saved})
}

// setUserShares is PUT /api/users/{name}/shares {"shares": [...]}: the
// private shares the user sees, and no other.
func (s *Server) setUserShares(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w) {
		return
	}
	name := r.PathValue("name")
	var req userSharesRequest
	if !readJSON(w, r, &req) || !s.knownUser(w, name) {
		return
	}
	if req.Shares == nil {
		writeError(w, http.StatusBadRequest, "shares: missing; send the private shares the user sees, [] for none")
		return
	}
	want := *req.Shares
	saved, err := s.Accounts.SetShares(name, want) // refuses before changing anything
	if err != nil {
		s.failUser(w, "changing the user's shares", err)
		return
	}
	s.wake.notify()
	s.logger().Info("user's shares set from the page", "user", name, "shares", want, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, userResponse{Name: name, Shares: s.sharesOf(name), Saved: saved})
}

// removeUser is DELETE /api/users/{name}. Refused with 409 when the user
// is the only one who may see a private share, which would become public.
func (s *Server) removeUser(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w) {
		return
	}
	name := r.PathValue("name")
	if _, err := s.Accounts.Remove(name); err != nil {
		s.failUser(w, "removing the user", err)
		return
	}
	s.endUserSessions([]string{name})
	s.wake.notify()
	s.logger().Info("user removed from the page", "user", name, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// setShareAccess is PUT /api/shares/{name}/access {"access": "public" |
// [users]}.
func (s *Server) setShareAccess(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var req accessRequest
	if !readJSON(w, r, &req) {
		return
	}
	if _, ok := s.share(name); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no share is named %q", name))
		return
	}
	access, err := s.parseAccess(req.Access)
	if err != nil {
		writeError(w, http.StatusBadRequest, "access: "+err.Error())
		return
	}
	saved, err := s.Manager.SetAccess(name, access)
	if err != nil {
		s.failUser(w, "changing the share's access", err)
		return
	}
	s.logger().Info("share access set from the page", "share", name, "access", accessJSON(access), "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, accessResponse{Name: name, Access: accessJSON(access), Saved: saved})
}

// parseAccess reads a share's access: "public" (nil), or a list of
// existing users, each once.
func (s *Server) parseAccess(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, errors.New(`missing; send "public" or a list of users like ["alice"]`)
	}
	var word string
	if json.Unmarshal(raw, &word) == nil {
		if word != config.AccessPublic {
			return nil, fmt.Errorf(`%q is neither "public" nor a list of users like ["alice"]`, word)
		}
		return nil, nil
	}
	var users []string
	if err := json.Unmarshal(raw, &users); err != nil {
		return nil, errors.New(`must be "public" or a list of user names like ["alice"]`)
	}
	if len(users) == 0 {
		return nil, errors.New(`an empty list would let nobody see the share; send "public" or name users`)
	}
	for i, u := range users {
		switch {
		case s.Users == nil || !s.Users.Has(u):
			return nil, fmt.Errorf("%q is not a user", u)
		case slices.Contains(users[:i], u):
			return nil, fmt.Errorf("%q is listed twice", u)
		}
	}
	return users, nil
}

// accessJSON is how access is shown: "public" or the list of users.
func accessJSON(access []string) any {
	if len(access) == 0 {
		return config.AccessPublic
	}
	return access
}
