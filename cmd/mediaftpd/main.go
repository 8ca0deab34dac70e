// Command mediaftpd serves media folders read-only over FTP to the players
// of a home network. See the README for the command line and the config
// file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/mediaftpd/mediaftpd/discovery"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/library"
	"github.com/mediaftpd/mediaftpd/web"
)

// version is set at build time with -ldflags "-X main.version=1.2.3".
var version = ""

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // failed while running
	exitUsage = 2 // bad command line or config: nothing was started
)

// fallbackListen is used when the default port 21 needs privileges we lack.
const fallbackListen = ":2121"

// shutdownGrace is how long running transfers may go on after SIGTERM.
const shutdownGrace = 5 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, returning its exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "passwd" {
		return passwd(args[1:], os.Stdin, stdout, stderr)
	}
	opts, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "mediaftpd: %v\n", err)
		return exitUsage
	}
	if opts.version {
		fmt.Fprintln(stdout, "mediaftpd", versionString())
		return exitOK
	}
	cfg, err := opts.config()
	if err != nil {
		fmt.Fprintf(stderr, "mediaftpd: %v\n", err)
		return exitUsage
	}

	level := slog.LevelInfo
	if opts.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// SIGHUP reloads the config file. Caught from here on, so that an
	// early one does not end the process, as it would by default.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	shares := make([]library.Share, len(cfg.Shares))
	for i, sh := range cfg.Shares {
		shares[i] = library.Share{Name: sh.Name, Path: sh.Path, RescanInterval: sh.RescanInterval}
		if fi, err := os.Stat(sh.Path); err != nil || !fi.IsDir() {
			// A USB disk not plugged in yet: served once it appears.
			log.Warn("share folder is missing; it will be served once it appears", "share", sh.Name, "path", sh.Path)
		}
	}
	set, err := library.NewSet(shares...)
	if err != nil {
		fmt.Fprintf(stderr, "mediaftpd: %v\n", err)
		return exitUsage
	}
	set.Logger = log

	l, err := listen(cfg.FTP.Listen, opts.listenGiven, log)
	if err != nil {
		fmt.Fprintf(stderr, "mediaftpd: %v\n", err)
		return exitError
	}
	srv := &ftpd.Server{
		Shares:      set,
		Name:        cfg.Name,
		Logger:      log,
		PasvMin:     cfg.FTP.PassivePorts.Lo,
		PasvMax:     cfg.FTP.PassivePorts.Hi,
		MaxClients:  cfg.FTP.MaxClients,
		MaxPerIP:    cfg.FTP.MaxPerIP,
		IdleTimeout: cfg.FTP.IdleTimeout,
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The index runs until the FTP server has stopped.
	indexCtx, stopIndex := context.WithCancel(context.Background())
	indexed := make(chan error, 1)
	go func() { indexed <- set.Run(indexCtx) }()
	defer func() {
		stopIndex()
		<-indexed
	}()
	// mDNS/DNS-SD advertisement (nil when -mdns=false; its Status then
	// says disabled). It runs until ctx ends and says goodbye then.
	var adv *discovery.Advertiser
	if cfg.MDNS.On() {
		adv = &discovery.Advertiser{
			Name:       cfg.Name,
			Services:   []discovery.Service{discovery.FTP(l.Addr().(*net.TCPAddr).Port)},
			Interfaces: cfg.MDNS.Interfaces,
			Logger:     log,
		}
	}
	mdns := func() web.MDNSState {
		st := adv.Status()
		return web.MDNSState{Enabled: st.Enabled, Advertising: st.Advertising, Name: st.Name, Error: st.LastError}
	}
	page, err := startStatusPage(cfg, opts.configPath, set, srv, l.Addr().String(), mdns, log)
	if err != nil {
		l.Close()
		fmt.Fprintf(stderr, "mediaftpd: %v\n", err)
		return exitError
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	log.Info("serving", "name", cfg.Name, "version", versionString(), "ftp", l.Addr().String(), "shares", len(shares))
	for _, sh := range shares {
		log.Info("share", "name", sh.Name, "path", sh.Path)
	}
	reloads := &reloader{opts: opts, running: cfg, set: set, ftp: srv, editShares: page.editShares, setPasswordHash: page.setPasswordHash, log: log}
	reloaded := make(chan struct{})
	go func() {
		defer close(reloaded)
		reloads.run(ctx, hup)
	}()
	go newReclaimer(func() int { return len(srv.Sessions()) }).run(ctx, reclaimEvery)
	advertised := make(chan struct{})
	if adv != nil {
		if port := page.port(); port != 0 {
			adv.Services = append(adv.Services, discovery.HTTP(port))
		}
		go func() {
			defer close(advertised)
			// Failing discovery never stops FTP: Run logs and retries by
			// itself, and returns an error only for unusable fields.
			if err := adv.Run(ctx); err != nil {
				log.Error("mDNS advertising failed; serving without it", "err", err)
			}
		}()
	} else {
		close(advertised)
		log.Info("mDNS advertising is off")
	}
	defer func() {
		stop() // cancels ctx on every way out, not only on a signal
		<-advertised
		<-reloaded
	}() // the goodbyes are sent before exit

	select {
	case err := <-served:
		log.Error("FTP server stopped", "err", err)
		return exitError
	case err := <-page.stopped():
		log.Error("status page stopped", "err", err)
		return exitError
	case <-ctx.Done():
	}
	stop() // a second signal kills at once
	log.Info("shutting down", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	pageStopped := make(chan struct{})
	go func() {
		defer close(pageStopped)
		page.shutdown(sctx)
	}()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("transfers still running were cut off", "err", err)
	}
	<-served
	<-pageStopped
	log.Info("stopped")
	return exitOK
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

// versionString is the version set at build time, or the module version.
func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
