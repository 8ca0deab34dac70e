package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/web"
)

// statusPage is the status page with its listener, or a nil *statusPage
// when the page is off.
type statusPage struct {
	page *web.Server
	srv  *http.Server
	l    net.Listener
}

// newStatusPage makes the status page of a, listening, unless web.listen
// is "off".
func newStatusPage(a *app) (*statusPage, error) {
	cfg := a.cfg
	if cfg.Web.Listen == config.Off {
		return nil, nil
	}
	l, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	page := &web.Server{
		Shares:       a.set,
		Manager:      a.shares, // without -config, changes are not saved, and the page says so
		Sessions:     a.ftp.Sessions,
		FTPAddr:      a.ftpL.Addr().String(),
		Name:         cfg.Name,
		Version:      versionString(),
		Started:      time.Now(),
		PasswordHash: cfg.Web.PasswordHash,
		ShareRoots:   cfg.Web.ShareRoots,
		Logger:       a.log.With("component", "web"),
		MDNS:         a.adv.Status, // a nil *Advertiser says mDNS is off
		DLNA:         a.dlna.statusFunc(),
		// Users log in on the page as over FTP, with one throttle of wrong
		// passwords (the admin's included), and the admin manages them.
		Users:    a.users,
		Accounts: a.userMgr,
	}
	// The certificate's fingerprint is shown to everyone, so that a
	// person can check what their FTPS client or browser asks them to
	// accept; with web.tls the page itself is served over HTTPS with it,
	// plain HTTP on the same port being redirected.
	if a.certs != nil {
		page.Fingerprint = a.certs.Fingerprint
		if cfg.Web.TLS {
			page.TLSConfig = a.certs.ServerConfig()
		}
	} else if cfg.Web.TLS {
		a.log.Warn("web.tls is set, but there is no certificate: the status page is served over plain HTTP")
	}
	// Media details, pictures and resume positions live in the state
	// folder: without one (a nil store) the page shows files as before.
	if a.prober != nil {
		page.Details = a.prober
	}
	if a.thumbs != nil {
		page.Thumbs = a.thumbs
	}
	if a.store != nil {
		page.Positions = a.store // shared with DLNA's Samsung bookmarks
	}
	p := &statusPage{
		page: page,
		l:    page.Listener(l),
		srv: &http.Server{
			Handler:           page.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second, // request bodies are a few KiB
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    16 << 10,
			// No WriteTimeout: a browser may stream a film for hours. The
			// live update stream sets its own deadline per event.
			ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
		},
	}
	p.srv.RegisterOnShutdown(page.CloseStreams)
	a.log.Info("status page", "addr", l.Addr().String(), "https", page.TLSConfig != nil)
	return p, nil
}

// port is the page's TCP port, 0 when the page is off.
func (p *statusPage) port() int {
	if p == nil {
		return 0
	}
	return p.l.Addr().(*net.TCPAddr).Port
}

// setPasswordHash gives the page a new admin password hash; see
// web.Server.SetPasswordHash. Without a page there is nothing to do.
func (p *statusPage) setPasswordHash(hash string) error {
	if p == nil {
		return nil
	}
	return p.page.SetPasswordHash(hash)
}

// endUserSessions ends the page sessions of the named users (removed, or
// given a new password); see web.Server.EndUserSessions. Without a page
// there is nothing to do.
func (p *statusPage) endUserSessions(names []string) {
	if p == nil {
		return
	}
	p.page.EndUserSessions(names)
}

// shutdown stops the page: its live streams end at once, and file
// downloads get the grace that ctx gives, as FTP transfers do.
func (p *statusPage) shutdown(ctx context.Context) {
	if p == nil {
		return
	}
	if err := p.srv.Shutdown(ctx); err != nil {
		p.srv.Close()
	}
}
