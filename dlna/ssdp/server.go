package ssdp

import (
	"cmp"
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

	"github.com/mediaftpd/mediaftpd/internal/mcast"
	"github.com/mediaftpd/mediaftpd/internal/netif"
)

// Defaults for the zero values of Server's fields.
const (
	// DefaultNotifyInterval is how often the NOTIFY ssdp:alive set is
	// sent: Samsung and LG list only servers heard from recently.
	DefaultNotifyInterval = 60 * time.Second
	// DefaultMaxAge is the CACHE-CONTROL max-age announced (UDA 1.1
	// recommends at least 1800 s).
	DefaultMaxAge = 1800 * time.Second
	// DefaultPollInterval is how often interfaces and addresses are
	// checked, as in discovery.
	DefaultPollInterval = 2 * time.Second
	// DefaultServerHeader is the SERVER header when Server.ServerHeader
	// is empty.
	DefaultServerHeader = "Linux UPnP/1.0 mediaftpd"
	// MaxConfigID is the largest CONFIGID.UPNP.ORG value (UDA 1.1
	// 1.2.2; larger values are reserved).
	MaxConfigID = 16777215
)

// Errors, for errors.Is.
var (
	// ErrInvalid: the Server's fields cannot be announced (a UDN that is
	// not "uuid:" and a UUID, a malformed type, no Location, a notify
	// interval not under half the max-age, ...). Run returns it at once.
	ErrInvalid = errors.New("invalid SSDP server")
	// ErrNoInterface: no interface is up, multicast-capable, selected
	// and has an IPv4 address. Run does not return it: it keeps waiting
	// for one (a Pi gets its DHCP lease after services start) and shows
	// it in [Status.LastError].
	ErrNoInterface = errors.New("no multicast-capable network interface with an IPv4 address")

	// errMalformed: a received datagram is not an SSDP message, or an
	// M-SEARCH lacks what UDA requires; it is dropped and counted.
	errMalformed = errors.New("malformed SSDP message")
)

// Server announces one UPnP root device over SSDP (UPnP Device
// Architecture 1.1, section 1) and answers searches for it, over IPv4 on
// 239.255.255.250:1900. Set the exported fields, then call Run once;
// Status may be called at any time, also on a nil *Server.
type Server struct {
	// UDN is the device's unique name, "uuid:" and an RFC 4122 UUID;
	// required. It must stay the same across restarts: TVs cache by it.
	UDN string
	// DeviceType is the root device's type, like
	// "urn:schemas-upnp-org:device:MediaServer:1"; required.
	DeviceType string
	// ServiceTypes are the device's service types, like
	// "urn:schemas-upnp-org:service:ContentDirectory:1" and
	// "urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1"; each is
	// announced and answered.
	ServiceTypes []string
	// Location returns the URL of the device description as reached
	// through local, the IPv4 address of the interface a NOTIFY goes out
	// of or a search came in on; required. It is called from Run's
	// goroutine, must be quick, and must return an absolute URL without
	// spaces or control characters ("" announces nothing there).
	Location func(local netip.Addr) string
	// ServerHeader is the SERVER header, "OS/version UPnP/1.0
	// product/version"; empty means DefaultServerHeader.
	ServerHeader string
	// ConfigID is sent as CONFIGID.UPNP.ORG, 0 to MaxConfigID; it should
	// equal the configId attribute of the device description and change
	// when the description does.
	ConfigID int
	// NotifyInterval is how often the NOTIFY ssdp:alive set is sent on
	// each interface (each set twice, 100-250 ms apart); zero means
	// DefaultNotifyInterval. It must be under half of MaxAge.
	NotifyInterval time.Duration
	// MaxAge is the CACHE-CONTROL max-age, in whole seconds; zero means
	// DefaultMaxAge.
	MaxAge time.Duration
	// Interfaces are the names of the network interfaces to use. Empty
	// means every interface that is up, multicast-capable and not
	// loopback. A named interface may be missing at start: it is used
	// once it appears.
	Interfaces []string
	// Allow reports whether a source address may be answered; packets
	// from others are dropped without a word. Nil means private (RFC
	// 1918), link-local and loopback addresses only. It is called from
	// Run's goroutine for every packet received.
	Allow func(netip.Addr) bool
	// Logger receives the interfaces used and problems at info and warn
	// level, dropped packets at debug level (at most one line every 10 s
	// per reason); nil means slog.Default().
	Logger *slog.Logger
	// PollInterval is how often interfaces and addresses are checked;
	// zero means DefaultPollInterval.
	PollInterval time.Duration

	mu     sync.Mutex // guards status
	status *Status    // nil until Run first publishes

	// For tests: replacements for the system's interface list and
	// sockets.
	listInterfaces func(names []string) ([]netif.Interface, []string, error)
	openTransport  func(in chan<- inPacket, log *slog.Logger) (transport, error)
}

// Status is what is announced, and where, at one moment, with counters
// since Run started.
type Status struct {
	// Enabled is false only for a nil *Server (DLNA turned off).
	Enabled bool `json:"enabled"`
	// Announcing is true while ssdp:alive has gone out on at least one
	// interface and Run has not returned.
	Announcing bool   `json:"announcing"`
	UDN        string `json:"udn"`
	// BootID is the BOOTID.UPNP.ORG of this run: the Unix time Run
	// started.
	BootID int64 `json:"boot_id"`
	// Interfaces are the interfaces in use.
	Interfaces []InterfaceStatus `json:"interfaces"`
	// Searches counts the well-formed M-SEARCH requests received from
	// allowed sources, for any target.
	Searches uint64 `json:"searches"`
	// Answered counts those that were for us and got replies.
	Answered uint64 `json:"answered"`
	// Replies and Notifies count the packets sent: search replies, and
	// NOTIFY ssdp:alive.
	Replies  uint64 `json:"replies"`
	Notifies uint64 `json:"notifies"`
	// Dropped counts the packets that got no answer, by reason.
	Dropped Dropped `json:"dropped"`
	// LastError describes what keeps SSDP from working fully, such as no
	// usable interface; empty when all is well.
	LastError string `json:"last_error,omitempty"`
}

// InterfaceStatus is one interface in use.
type InterfaceStatus struct {
	Name string `json:"name"`
	// Addrs are its IPv4 addresses.
	Addrs []netip.Addr `json:"addrs"`
	// Location is the LOCATION announced there; empty until the first
	// NOTIFY.
	Location string `json:"location"`
}

// Dropped counts received packets that got no answer.
type Dropped struct {
	// Malformed: not an SSDP message, or an M-SEARCH without what UDA
	// requires (MAN "ssdp:discover", HOST, ST, and MX when multicast).
	Malformed uint64 `json:"malformed"`
	// NotAllowed: from a source Allow refused.
	NotAllowed uint64 `json:"not_allowed"`
	// RateLimited: searches beyond the per-source rate or the limits on
	// queued replies, and packets that found the receive queue full.
	RateLimited uint64 `json:"rate_limited"`
	// Duplicate: searches whose every reply was already queued for the
	// same sender.
	Duplicate uint64 `json:"duplicate"`
}

// Status returns a snapshot of what is announced and where. On a nil
// *Server it reports Enabled false.
func (s *Server) Status() Status {
	if s == nil {
		return Status{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == nil {
		return Status{Enabled: true, UDN: s.UDN}
	}
	st := *s.status
	st.Interfaces = slices.Clone(st.Interfaces)
	for i := range st.Interfaces {
		st.Interfaces[i].Addrs = slices.Clone(st.Interfaces[i].Addrs)
	}
	return st
}

func (s *Server) publish(st Status) {
	s.mu.Lock()
	s.status = &st
	s.mu.Unlock()
}

// The patterns of a UDN and of a device or service type. They are compiled
// by check, once a run, not kept in variables: compiled, their counted
// repetitions take 44 KB of heap, which the server would hold for good for
// a check made once at the start.
const (
	udnPattern  = `^uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`
	typePattern = `^urn:[A-Za-z0-9][A-Za-z0-9.-]*:(device|service):[A-Za-z0-9_-]{1,64}:[1-9][0-9]{0,8}$`
)

// check reports the first problem with the fields, wrapping ErrInvalid,
// or returns the device to announce with the defaults applied.
func (s *Server) check(bootID int64) (device, error) {
	udnRE, typeRE := regexp.MustCompile(udnPattern), regexp.MustCompile(typePattern)
	bad := func(format string, args ...any) (device, error) {
		return device{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	d := device{
		udn:          s.UDN,
		deviceType:   s.DeviceType,
		serviceTypes: slices.Clone(s.ServiceTypes),
		location:     s.Location,
		server:       cmp.Or(s.ServerHeader, DefaultServerHeader),
		maxAge:       cmp.Or(s.MaxAge, DefaultMaxAge),
		interval:     cmp.Or(s.NotifyInterval, DefaultNotifyInterval),
		allow:        s.Allow,
		bootID:       bootID,
		configID:     s.ConfigID,
	}
	if d.allow == nil {
		d.allow = defaultAllow
	}
	switch {
	case !udnRE.MatchString(d.udn):
		return bad("UDN %q is not \"uuid:\" and a UUID", d.udn)
	case !typeRE.MatchString(d.deviceType) || !strings.Contains(d.deviceType, ":device:"):
		return bad("device type %q is not like urn:schemas-upnp-org:device:MediaServer:1", d.deviceType)
	case d.location == nil:
		return bad("no Location")
	case strings.ContainsFunc(d.server, isCTL):
		return bad("SERVER header %q has control characters", d.server)
	case s.MaxAge < 0 || (s.MaxAge > 0 && s.MaxAge < time.Second):
		return bad("max-age %v is not at least a second", s.MaxAge)
	case s.NotifyInterval < 0:
		return bad("notify interval %v is negative", s.NotifyInterval)
	case 2*d.interval >= d.maxAge:
		return bad("notify interval %v is not under half the max-age %v", d.interval, d.maxAge)
	case d.configID < 0 || d.configID > MaxConfigID:
		return bad("CONFIGID %d is not in 0..%d", d.configID, MaxConfigID)
	}
	seen := map[string]bool{}
	for _, t := range d.serviceTypes {
		switch {
		case !typeRE.MatchString(t) || !strings.Contains(t, ":service:"):
			return bad("service type %q is not like urn:schemas-upnp-org:service:ContentDirectory:1", t)
		case seen[t]:
			return bad("service type %s twice", t)
		}
		seen[t] = true
	}
	return d, nil
}

// Run announces the device and answers searches until ctx is done, then
// sends NOTIFY ssdp:byebye for every notification type on every
// interface where it announced (twice, in case one is lost), and returns
// nil. It returns an error wrapping ErrInvalid at once if the fields are
// unusable. Everything that can go wrong later (no interface, a socket
// that cannot be opened) is logged, shown in Status and retried: a
// failing SSDP must not stop the rest of the server.
//
// Run follows the interfaces: one that comes up, gets or changes an IPv4
// address is announced, or announced again, within PollInterval.
func (s *Server) Run(ctx context.Context) error {
	start := time.Now()
	d, err := s.check(start.Unix() & 0x7fffffff)
	if err != nil {
		return err
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	interval := cmp.Or(s.PollInterval, DefaultPollInterval)
	open := s.openTransport
	if open == nil {
		open = openUDP
	}
	rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(os.Getpid())))
	e := newEngine(d, log, rng)

	var tr transport // once open
	loop := &mcast.Loop[inPacket, outPacket]{
		Name:         "SSDP",
		Engine:       e,
		Log:          log,
		Interfaces:   slices.Clone(s.Interfaces),
		Usable:       func(info netif.Interface) bool { return len(info.V4) > 0 },
		NoInterface:  ErrNoInterface,
		PollInterval: interval,
		List:         s.listInterfaces,
		Open: func(in chan<- inPacket, log *slog.Logger) (mcast.Transport[outPacket], error) {
			t, err := open(in, log)
			if err != nil {
				return nil, err
			}
			tr = t
			return t, nil
		},
		Publish: func(problem string, stopped bool) {
			// The engine's status with the loop's problem and the
			// datagrams the transport dropped.
			st := e.status()
			if tr != nil {
				st.Dropped.RateLimited += tr.overflowed()
			}
			if problem != "" {
				st.LastError = strings.TrimPrefix(st.LastError+"; "+problem, "; ")
			}
			if stopped {
				st.Announcing, st.Interfaces = false, nil
			}
			s.publish(st)
		},
	}
	if loop.Run(ctx) {
		log.Info("SSDP: sent byebye", "udn", d.udn)
	}
	return nil
}
