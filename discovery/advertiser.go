package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// Service is one DNS-SD service to advertise.
type Service struct {
	// Type is the service type: an underscore name of at most 15
	// characters and the protocol, like "_ftp._tcp".
	Type string
	// Port is the TCP (or UDP) port the service listens on.
	Port int
	// Text are the strings of the TXT record, "key=value" each, at most
	// 255 bytes each. Empty means a TXT record with one empty string, as
	// RFC 6763 6.1 requires.
	Text []string
}

// FTP returns the anonymous FTP service on port: type "_ftp._tcp" with TXT
// "path=/". There is no "u" or "p" key: clients log in anonymously.
func FTP(port int) Service {
	return Service{Type: "_ftp._tcp", Port: port, Text: []string{"path=/"}}
}

// HTTP returns the status page on port: type "_http._tcp" with TXT
// "path=/".
func HTTP(port int) Service {
	return Service{Type: "_http._tcp", Port: port, Text: []string{"path=/"}}
}

// DefaultPollInterval is how often interfaces and addresses are checked
// when [Advertiser.PollInterval] is zero. A change is advertised within
// about this long plus one second of probing.
const DefaultPollInterval = 2 * time.Second

// Errors, for errors.Is.
var (
	// ErrInvalid: the Advertiser's fields cannot be advertised (no name,
	// no service, a malformed service type, port or TXT string). Run
	// returns it at once.
	ErrInvalid = errors.New("invalid mDNS advertisement")
	// ErrNoInterface: no interface is up, multicast-capable, selected
	// and addressed. Run does not return it: it keeps waiting for one
	// (a Pi gets its DHCP lease after services start) and shows it in
	// [Status.LastError].
	ErrNoInterface = errors.New("no multicast-capable network interface with an address")
)

// Advertiser announces services over multicast DNS (RFC 6762) with DNS
// service discovery (RFC 6763), so players on the LAN list them by name.
// Set the exported fields, then call Run once; Status may be called at any
// time, also on a nil *Advertiser.
type Advertiser struct {
	// Name is the instance name players show, like "Living Room Media";
	// required. It is cut to 63 bytes. If another device on the network
	// uses it, the services are advertised as "Name (2)" (then (3), ...)
	// and a warning is logged.
	Name string
	// Services are advertised under Name; at least one is required, and
	// no type twice.
	Services []Service
	// Interfaces are the names of the network interfaces to advertise
	// on. Empty means every interface that is up, multicast-capable and
	// not loopback. A named interface may be missing at start: it is used
	// once it appears.
	Interfaces []string
	// Host is the host label that the services' SRV records point to,
	// advertised as "<Host>.local" with each interface's own addresses.
	// Empty means "<hostname>-mediaftpd", which stays clear of the
	// "<hostname>.local" that avahi-daemon publishes. It is renamed
	// "<Host>-2" if taken.
	Host string
	// Logger receives the interfaces used, renames and problems at info
	// and warn level; nil means slog.Default().
	Logger *slog.Logger
	// PollInterval is how often interfaces and addresses are checked;
	// zero means DefaultPollInterval.
	PollInterval time.Duration

	mu     sync.Mutex // guards status
	status *Status    // nil until Run first publishes

	// For tests: replacements for the system's interface list and sockets.
	listInterfaces func(names []string) ([]netif.Interface, []string, error)
	openTransport  func(in chan<- inPacket, log *slog.Logger) (mcast.Transport[outPacket], error)
}

// Status is what is advertised, and where, at one moment: the status model
// of discovery, which the status page shows and its API returns as it is.
type Status struct {
	// Enabled is false only for a nil *Advertiser (mDNS turned off).
	Enabled bool `json:"enabled"`
	// Advertising is true while the services are announced on at least
	// one interface.
	Advertising bool `json:"advertising"`
	// Name is the instance name in use: Name, or "Name (2)" after a
	// conflict.
	Name string `json:"name"`
	// Host is the host name the SRV records point to, like
	// "pi-mediaftpd.local".
	Host string `json:"host"`
	// Services are the advertised services.
	Services []ServiceStatus `json:"services"`
	// Interfaces are the interfaces in use with the addresses advertised
	// on each.
	Interfaces []InterfaceStatus `json:"interfaces"`
	// LastError describes what keeps discovery from working fully, such
	// as no usable interface; empty when all is well.
	LastError string `json:"error,omitempty"`
}

// ServiceStatus is one advertised service.
type ServiceStatus struct {
	Type     string   `json:"type"`     // "_ftp._tcp"
	Instance string   `json:"instance"` // "Living Room Media._ftp._tcp.local"
	Port     int      `json:"port"`
	Text     []string `json:"txt"`
}

// InterfaceStatus is one interface in use.
type InterfaceStatus struct {
	Name string `json:"name"`
	// Addrs are the addresses advertised on it, IPv4 first.
	Addrs []netip.Addr `json:"addrs"`
	// State is "probing" (checking the names are free), "announcing"
	// or "announced".
	State string `json:"state"`
}

// Status returns a snapshot of what is advertised and where. On a nil
// *Advertiser it reports Enabled false.
func (a *Advertiser) Status() Status {
	if a == nil {
		return Status{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.status == nil {
		return Status{Enabled: true, Name: a.Name}
	}
	s := *a.status
	s.Services = slices.Clone(s.Services)
	for i := range s.Services {
		s.Services[i].Text = slices.Clone(s.Services[i].Text)
	}
	s.Interfaces = slices.Clone(s.Interfaces)
	for i := range s.Interfaces {
		s.Interfaces[i].Addrs = slices.Clone(s.Interfaces[i].Addrs)
	}
	return s
}

func (a *Advertiser) publish(s Status) {
	a.mu.Lock()
	a.status = &s
	a.mu.Unlock()
}

var serviceType = regexp.MustCompile(`^_[A-Za-z0-9]([A-Za-z0-9-]{0,13}[A-Za-z0-9])?\._(tcp|udp)$`)
var hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// check reports the first problem with the fields, wrapping ErrInvalid.
func (a *Advertiser) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	switch {
	case strings.TrimSpace(a.Name) == "":
		return bad("no name")
	case !utf8.ValidString(a.Name):
		return bad("name %q is not UTF-8", a.Name)
	case strings.ContainsFunc(a.Name, unicode.IsControl):
		return bad("name %q has control characters", a.Name)
	case len(a.Services) == 0:
		return bad("no services")
	case a.Host != "" && !hostLabel.MatchString(a.Host):
		return bad("host %q is not a host name label (letters, digits, hyphens)", a.Host)
	}
	seen := map[string]bool{}
	for _, s := range a.Services {
		switch {
		case !serviceType.MatchString(s.Type):
			return bad("service type %q is not like _name._tcp", s.Type)
		case seen[strings.ToLower(s.Type)]:
			return bad("service type %s twice", s.Type)
		case s.Port < 1 || s.Port > 65535:
			return bad("%s port %d out of range", s.Type, s.Port)
		}
		seen[strings.ToLower(s.Type)] = true
		for _, txt := range s.Text {
			if len(txt) > 255 {
				return bad("%s TXT string longer than 255 bytes", s.Type)
			}
		}
	}
	return nil
}

// Run advertises the services until ctx is done, then sends goodbyes
// (every record with TTL 0, twice in case one is lost) so browsers drop
// the entries at once, and returns nil. It returns an error wrapping ErrInvalid at once if the
// fields are unusable. Everything that can go wrong later (no interface,
// sockets that cannot be opened, a name taken) is logged, shown in
// Status and retried: a failing discovery must not stop the FTP server.
//
// Run follows the interfaces: one that comes up, gets or loses an address
// is probed and announced, or re-announced, within PollInterval.
func (a *Advertiser) Run(ctx context.Context) error {
	if err := a.check(); err != nil {
		return err
	}
	log := a.Logger
	if log == nil {
		log = slog.Default()
	}
	host := a.Host
	if host == "" {
		h, _ := os.Hostname()
		host = defaultHost(h)
	}
	interval := a.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	open := a.openTransport
	if open == nil {
		open = openUDP
	}
	services := make([]Service, len(a.Services))
	for i, s := range a.Services {
		services[i] = Service{Type: s.Type, Port: s.Port, Text: slices.Clone(s.Text)}
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	e := newEngine(strings.TrimSpace(a.Name), host, services, log, rng)

	loop := &mcast.Loop[inPacket, outPacket]{
		Name:         "mDNS",
		Engine:       e,
		Log:          log,
		Interfaces:   slices.Clone(a.Interfaces),
		Usable:       netif.Interface.Active,
		NoInterface:  ErrNoInterface,
		PollInterval: interval,
		List:         a.listInterfaces,
		Open:         open,
		Publish: func(problem string, stopped bool) {
			st := e.status()
			st.LastError = problem
			if stopped {
				st.Advertising, st.Interfaces = false, nil
			}
			a.publish(st)
		},
	}
	if loop.Run(ctx) {
		log.Info("mDNS: sent goodbyes", "name", e.names().instance)
	}
	return nil
}
