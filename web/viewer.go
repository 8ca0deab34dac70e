package web

import (
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/mediaftpd/mediaftpd/library"
)

// Who sees what. Every answer of the page is made for the one who asks,
// its viewer: the admin (logged in with the admin password) sees every
// share, since they manage them; a user logged in with their name and
// password sees what library's one access rule gives them
// (Set.Scope(user)); anyone else sees the public shares
// (Scope(library.Anonymous)). A share the viewer may not see does not
// exist for them: a path into it gets the answer of a missing share, byte
// for byte, and its name, counts, recent files, state, transfers and
// streams appear nowhere in the page, the JSON or the live updates.
// Handlers reach the shares only through the viewer's shareView.

// viewer is who a request is answered for.
type viewer struct {
	// admin is set for the admin's session.
	admin bool
	// user is the user logged in; library.Anonymous for the admin and
	// for visitors who did not log in.
	user string
	// sess is the login session, nil for a visitor.
	sess *session
}

// viewer returns who r is answered for. A user's session whose user is no
// longer in Users ends here, so a removed user is a visitor at once even
// if the app did not call EndUserSessions.
func (s *Server) viewer(r *http.Request) viewer { return s.viewerOf(r, true) }

// viewerOf is viewer; touch marks the session used (see authState.lookup).
func (s *Server) viewerOf(r *http.Request, touch bool) viewer {
	sess := s.auth.lookup(r, touch)
	switch {
	case sess == nil:
		return viewer{}
	case sess.admin():
		if s.passwordHash() == "" {
			return viewer{}
		}
		return viewer{admin: true, sess: sess}
	case s.Users == nil || !s.Users.Has(sess.user):
		s.auth.end(r)
		return viewer{}
	}
	return viewer{user: sess.user, sess: sess}
}

// shareView is the shares as one viewer sees them: the whole *library.Set
// for the admin, a library.Scope for everyone else, where a share they
// may not see answers as a missing one (library.ErrNoShare).
type shareView interface {
	Names() []string
	List() []library.Share
	Status() []library.ShareStatus
	Recent(n int) []library.Addition
	Root(name string) (*os.Root, error)
	Open(share, rel string) (*os.File, fs.FileInfo, error)
	Entry(share, rel string, v library.View) (library.Entry, error)
	Children(share, rel string, v library.View, offset, limit int) ([]library.Entry, int, error)
	Subscribe() (c <-chan struct{}, cancel func())
}

var (
	_ shareView = (*library.Set)(nil)
	_ shareView = library.Scope{}
)

// shares returns the shares as v sees them.
func (s *Server) shares(v viewer) shareView {
	if v.admin {
		return s.Shares
	}
	return s.Shares.Scope(v.user)
}

// sharesFor returns the shares as the viewer of r sees them.
func (s *Server) sharesFor(r *http.Request) shareView { return s.shares(s.viewer(r)) }

// ftpShare returns the share of an FTP virtual path ("/Movies/a.mkv"),
// "" for the root, which lists only what the FTP client may see.
func ftpShare(p string) string {
	share, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return share
}

// private reports whether the share named name is not public: its files
// are then not to be kept by shared caches.
func (s *Server) private(name string) bool { return !s.Shares.Allows(name, library.Anonymous) }
