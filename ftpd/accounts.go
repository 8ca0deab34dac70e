package ftpd

import (
	"context"
	"errors"
	"net/netip"
	"strings"
)

// LoginResult is the outcome of Accounts.Login.
type LoginResult int

const (
	// LoginOK means the password is right: "230", and the session sees
	// what Shares.Allows lets the account see.
	LoginOK LoginResult = iota
	// LoginFailed means a wrong password or an unknown name: "530 Login
	// incorrect.", after the penalty delay that Login waited out.
	LoginFailed
	// LoginLockedOut means too many failures from this address: "421"
	// and the session ends.
	LoginLockedOut
)

// Accounts checks named users. It must be safe for concurrent use; a
// change (a reload) applies to the logins that follow it, and
// Server.EndSessions ends the sessions of accounts removed or changed.
type Accounts interface {
	// Anonymous reports whether anonymous logins are allowed (config
	// `anonymous`, default true). When it is false, the PASS of an
	// anonymous session gets "530 Anonymous login is disabled on this
	// server.", as vsftpd refuses anonymous at PASS when it is off.
	Anonymous() bool
	// HasUsers reports whether any named account exists. When none does,
	// every USER name logs in anonymously (macOS Fetch sends the Mac login
	// name); when some do, only "anonymous" and "ftp" (any case) are
	// anonymous and every other name is checked as an account, known or
	// not (no user enumeration: same replies and the same time for
	// unknown names).
	HasUsers() bool
	// Login checks name's password for a client at from. It takes as long
	// for unknown names, and waits out the penalty delay of earlier
	// failures before returning. ctx is cancelled when the session is
	// closed, the server shuts down or the client hangs up while Login
	// runs; Login should then return soon.
	Login(ctx context.Context, name, password string, from netip.Addr) LoginResult
	// LockedOut reports whether the address failed too often and is
	// refused for now. Its connections then get "421" after a second,
	// before a greeting or a TLS handshake: a flood of guesses costs the
	// server next to nothing once locked out.
	LockedOut(from netip.Addr) bool
}

// lockedOutReply is the 421's text for an address that failed too often.
const lockedOutReply = "Too many failed logins from your address; try again later."

// isAnonymousName reports whether name is one of the names that log in
// anonymously when accounts exist: "anonymous" and "ftp", in any case.
func isAnonymousName(name string) bool {
	return strings.EqualFold(name, "anonymous") || strings.EqualFold(name, "ftp")
}

// cmdUSER starts a login. Without accounts any name is anonymous. A named
// user is refused at once on a clear-text control connection when
// RequireTLSForUsers is set: the session then has no user, so the PASS
// that follows gets 503 and its password is never checked.
func (s *session) cmdUSER(arg string) error {
	accts := s.srv.Accounts
	named := accts != nil && !isAnonymousName(arg) && accts.HasUsers()
	s.loggedIn, s.named = false, named
	if named && s.srv.RequireTLSForUsers && s.tlsConf == nil {
		s.setUser("", "")
		s.log.Info("named user refused on a clear-text connection", "user", arg)
		return s.reply.reply(codeNotLoggedIn, "Non-anonymous sessions must use encryption (AUTH TLS).")
	}
	s.setUser(arg, "")
	return s.reply.reply(codeNeedPassword, "Please specify the password.")
}

// setUser records the user given to USER and the account logged in as,
// for info and EndSessions, which read them under mu.
func (s *session) setUser(user, account string) {
	s.mu.Lock()
	s.user, s.account = user, account
	s.mu.Unlock()
}

// cmdPASS ends a login. The password is never logged.
func (s *session) cmdPASS(password string) error {
	if s.user == "" {
		return s.reply.reply(codeBadSequence, "Login with USER first.")
	}
	if s.loggedIn {
		return s.reply.reply(codeLoggedIn, "Already logged in.")
	}
	user := s.user
	if !s.named {
		if a := s.srv.Accounts; a != nil && !a.Anonymous() {
			s.setUser("", "")
			s.log.Info("anonymous login refused: anonymous logins are off", "user", user)
			return s.reply.reply(codeNotLoggedIn, "Anonymous login is disabled on this server.")
		}
		s.loggedIn = true
		s.log.Debug("logged in", "user", user)
		return s.reply.reply(codeLoggedIn, "Login successful.")
	}
	gen := s.srv.endings()
	// A guesser that hangs up while its guess waits for its turn leaves
	// the queue: its guess is not checked.
	ctx, stop := s.untilHangup()
	result := s.srv.Accounts.Login(ctx, user, password, s.remote.Addr())
	hungUp := ctx.Err() != nil && s.ctx.Err() == nil
	stop()
	if hungUp && result != LoginOK {
		s.setUser("", "")
		s.log.Info("login abandoned: the client hung up", "user", user)
		return errQuit
	}
	switch result {
	case LoginOK:
		s.setUser(user, user)
		if !s.srv.keptSince(gen, user) {
			// A reload ended this account's sessions while Login checked
			// the password it replaced.
			s.setUser("", "")
			s.log.Info("login refused: the account changed meanwhile", "user", user)
			return s.reply.reply(codeNotLoggedIn, "Login incorrect.")
		}
		s.loggedIn = true
		s.log.Info("logged in", "account", user)
		return s.reply.reply(codeLoggedIn, "Login successful.")
	case LoginLockedOut:
		s.setUser("", "")
		s.log.Info("login refused: too many failures from this address", "user", user)
		s.reply.reply(codeUnavailable, lockedOutReply)
		return errQuit
	default:
		s.setUser("", "")
		s.log.Info("login failed", "user", user)
		return s.reply.reply(codeNotLoggedIn, "Login incorrect.")
	}
}

// errNoShare is what a path into a share the session may not see resolves
// to: the same reply as a share that does not exist.
var errNoShare = errors.New("no such share")

// allows reports whether the session may see the named share: the one
// access rule, Shares.Allows, for the account logged in as ("" for
// anonymous). It is asked at every command, so a reload that changes a
// share's access is seen by the next one.
func (s *session) allows(share string) bool {
	return s.srv.Shares.Allows(share, s.account)
}

// EndSessions ends, as Close does for one session (a running transfer
// included), every session logged in as a named account that keep
// rejects, and returns how many it ended. Anonymous sessions, sessions
// not logged in and sessions an earlier call ended (still closing) are
// not counted. The app calls it after a reload, for the
// accounts removed or whose password changed; new logins already use the
// new Accounts.
//
// A login whose password check was under way during the call is held to
// keep as well, so it cannot outlive the reload with the password the
// reload replaced; during more than one call, such a login is refused
// and the client asked to log in again.
func (srv *Server) EndSessions(keep func(user string) bool) int {
	srv.mu.Lock()
	srv.endGen++
	srv.lastKeep = keep
	sessions := make([]*session, 0, len(srv.sessions))
	for s := range srv.sessions {
		sessions = append(sessions, s)
	}
	srv.mu.Unlock()
	n := 0
	for _, s := range sessions {
		s.mu.Lock()
		account, killed := s.account, s.killed
		s.mu.Unlock()
		if killed || account == "" || keep(account) {
			continue // ended by an earlier call, but not yet gone
		}
		s.log.Info("session ended: its account was removed or changed", "account", account)
		s.kill()
		n++
	}
	return n
}

// endings returns how many times EndSessions has been called.
func (srv *Server) endings() uint64 {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.endGen
}

// keptSince reports whether the account user may stay logged in after the
// calls of EndSessions since endings returned gen: none, or one whose keep
// accepts user. The session has set its account before asking, so a call
// that this one does not see will see the account and end the session.
func (srv *Server) keptSince(gen uint64, user string) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	switch srv.endGen - gen {
	case 0:
		return true
	case 1:
		return srv.lastKeep(user)
	}
	return false
}
