package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Config is the whole config file. Every key is optional: the zero value of
// each field means "use the default", and [Config.WithDefaults] fills the
// defaults in. The package documentation lists every key with its default.
type Config struct {
	// Name is the friendly name shown to players, TVs and on the status
	// page. Default: "Media on <hostname>".
	Name string `yaml:"name,omitempty"`
	// FTP configures the FTP server.
	FTP FTP `yaml:"ftp,omitempty"`
	// Shares are the folders served, each as /<name> on the FTP server.
	Shares []Share `yaml:"shares,omitempty"`
	// Users are the named accounts. A user logs in to FTP (and to the
	// status page's /files) with a name and password and sees the public
	// shares and the private shares whose Access lists them.
	Users []User `yaml:"users,omitempty"`
	// Anonymous allows anonymous FTP logins (USER anonymous or ftp); nil
	// means allowed. Use [Config.AnonymousOn].
	Anonymous *bool `yaml:"anonymous,omitempty"`
	// TLS configures FTPS (and HTTPS for the status page with web.tls).
	TLS TLS `yaml:"tls,omitempty"`
	// Web configures the status page.
	Web Web `yaml:"web,omitempty"`
	// MDNS configures the mDNS/DNS-SD advertisement.
	MDNS MDNS `yaml:"mdns,omitempty"`
	// DLNA configures the DLNA/UPnP media server that TVs browse.
	DLNA DLNA `yaml:"dlna,omitempty"`
	// StateDir is the folder where mediaftpd keeps what it must remember
	// across restarts: the DLNA device's identity and the positions TVs
	// asked to resume from. Default: see [DefaultStateDir].
	StateDir string `yaml:"state_dir,omitempty"`
	// Thumbnails chooses where the pictures of videos without artwork
	// come from: "" (the default) makes none, ThumbnailsFFmpeg grabs a
	// frame with ffmpeg when it is installed.
	Thumbnails string `yaml:"thumbnails,omitempty"`
}

// ThumbnailsFFmpeg, as thumbnails, grabs a frame of a video that has no
// artwork with ffmpeg.
const ThumbnailsFFmpeg = "ffmpeg"

// FTP configures the FTP server.
type FTP struct {
	// Listen is the control connection's host:port. Default ":21".
	Listen string `yaml:"listen,omitempty"`
	// PassivePorts is the range of ports offered for passive data
	// connections, written "50000-50100". The zero value means any free port.
	PassivePorts PortRange `yaml:"passive_ports,omitempty"`
	// MaxClients is the most sessions served at once. Zero means the
	// default, 200.
	MaxClients int `yaml:"max_clients,omitempty"`
	// MaxPerIP is the most sessions served at once to one IP address. Zero
	// means the default, 16 (or MaxClients if that is smaller).
	MaxPerIP int `yaml:"max_per_ip,omitempty"`
	// IdleTimeout closes a session that has sent no command for this long
	// while no transfer is running. Zero means the default, 5m.
	IdleTimeout time.Duration `yaml:"idle_timeout,omitempty"`
}

// Share is one shared folder.
type Share struct {
	// Name is the folder clients see at the top level: /<Name>.
	Name string `yaml:"name,omitempty"`
	// Path is the absolute host path of the folder. It need not exist yet.
	Path string `yaml:"path,omitempty"`
	// RescanInterval selects how changes are noticed: zero watches the
	// folder with inotify; a positive interval rescans it that often, for
	// network mounts where inotify sees nothing.
	RescanInterval time.Duration `yaml:"rescan_interval,omitempty"`
	// Access says who sees the share: nil (written "public", the default)
	// is everyone, anonymous clients included; a list of user names makes
	// the share private to those users.
	Access Access `yaml:"access,omitempty"`
	// Line is the line of this share in the config file, for error
	// messages. It is zero when the share did not come from a file.
	Line int `yaml:"-"`
}

// Web configures the status page.
type Web struct {
	// Listen is the status page's host:port. Default ":8021"; "off"
	// disables the status page.
	Listen string `yaml:"listen,omitempty"`
	// PasswordHash is the admin password's hash, written by
	// `mediaftpd passwd`.
	PasswordHash string `yaml:"password_hash,omitempty"`
	// ShareRoots are the absolute folders under which the status page may
	// create shares. Default: /media, /mnt and /srv.
	ShareRoots []string `yaml:"share_roots,omitempty"`
	// TLS serves the status page over HTTPS with the certificate of the
	// tls section, and redirects plain HTTP requests to it.
	TLS bool `yaml:"tls,omitempty"`
}

// MDNS configures the mDNS/DNS-SD advertisement.
type MDNS struct {
	// Enabled turns advertising on or off; nil means on. Use [MDNS.On].
	Enabled *bool `yaml:"enabled,omitempty"`
	// Interfaces are the network interfaces to advertise on. Empty means
	// every interface that is up, multicast-capable and not loopback.
	Interfaces []string `yaml:"interfaces,omitempty"`
}

// DLNA configures the DLNA/UPnP media server.
type DLNA struct {
	// Enabled turns the DLNA server on or off; nil means on. Use
	// [DLNA.On].
	Enabled *bool `yaml:"enabled,omitempty"`
	// Listen is the host:port of its HTTP side (device description,
	// control, events and media). Default ":8200"; "off" turns DLNA off.
	Listen string `yaml:"listen,omitempty"`
	// NotifyInterval is how often the server announces itself on the
	// network (SSDP). Default 60s; from 10s to 15m.
	NotifyInterval time.Duration `yaml:"notify_interval,omitempty"`
	// Allow lists who may use the server, as addresses or CIDR prefixes
	// like 192.168.1.0/24. Empty means private, link-local and loopback
	// addresses: the home network.
	Allow []string `yaml:"allow,omitempty"`
	// Interfaces are the network interfaces to announce on. Empty means
	// every interface that is up, multicast-capable and not loopback.
	Interfaces []string `yaml:"interfaces,omitempty"`
}

// The defaults that [Config.WithDefaults] fills in.
const (
	DefaultFTPListen          = ":21"
	DefaultMaxClients         = 200
	DefaultMaxPerIP           = 16
	DefaultIdleTimeout        = 5 * time.Minute
	DefaultWebListen          = ":8021"
	DefaultDLNAListen         = ":8200"
	DefaultDLNANotifyInterval = time.Minute
)

// Bounds of dlna.notify_interval. Announcements last 30 minutes
// (max-age=1800), and TVs forget servers whose announcements they have not
// seen lately, so they are sent at least every 15 minutes.
const (
	MinDLNANotifyInterval = 10 * time.Second
	MaxDLNANotifyInterval = 15 * time.Minute
)

// Off, as web.listen or dlna.listen, disables the status page or the DLNA
// server.
const Off = "off"

// fallbackName is the friendly name when the hostname is unknown.
const fallbackName = "Media server"

// DefaultShareRoots returns the default [Web.ShareRoots]. It returns a new
// slice on each call.
func DefaultShareRoots() []string { return []string{"/media", "/mnt", "/srv"} }

// Errors, for errors.Is. Every problem that [Parse], [Load] and
// [Config.Validate] report matches one of them; several problems are
// joined with errors.Join. (Load's failure to read the file is reported
// as the os error, so errors.Is(err, fs.ErrNotExist) works.)
var (
	// ErrSyntax: the file is not well-formed YAML.
	ErrSyntax = errors.New("YAML syntax error")
	// ErrUnknownKey: the file has a key this version does not know
	// (usually a typo), or a key appears twice.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalid: a value has the wrong type or is out of range.
	ErrInvalid = errors.New("invalid value")
	// ErrDuplicateShare: two shares have names that are equal ignoring case.
	ErrDuplicateShare = errors.New("duplicate share name")
)

// hostname is os.Hostname, replaced in tests.
var hostname = os.Hostname

// Load reads the config file at path and parses it with [Parse]. Errors
// name the file; a missing file gives an error that matches fs.ErrNotExist.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a config file's contents. Name is the file
// name used in error messages. Unknown keys, wrongly typed values and
// invalid values are all reported at once, one per line of the returned
// error, each as "name:line: ...". An empty file, or one holding only
// comments, is a valid empty config. On error Parse returns a nil *Config.
func Parse(name string, data []byte) (*Config, error) {
	c, lines, probs := decode(name, data)
	if c != nil {
		probs = append(probs, c.validate(name, lines)...)
	}
	if len(probs) > 0 {
		return nil, joinProblems(probs)
	}
	return c, nil
}

// Validate reports every problem with c, as [Parse] does for a file. A
// folder that does not exist is not a problem: a USB disk may not be
// plugged in yet. Shares with a Line are reported at that line; other
// values are named by their key path, like "ftp.listen".
func (c *Config) Validate() error {
	return joinProblems(c.validate("", nil))
}

// WithDefaults returns a copy of c with every unset value replaced by its
// default. It does not modify c, and the copy shares no slices or pointers
// with c. Shares get no default: deciding what to share when none are
// configured is up to the caller.
func (c Config) WithDefaults() Config {
	d := c
	d.Shares = slices.Clone(c.Shares)
	for i := range d.Shares {
		d.Shares[i].Access = slices.Clone(c.Shares[i].Access)
	}
	d.Users = slices.Clone(c.Users)
	anon := c.AnonymousOn()
	d.Anonymous = &anon
	require := c.TLS.RequireOn()
	d.TLS.RequireForUsers = &require
	d.Web.ShareRoots = slices.Clone(c.Web.ShareRoots)
	d.MDNS.Interfaces = slices.Clone(c.MDNS.Interfaces)
	on := c.MDNS.On()
	d.MDNS.Enabled = &on
	d.DLNA.Allow = slices.Clone(c.DLNA.Allow)
	d.DLNA.Interfaces = slices.Clone(c.DLNA.Interfaces)
	dlnaOn := c.DLNA.On()
	d.DLNA.Enabled = &dlnaOn

	if d.Name == "" {
		d.Name = defaultName()
	}
	if d.FTP.Listen == "" {
		d.FTP.Listen = DefaultFTPListen
	}
	if d.FTP.MaxClients == 0 {
		d.FTP.MaxClients = DefaultMaxClients
	}
	if d.FTP.MaxPerIP == 0 {
		d.FTP.MaxPerIP = min(DefaultMaxPerIP, d.FTP.MaxClients)
	}
	if d.FTP.IdleTimeout == 0 {
		d.FTP.IdleTimeout = DefaultIdleTimeout
	}
	if d.Web.Listen == "" {
		d.Web.Listen = DefaultWebListen
	}
	if len(d.Web.ShareRoots) == 0 {
		d.Web.ShareRoots = DefaultShareRoots()
	}
	if d.DLNA.Listen == "" {
		d.DLNA.Listen = DefaultDLNAListen
	}
	if d.DLNA.NotifyInterval == 0 {
		d.DLNA.NotifyInterval = DefaultDLNANotifyInterval
	}
	if d.StateDir == "" {
		d.StateDir = DefaultStateDir()
	}
	return d
}

// DefaultStateDir returns the default [Config.StateDir]: $STATE_DIRECTORY
// when systemd sets it (StateDirectory= in the unit; the first of several),
// else $XDG_STATE_HOME/mediaftpd, else ~/.local/state/mediaftpd. It is ""
// when none of them is known.
func DefaultStateDir() string {
	if dirs := os.Getenv("STATE_DIRECTORY"); dirs != "" {
		first, _, _ := strings.Cut(dirs, ":")
		return first
	}
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "mediaftpd")
	}
	if home, err := os.UserHomeDir(); err == nil && filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "state", "mediaftpd")
	}
	return ""
}

// defaultName is "Media on <hostname>", with the hostname cut at its first
// dot and the whole at 63 bytes, or "Media server" when the hostname is
// unknown.
func defaultName() string {
	h, err := hostname()
	h, _, _ = strings.Cut(h, ".")
	if err != nil || h == "" {
		return fallbackName
	}
	name := "Media on " + h
	for len(name) > maxNameBytes { // keep it a valid mDNS name
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// On reports whether mDNS advertising is enabled: true unless Enabled is
// set to false. A nil *MDNS is on.
func (c *MDNS) On() bool {
	return c == nil || c.Enabled == nil || *c.Enabled
}

// On reports whether the DLNA server is enabled: true unless Enabled is
// set to false or Listen is "off". A nil *DLNA is on.
func (c *DLNA) On() bool {
	return c == nil || (c.Enabled == nil || *c.Enabled) && c.Listen != Off
}
