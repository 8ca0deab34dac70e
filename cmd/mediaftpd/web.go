package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/web"
)

// statusPage is the running status page, or a nil *statusPage when the
// page is off.
type statusPage struct {
	page   *web.Server
	srv    *http.Server
	addr   *net.TCPAddr // where it listens
	served chan error
}

// startStatusPage serves the status page unless web.listen is "off".
func startStatusPage(cfg config.Config, configPath string, set *library.Set, ftp *ftpd.Server, ftpAddr string,
	mdns func() web.MDNSState, log *slog.Logger) (*statusPage, error) {
	if cfg.Web.Listen == config.WebOff {
		return nil, nil
	}
	l, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	page := &web.Server{
		Shares:       set,
		Sessions:     ftp.Sessions,
		FTPAddr:      ftpAddr,
		Name:         cfg.Name,
		Version:      versionString(),
		Started:      time.Now(),
		ConfigPath:   configPath, // "" without -config: changes are not saved, and the page says so
		PasswordHash: cfg.Web.PasswordHash,
		ShareRoots:   cfg.Web.ShareRoots,
		Logger:       log.With("component", "web"),
		MDNS:         mdns,
	}
	p := &statusPage{
		page: page,
		srv: &http.Server{
			Handler:           page.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second, // request bodies are a few KiB
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    16 << 10,
			// No WriteTimeout: a browser may stream a film for hours. The
			// live update stream sets its own deadline per event.
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		addr:   l.Addr().(*net.TCPAddr),
		served: make(chan error, 1),
	}
	p.srv.RegisterOnShutdown(page.CloseStreams)
	go func() { p.served <- p.srv.Serve(l) }()
	log.Info("status page", "addr", l.Addr().String())
	return p, nil
}

// port is the page's TCP port, 0 when the page is off.
func (p *statusPage) port() int {
	if p == nil {
		return 0
	}
	return p.addr.Port
}

// editShares runs fn while no share change from the page is under way;
// see web.Server.EditShares. Without a page it just runs fn.
func (p *statusPage) editShares(fn func()) {
	if p == nil {
		fn()
		return
	}
	p.page.EditShares(fn)
}

// stopped delivers the error of a status page that stopped by itself; for
// no page it is nil, which blocks forever in a select.
// setPasswordHash gives the page a new admin password hash; see
// web.Server.SetPasswordHash. Without a page there is nothing to do.
func (p *statusPage) setPasswordHash(hash string) error {
	if p == nil {
		return nil
	}
	return p.page.SetPasswordHash(hash)
}

func (p *statusPage) stopped() <-chan error {
	if p == nil {
		return nil
	}
	return p.served
}

// shutdown stops the page: its live streams end at once, and file
// downloads get the same grace as FTP transfers.
func (p *statusPage) shutdown(ctx context.Context) {
	if p == nil {
		return
	}
	if err := p.srv.Shutdown(ctx); err != nil {
		p.srv.Close()
	}
	<-p.served
}

// passwd is `mediaftpd passwd -config FILE`.
func passwd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := web.Passwd(args, stdin, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, web.ErrUsage):
		return exitUsage // the usage is printed
	}
	fmt.Fprintf(stderr, "mediaftpd passwd: %v\n", err)
	return exitError
}
