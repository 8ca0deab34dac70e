package web

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
