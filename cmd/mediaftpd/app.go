package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mediaftpd/mediaftpd/accounts"
	"github.com/mediaftpd/mediaftpd/discovery"
	"github.com/mediaftpd/mediaftpd/dlna"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/internal/tlscert"
	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/library/store"
	"github.com/mediaftpd/mediaftpd/library/thumb"
)

// fallbackListen is used when the default port 21 needs privileges we lack.
const fallbackListen = ":2121"

// shutdownGrace is how long running transfers may go on after SIGTERM.
const shutdownGrace = 5 * time.Second

// Errors of newApp that mean exit code 2: nothing was started.
var (
	// errBadShares: the shares of the config and command line cannot be
	// served.
	errBadShares = errors.New("bad shares")
	// errStateInUse: another mediaftpd uses the state folder.
	errStateInUse = errors.New("state folder in use")
)

// app is the running server: the shares and their index, and the services
// over them. newApp makes every part and opens the listeners, so that a
// port in use is an error before anything runs; Run runs them.
//
// Run starts, in this order: the index (FTP answers while it scans), the
// FTP server, the status page, the DLNA server, the config reloader
// (SIGHUP), the memory reclaimer, and the announcements: mDNS and SSDP. It
// stops them when its context ends (SIGINT, SIGTERM) or when one of them
// fails, in this order:
//  1. at once: mDNS and SSDP send their goodbyes (byebye), reloads stop,
//     and the FTP server, the status page and the DLNA server stop
//     accepting, letting running transfers and streams go on for up to
//     shutdownGrace;
//  2. once all three have stopped: the index, which they read until then.
type app struct {
	log     *slog.Logger
	cfg     config.Config
	set     *library.Set
	shares  *library.Manager
	users   *accounts.Users
	userMgr *accounts.Manager
	certs   *tlscert.Source // nil without a certificate: no TLS
	ftp     *ftpd.Server
	ftpL    net.Listener
	ftpsL   net.Listener    // implicit FTPS (tls.implicit_listen), or nil
	page    *statusPage     // nil when the page is off
	dlna    *dlnaServer     // nil when DLNA is off
	store   *store.Store    // nil when there is no state folder
	prober  *library.Prober // nil without a store
	thumbs  *thumb.Cache    // in <state folder>/thumbs; nil without a store
	adv     *discovery.Advertiser
	reloads *reloader
	hup     <-chan os.Signal // SIGHUP; nil means no reloads
}

// newApp makes the app for cfg, the config in force (opts applied over the
// file). It fails with errBadShares when the shares cannot be served.
func newApp(opts *options, cfg config.Config, log *slog.Logger) (*app, error) {
	for _, sh := range cfg.Shares {
		warnMissing(log, sh)
	}
	set, err := library.NewSet(libraryShares(cfg)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadShares, err)
	}
	set.Logger = log
	a := &app{
		log:    log,
		cfg:    cfg,
		set:    set,
		shares: &library.Manager{Set: set, ConfigPath: opts.configPath, Logger: log},
	}
	if err := a.openStore(); err != nil {
		return nil, err
	}
	if a.ftpL, err = listen(cfg.FTP.Listen, opts.listenGiven, log); err != nil {
		a.closeStore()
		return nil, err
	}
	if err := a.newAccounts(opts.configPath); err != nil {
		a.ftpL.Close()
		a.closeStore()
		return nil, err
	}
	a.ftp = &ftpd.Server{
		Shares:             set,
		Name:               cfg.Name,
		Logger:             log,
		PasvMin:            cfg.FTP.PassivePorts.Lo,
		PasvMax:            cfg.FTP.PassivePorts.Hi,
		MaxClients:         cfg.FTP.MaxClients,
		MaxPerIP:           cfg.FTP.MaxPerIP,
		IdleTimeout:        cfg.FTP.IdleTimeout,
		Accounts:           ftpAccounts{a.users},
		RequireTLSForUsers: cfg.TLS.RequireOn(),
	}
	if a.certs != nil {
		a.ftp.TLSConfig = a.certs.ServerConfig()
	}
	if cfg.TLS.ImplicitListen != "" {
		if a.certs == nil {
			a.log.Warn("tls.implicit_listen is set, but there is no certificate: implicit FTPS is off")
		} else if a.ftpsL, err = net.Listen("tcp", cfg.TLS.ImplicitListen); err != nil {
			a.ftpL.Close()
			a.closeStore()
			return nil, fmt.Errorf("implicit FTPS: %w", err)
		}
	}
	// mDNS/DNS-SD advertisement (nil when -mdns=false; its Status then
	// says disabled).
	if cfg.MDNS.On() {
		a.adv = &discovery.Advertiser{
			Name:       cfg.Name,
			Services:   []discovery.Service{discovery.FTP(a.ftpL.Addr().(*net.TCPAddr).Port)},
			Interfaces: cfg.MDNS.Interfaces,
			Logger:     log,
		}
	}
	if a.dlna, err = newDLNA(a); err != nil {
		a.closeListeners()
		a.closeStore()
		return nil, err
	}
	if a.page, err = newStatusPage(a); err != nil {
		a.closeListeners()
		a.dlna.close()
		a.closeStore()
		return nil, err
	}
	if port := a.page.port(); port != 0 && a.adv != nil {
		a.adv.Services = append(a.adv.Services, discovery.HTTP(port))
	}
	a.reloads = &reloader{opts: opts, running: cfg, shares: a.shares, users: a.userMgr, certs: a.certs, ftp: a.ftp,
		setPasswordHash: a.page.setPasswordHash, setDLNAAllow: a.dlna.setAllow, log: log}
	return a, nil
}

// Run runs the app until ctx ends or a service fails, and stops it in the
// order the type's documentation gives. It returns nil after a stop asked
// for by ctx, or the error of the service that failed.
func (a *app) Run(ctx context.Context) error {
	// The index runs until the front ends that read it have stopped.
	indexCtx, stopIndex := context.WithCancel(context.Background())
	indexed := make(chan error, 1)
	go func() { indexed <- a.set.Run(indexCtx) }()
	defer func() {
		stopIndex()
		<-indexed
		a.closeStore()
		a.log.Info("stopped")
	}()

	g, gctx := errgroup.WithContext(ctx)
	a.log.Info("serving", "name", a.cfg.Name, "version", versionString(), "ftp", a.ftpL.Addr().String(), "shares", len(a.cfg.Shares))
	for _, sh := range a.cfg.Shares {
		a.log.Info("share", "name", sh.Name, "path", sh.Path)
	}
	g.Go(func() error { return served("FTP server", a.ftp.Serve(a.ftpL), ftpd.ErrServerClosed) })
	if a.ftpsL != nil {
		a.log.Info("implicit FTPS", "addr", a.ftpsL.Addr().String())
		g.Go(func() error { return served("implicit FTPS server", a.ftp.ServeTLS(a.ftpsL), ftpd.ErrServerClosed) })
	}
	if a.certs != nil {
		g.Go(func() error {
			a.reloadCerts(gctx)
			return nil
		})
	}
	if a.page != nil {
		g.Go(func() error { return served("status page", a.page.srv.Serve(a.page.l), http.ErrServerClosed) })
	}
	if a.dlna != nil {
		g.Go(func() error { return served("DLNA server", a.dlna.srv.Serve(a.dlna.l), dlna.ErrServerClosed) })
	}
	if a.prober != nil {
		g.Go(func() error { return a.prober.Run(gctx) })
	}
	g.Go(func() error {
		a.reloads.run(gctx, a.hup)
		return nil
	})
	g.Go(func() error {
		newReclaimer(func() int { return len(a.ftp.Sessions()) }).run(gctx, reclaimEvery)
		return nil
	})
	a.announce(g, gctx)
	g.Go(func() error {
		<-gctx.Done()
		a.stopFrontEnds()
		return nil
	})
	return g.Wait() // step 2 of the stop, the index, is deferred above
}

// closeListeners closes the FTP listeners of an app that will not run.
func (a *app) closeListeners() {
	a.ftpL.Close()
	if a.ftpsL != nil {
		a.ftpsL.Close()
	}
}

// served turns what a server's Serve returned into the app's error: nil
// for its closed error (a stop asked for), else what stopped it.
func served(what string, err, closed error) error {
	if errors.Is(err, closed) {
		return nil
	}
	return fmt.Errorf("%s stopped: %w", what, err)
}

// announce runs the announcements, mDNS and SSDP, in g until ctx ends;
// they say goodbye then. Failing to announce never stops the rest: each
// logs and retries by itself, and returns an error only for unusable
// fields.
func (a *app) announce(g *errgroup.Group, ctx context.Context) {
	if a.adv != nil {
		g.Go(func() error {
			if err := a.adv.Run(ctx); err != nil {
				a.log.Error("mDNS advertising failed; serving without it", "err", err)
			}
			return nil
		})
	} else {
		a.log.Info("mDNS advertising is off")
	}
	if a.dlna != nil {
		g.Go(func() error {
			if err := a.dlna.ssdp.Run(ctx); err != nil {
				a.log.Error("SSDP announcing failed; DLNA is served without it", "err", err)
			}
			return nil
		})
	} else {
		a.log.Info("DLNA is off")
	}
}

// stopFrontEnds is step 1 of the stop: the FTP server, the status page and
// the DLNA server stop accepting and let running transfers and streams go
// on for up to shutdownGrace.
func (a *app) stopFrontEnds() {
	a.log.Info("shutting down", "grace", shutdownGrace)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { a.page.shutdown(ctx) })
	wg.Go(func() { a.dlna.shutdown(ctx) })
	if err := a.ftp.Shutdown(ctx); err != nil {
		a.log.Warn("transfers still running were cut off", "err", err)
	}
	wg.Wait()
}

// openStore opens the store in the state folder, and makes the prober that
// fills it. Another mediaftpd using the folder is errStateInUse; a folder
// that cannot be used is a warning: the server then runs without media
// details, as it did before it had them.
func (a *app) openStore() error {
	dir := a.cfg.StateDir
	if dir == "" {
		a.log.Warn("no state folder (set state_dir, or HOME): media details are not kept")
		return nil
	}
	st, err := store.Open(dir, a.log.With("component", "store"))
	switch {
	case errors.Is(err, store.ErrLocked):
		return fmt.Errorf("%w: another mediaftpd uses the state folder %s (stop it, or give this one another -state-dir)", errStateInUse, dir)
	case err != nil:
		a.log.Warn("cannot open the state folder; media details are not kept", "state_dir", dir, "err", err)
		return nil
	}
	a.store = st
	a.prober = &library.Prober{Set: a.set, Store: st, Busy: a.streaming, Logger: a.log.With("component", "details")}
	a.thumbs = &thumb.Cache{Dir: filepath.Join(dir, "thumbs"), Logger: a.log.With("component", "thumbs")}
	if a.cfg.Thumbnails == config.ThumbnailsFFmpeg {
		if _, err := exec.LookPath("ffmpeg"); err != nil {
			a.log.Warn("thumbnails: ffmpeg is not installed, so videos without artwork get no picture", "err", err)
		} else {
			a.thumbs.FFmpeg = "ffmpeg"
		}
	}
	return nil
}

// closeStore closes the store, once nothing uses it any more.
func (a *app) closeStore() {
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Error("closing the store", "err", err)
		}
		a.store = nil
	}
}

// streaming reports whether a file is being sent to a player now, over FTP,
// DLNA or the status page's /files: the prober then backs off.
func (a *app) streaming() bool {
	if a.page != nil && a.page.page.Sending() {
		return true
	}
	if a.ftp != nil {
		for _, si := range a.ftp.Sessions() {
			if si.Transfer != nil && !si.Transfer.Listing {
				return true
			}
		}
	}
	return a.dlna.streaming()
}

// libraryShares returns the shares of cfg for the share set.
func libraryShares(cfg config.Config) []library.Share {
	out := make([]library.Share, len(cfg.Shares))
	for i, sh := range cfg.Shares {
		out[i] = library.Share{Name: sh.Name, Path: sh.Path, RescanInterval: sh.RescanInterval, Access: sh.Access}
	}
	return out
}

// warnMissing logs that the folder of sh is missing, if it is: a USB disk
// not plugged in yet, served once it appears.
func warnMissing(log *slog.Logger, sh config.Share) {
	if fi, err := os.Stat(sh.Path); err != nil || !fi.IsDir() {
		log.Warn("share folder is missing; it will be served once it appears", "share", sh.Name, "path", sh.Path)
	}
}

// listen opens the FTP control listener. When the address is the default
// and binding port 21 is not permitted (not root, no CAP_NET_BIND_SERVICE),
// it falls back to port 2121 and says so.
func listen(addr string, given bool, log *slog.Logger) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err == nil {
		return l, nil
	}
	if given || !errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("FTP listen: %w", err)
	}
	l, err2 := net.Listen("tcp", fallbackListen)
	if err2 != nil {
		return nil, fmt.Errorf("FTP listen: %w (and on %s: %w)", err, fallbackListen, err2)
	}
	log.Warn("no permission to listen on port 21; listening on 2121 instead (run as root or grant CAP_NET_BIND_SERVICE, or set -listen)",
		"addr", fallbackListen)
	return l, nil
}
