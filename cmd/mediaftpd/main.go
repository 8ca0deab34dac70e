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
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=1.2.3".
var version = ""

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // failed while running
	exitUsage = 2 // bad command line or config: nothing was started
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, returning its exit code: it parses the command
// line and the config file, and runs the app until SIGINT or SIGTERM.
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

	a, err := newApp(opts, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "mediaftpd: %v\n", err)
		if errors.Is(err, errBadShares) || errors.Is(err, errStateInUse) {
			return exitUsage
		}
		return exitError
	}
	a.hup = hup

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal kills at once
	}()
	if err := a.Run(ctx); err != nil {
		log.Error("stopped", "err", err)
		return exitError
	}
	return exitOK
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
