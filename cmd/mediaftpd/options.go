package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/library"
)

// options is the parsed command line.
type options struct {
	configPath  string
	listen      string
	listenGiven bool // -listen was on the command line
	pasvPorts   config.PortRange
	web         string
	name        string
	mdns        bool
	mdnsGiven   bool
	dlna        string // -dlna ADDR or "off"
	stateDir    string
	version     bool
	debug       bool
	shareArgs   []string // DIR or NAME=DIR
}

const usageText = `Usage: mediaftpd [flags] [DIR | NAME=DIR ...]

Serves each DIR read-only to anonymous FTP clients, as a share named after
its last path element (or NAME). With no DIR and no config file, the
current folder is shared.

Flags:
`

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("mediaftpd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\nmediaftpd passwd -config FILE   read the admin password from stdin, store its hash\n")
	}
	fs.StringVar(&o.configPath, "config", "", "YAML config `file`")
	fs.StringVar(&o.listen, "listen", "", "FTP control `address` (default \":21\", or \":2121\" when port 21 is not permitted)")
	fs.Var(&o.pasvPorts, "pasv-ports", "passive port range `LO-HI` (default: any free port)")
	fs.StringVar(&o.web, "web", "", "status page `address` (default \":8021\"; \"off\" disables it)")
	fs.StringVar(&o.name, "name", "", "friendly `name` (default \"Media on <hostname>\")")
	fs.BoolVar(&o.mdns, "mdns", true, "advertise over mDNS/DNS-SD")
	fs.StringVar(&o.dlna, "dlna", "", "DLNA media server `address` for TVs (default \":8200\"; \"off\" disables it)")
	fs.StringVar(&o.stateDir, "state-dir", "", "`folder` for what is kept across restarts (default $STATE_DIRECTORY, or ~/.local/state/mediaftpd)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.BoolVar(&o.debug, "debug", false, "log protocol detail")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			o.listenGiven = true
		case "mdns":
			o.mdnsGiven = true
		}
	})
	o.shareArgs = fs.Args()
	return o, nil
}

// config loads the config file, if any, applies the command line over it,
// fills in defaults and validates the result.
func (o *options) config() (config.Config, error) {
	cfg := &config.Config{}
	if o.configPath != "" {
		var err error
		if cfg, err = config.Load(o.configPath); err != nil {
			return config.Config{}, err
		}
	}
	// Port 21 falls back to 2121 only when no one asked for it.
	o.listenGiven = o.listenGiven || cfg.FTP.Listen != ""
	if o.listen != "" {
		cfg.FTP.Listen = o.listen
	}
	if !o.pasvPorts.IsZero() {
		cfg.FTP.PassivePorts = o.pasvPorts
	}
	if o.web != "" {
		cfg.Web.Listen = o.web
	}
	if o.name != "" {
		cfg.Name = o.name
	}
	if o.mdnsGiven {
		cfg.MDNS.Enabled = &o.mdns
	}
	if o.dlna != "" {
		cfg.DLNA.Listen = o.dlna
		if o.dlna != config.Off {
			on := true
			cfg.DLNA.Enabled = &on
		}
	}
	if o.stateDir != "" {
		abs, err := filepath.Abs(o.stateDir)
		if err != nil {
			return config.Config{}, fmt.Errorf("-state-dir: %w", err)
		}
		cfg.StateDir = abs
	}
	args := o.shareArgs
	if len(args) == 0 && o.configPath == "" {
		// Only with no config at all: a config file whose last share was
		// removed from the status page shares nothing, not the working
		// folder (which for a service is "/").
		args = []string{"."}
	}
	for _, arg := range args {
		sh, err := shareArg(arg)
		if err != nil {
			return config.Config{}, err
		}
		cfg.Shares = append(cfg.Shares, sh)
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, err
	}
	return cfg.WithDefaults(), nil
}

// shareArg parses a DIR or NAME=DIR argument. The folder must exist: a
// typo on the command line is an error, unlike a missing disk named in the
// config file.
func shareArg(arg string) (config.Share, error) {
	name, dir := "", arg
	if _, err := os.Stat(arg); err != nil {
		if n, d, ok := strings.Cut(arg, "="); ok && n != "" {
			name, dir = n, d
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return config.Share{}, fmt.Errorf("share %q: %w", arg, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return config.Share{}, fmt.Errorf("share %q: folder %s does not exist", arg, abs)
	case err != nil:
		return config.Share{}, fmt.Errorf("share %q: %w", arg, err)
	case !fi.IsDir():
		return config.Share{}, fmt.Errorf("share %q: %s is not a folder", arg, abs)
	}
	if name == "" {
		name = filepath.Base(abs)
		if name == string(filepath.Separator) {
			name = "root"
		}
	}
	if err := library.CheckName(name); err != nil {
		return config.Share{}, fmt.Errorf("share %q: %w (give one with NAME=DIR)", arg, err)
	}
	return config.Share{Name: name, Path: abs}, nil
}
