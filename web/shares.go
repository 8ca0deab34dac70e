package web

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
)

// Share management. The page checks what only it asks of a share (a
// folder under the share roots, see checkFolder) and hands the change to
// the shares' one owner, library.Manager, which checks the name, saves the
// change to the config file and applies it, one change at a time.

// shareRequest is the body of POST /api/shares and PATCH /api/shares/{name}.
type shareRequest struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// shareResponse describes a share that was added or renamed.
type shareResponse struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// Saved is set when the change was saved to the config file.
	Saved bool `json:"saved"`
}

// badRequest is a validation failure, shown to the admin as it is.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// fail answers err: 404 for a share that does not exist, 400 for a
// change the admin can correct, 500 otherwise.
func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	if br, ok := errors.AsType[*badRequest](err); ok {
		writeError(w, http.StatusBadRequest, br.msg)
		return
	}
	switch {
	case errors.Is(err, library.ErrNoShare):
		writeError(w, http.StatusNotFound, err.Error())
		return
	case errors.Is(err, library.ErrBadShareName), errors.Is(err, library.ErrShareExists), errors.Is(err, library.ErrShared),
		errors.Is(err, config.ErrDuplicateShare), errors.Is(err, config.ErrCannotEdit):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.logger().Error(what+" failed", "err", err)
	writeError(w, http.StatusInternalServerError, what+" failed: "+err.Error())
}

// addShare is POST /api/shares.
func (s *Server) addShare(w http.ResponseWriter, r *http.Request) {
	var req shareRequest
	if !readJSON(w, r, &req) {
		return
	}
	if err := library.CheckName(req.Name); err != nil {
		s.fail(w, "adding the share", fmt.Errorf("name: %w", err))
		return
	}
	dir, err := s.checkFolder(req.Path)
	if err != nil {
		s.fail(w, "adding the share", err)
		return
	}
	saved, err := s.Manager.Add(library.Share{Name: req.Name, Path: dir})
	if err != nil {
		s.fail(w, "adding the share", err)
		return
	}
	s.logger().Info("share added from the page", "share", req.Name, "remote", r.RemoteAddr)
	w.Header().Set("Location", "/api/shares/"+url.PathEscape(req.Name))
	writeJSON(w, http.StatusCreated, shareResponse{Name: req.Name, Path: dir, Saved: saved})
}

// renameShare is PATCH /api/shares/{name} with {"name": new}. A path may
// not be given: to share another folder, add it.
func (s *Server) renameShare(w http.ResponseWriter, r *http.Request) {
	old := r.PathValue("name")
	var req shareRequest
	if !readJSON(w, r, &req) {
		return
	}
	cur, ok := s.share(old)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no share is named %q", old))
		return
	}
	if req.Path != "" && req.Path != cur.Path {
		writeError(w, http.StatusBadRequest, "a share's folder cannot be changed; remove the share and add the folder")
		return
	}
	if req.Name == old {
		writeJSON(w, http.StatusOK, shareResponse{Name: old, Path: cur.Path})
		return
	}
	saved, err := s.Manager.Rename(old, req.Name)
	if err != nil {
		s.fail(w, "renaming the share", err)
		return
	}
	s.logger().Info("share renamed from the page", "share", old, "to", req.Name, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, shareResponse{Name: req.Name, Path: cur.Path, Saved: saved})
}

// removeShare is DELETE /api/shares/{name}. Files being sent from the
// share finish; new FTP commands no longer see it.
func (s *Server) removeShare(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := s.Manager.Remove(name); err != nil {
		if errors.Is(err, library.ErrNoShare) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no share is named %q", name))
			return
		}
		s.fail(w, "removing the share", err)
		return
	}
	s.logger().Info("share removed from the page", "share", name, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// share returns the share named exactly name.
func (s *Server) share(name string) (library.Share, bool) {
	list := s.Shares.List()
	i := slices.IndexFunc(list, func(sh library.Share) bool { return sh.Name == name })
	if i < 0 {
		return library.Share{}, false
	}
	return list[i], true
}

// checkFolder checks a folder for a new share and returns its real path:
// it must be absolute, exist, be a folder that can be read, and lie under
// one of the share roots once ".." and symlinks are resolved.
func (s *Server) checkFolder(p string) (string, error) {
	if p == "" {
		return "", badf("path: missing; choose the folder to share")
	}
	if !filepath.IsAbs(p) {
		return "", badf("path: %q is not an absolute path (write it from /, like /media/usb/Movies)", p)
	}
	real, err := filepath.EvalSymlinks(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", badf("path: %s does not exist", p)
	case err != nil:
		return "", badf("path: %s cannot be reached: %v", p, cause(err))
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", badf("path: %s cannot be reached: %v", p, err)
	}
	if !fi.IsDir() {
		return "", badf("path: %s is not a folder", p)
	}
	if !s.underRoot(real) {
		return "", badf("path: %s is outside the folders shares may be made from (%s); "+
			"to share it, add a folder above it to web.share_roots in the config file",
			p, strings.Join(s.roots, ", "))
	}
	f, err := os.Open(real)
	if err != nil {
		return "", badf("path: mediaftpd cannot read %s: %v", p, cause(err))
	}
	f.Close()
	return real, nil
}

// cause returns what went wrong without the path that an *fs.PathError
// repeats.
func cause(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// realRoots returns the share roots that exist, with symlinks resolved.
func (s *Server) realRoots() []string {
	var out []string
	for _, r := range s.roots {
		if real, err := filepath.EvalSymlinks(r); err == nil && filepath.IsAbs(real) {
			out = append(out, real)
		}
	}
	return out
}

// underRoot reports whether the real path p is a share root or below one.
func (s *Server) underRoot(p string) bool {
	return slices.ContainsFunc(s.realRoots(), func(root string) bool { return within(root, p) })
}

// within reports whether p is root or below it; both are clean and
// absolute, with symlinks resolved.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// maxFolders bounds a folder listing of the picker.
const maxFolders = 1000

// folder is one entry of the folder picker.
type folder struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// folderList is the answer of GET /api/folders.
type folderList struct {
	// Path is the folder listed; empty for the list of share roots.
	Path string `json:"path"`
	// Parent is the folder above Path, or empty at a share root.
	Parent string `json:"parent"`
	// Folders are the visible subfolders, by name.
	Folders   []folder `json:"folders"`
	Truncated bool     `json:"truncated"`
}

// listFolders is GET /api/folders?path=P, for the folder picker: the
// subfolders of P, which must lie under a share root, or without P the
// share roots that exist. Hidden folders, and symlinks that lead outside
// the share roots, are left out.
func (s *Server) listFolders(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	out := folderList{Folders: []folder{}}
	if p == "" {
		for _, root := range s.realRoots() {
			if !slices.ContainsFunc(out.Folders, func(f folder) bool { return f.Path == root }) {
				out.Folders = append(out.Folders, folder{Name: root, Path: root})
			}
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	dir, err := s.checkFolder(p)
	if err != nil {
		s.fail(w, "listing folders", err)
		return
	}
	out.Path = dir
	if parent := filepath.Dir(dir); parent != dir && s.underRoot(parent) {
		out.Parent = parent
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("cannot list %s: %v", dir, cause(err)))
		return
	}
	for _, e := range entries {
		if !library.Visible(e.Name()) {
			continue
		}
		full := filepath.Join(dir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(full)
			if err != nil || !s.underRoot(real) {
				continue
			}
			if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
				continue
			}
		} else if !e.IsDir() {
			continue
		}
		if len(out.Folders) == maxFolders {
			out.Truncated = true
			break
		}
		out.Folders = append(out.Folders, folder{Name: e.Name(), Path: full})
	}
	slices.SortFunc(out.Folders, func(a, b folder) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Name, b.Name))
	})
	writeJSON(w, http.StatusOK, out)
}
