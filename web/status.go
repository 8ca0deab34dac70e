package web

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/mediaftpd/mediaftpd/discovery"
	"github.com/mediaftpd/mediaftpd/dlna"
	"github.com/mediaftpd/mediaftpd/dlna/ssdp"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/library"
)

// Status is what GET /api/status returns, and what the page shows. The
// package documentation lists its JSON keys. Each part is the status
// model of the package it comes from, shown as it is: the shares and
// recent additions are library's, the sessions ftpd's (with the rate the
// page measures), the mDNS state discovery's. It is made for one viewer
// and holds only what they may see (see viewer).
type Status struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Started is when the server started, as of the clock now.
	Started time.Time `json:"started"`
	// UptimeSeconds is how long the server has run.
	UptimeSeconds int64 `json:"uptime_seconds"`
	// FTPURLs are the addresses to type into a player.
	FTPURLs []string `json:"ftp_urls"`
	// TLSFingerprint is the SHA-256 fingerprint of the certificate of
	// FTPS and HTTPS, for a person to compare with what their client
	// shows; "" when there is none.
	TLSFingerprint string           `json:"tls_fingerprint"`
	MDNS           discovery.Status `json:"mdns"`
	Management     ManagementState  `json:"management"`
	// Viewer is who the status was made for.
	Viewer   ViewerStatus       `json:"viewer"`
	Shares   []ShareStatus      `json:"shares"`
	Sessions []SessionStatus    `json:"sessions"`
	DLNA     DLNAStatus         `json:"dlna"`
	Recent   []library.Addition `json:"recent"`
	// Users are the named users, for the admin only (absent for others).
	Users []UserStatus `json:"users,omitzero"`
	// Details is how far reading the media details of the files is.
	Details DetailsStatus `json:"details"`
	// Process is the server's own health, for whoever looks after it.
	Process ProcessStatus `json:"process"`
}

// DetailsStatus is how far reading the media details of the shares'
// files is (library.Prober.Progress).
type DetailsStatus struct {
	// Enabled says whether details are read (false without a state
	// folder; the rest is then zero).
	Enabled bool `json:"enabled"`
	library.DetailsProgress
}

// ProcessStatus is what the server process holds: with every session and
// transfer ended, these return to what they were at start, and a count
// that keeps growing is a leak worth reporting.
type ProcessStatus struct {
	// Goroutines is the number of goroutines (runtime.NumGoroutine).
	Goroutines int `json:"goroutines"`
	// HeapBytes is the memory of live and not yet collected heap objects.
	HeapBytes uint64 `json:"heap_bytes"`
}

// ManagementState says whether shares can be managed from the page.
type ManagementState struct {
	// Enabled is set when an admin password is configured.
	Enabled bool `json:"enabled"`
	// Persistent is set when changes are saved to a config file.
	Persistent bool `json:"persistent"`
	// Users is set when users can log in: there are named accounts.
	Users bool `json:"users"`
}

// ViewerStatus is who a status was made for.
type ViewerStatus struct {
	// Admin is set for the admin.
	Admin bool `json:"admin"`
	// User is the user logged in, "" for the admin and for visitors.
	User string `json:"user"`
}

// ShareStatus is a share as library reports it, with who may see it.
type ShareStatus struct {
	library.ShareStatus
	// Private is set when the share is not public: only the users it
	// lists see it.
	Private bool
	// Access lists those users; it is told to the admin only.
	Access []string
}

// MarshalJSON encodes the share as library.ShareStatus does, with
// "private" and, for the admin, "access" added.
func (s ShareStatus) MarshalJSON() ([]byte, error) {
	base, err := json.Marshal(s.ShareStatus)
	if err != nil {
		return nil, err
	}
	extra, err := json.Marshal(struct {
		Private bool     `json:"private"`
		Access  []string `json:"access,omitempty"`
	}{s.Private, s.Access})
	if err != nil {
		return nil, err
	}
	// Both are objects: join their members.
	out := append(base[:len(base)-1:len(base)-1], ',')
	return append(out, extra[1:]...), nil
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (s *ShareStatus) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &s.ShareStatus); err != nil {
		return err
	}
	var extra struct {
		Private bool     `json:"private"`
		Access  []string `json:"access"`
	}
	if err := json.Unmarshal(data, &extra); err != nil {
		return err
	}
	s.Private, s.Access = extra.Private, extra.Access
	return nil
}

// SessionStatus is an FTP session as ftpd reports it, with the rate of
// its transfer as the page measures it over successive snapshots.
type SessionStatus struct {
	ftpd.SessionInfo
	// Transfer is the running transfer, or null.
	Transfer *TransferStatus `json:"transfer"`
}

// TransferStatus is a running FTP transfer, with its rate.
type TransferStatus struct {
	*ftpd.TransferInfo
	// Rate is the bytes sent per second over the last few seconds.
	Rate int64 `json:"rate"`
	// Hidden is set for a transfer in a share the viewer may not see:
	// all its other fields are then zero.
	Hidden bool `json:"hidden,omitempty"`
}

// DLNAStatus is the DLNA server as dlna reports it, with the rate of each
// stream as the page measures it, and its SSDP announcements.
type DLNAStatus struct {
	// Enabled says whether the DLNA server runs.
	Enabled bool `json:"enabled"`
	dlna.Status
	// Streams are the files being streamed, with their rates.
	Streams []StreamStatus `json:"streams"`
	SSDP    ssdp.Status    `json:"ssdp"`
}

// StreamStatus is a DLNA stream with its rate.
type StreamStatus struct {
	dlna.Stream
	// Rate is the bytes sent per second over the last few seconds.
	Rate int64 `json:"rate"`
}

// serveStatus is GET /api/status.
func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.status(time.Now(), s.viewer(r)))
}

// status takes a snapshot of everything the page shows to v.
func (s *Server) status(now time.Time, v viewer) *Status {
	up := now.Sub(s.started)
	sv := s.shares(v)
	// One snapshot of the shares for every part of the status: which of
	// them v may see, and who may see each.
	all := s.Shares.List()
	sees, seesAll := make(map[string]bool, len(all)), true
	for _, sh := range all {
		sees[sh.Name] = v.admin || sh.Allows(v.user)
		seesAll = seesAll && sees[sh.Name]
	}
	st := &Status{
		Name:          s.name(),
		Version:       s.Version,
		Started:       now.Add(-up).Round(time.Second),
		UptimeSeconds: int64(up / time.Second),
		FTPURLs:       s.ftpURLs(now),
		Management:    ManagementState{Enabled: s.passwordHash() != "", Persistent: s.Manager.ConfigPath != "", Users: s.userLogins()},
		Viewer:        ViewerStatus{Admin: v.admin, User: v.user},
		Shares:        shareStatus(v, sv, all),
		Sessions:      []SessionStatus{},
		Recent:        sv.Recent(recentShown),
		Process:       processStatus(),
	}
	if s.Fingerprint != nil {
		st.TLSFingerprint = s.Fingerprint()
	}
	if v.admin {
		st.Users = s.userStatus(all)
	}
	if st.FTPURLs == nil {
		st.FTPURLs = []string{}
	}
	if st.Recent == nil {
		st.Recent = []library.Addition{}
	}
	if s.MDNS != nil {
		st.MDNS = s.MDNS()
	}
	var sessions []ftpd.SessionInfo
	if s.Sessions != nil {
		sessions = s.Sessions()
	}
	rates := s.rates.sample(now, sessions)
	for _, si := range sessions {
		st.Sessions = append(st.Sessions, sessionFor(v, sees, si, rates[si.ID]))
	}
	st.DLNA.Streams = []StreamStatus{}
	if s.DLNA != nil {
		st.DLNA.Enabled = true
		st.DLNA.Status, st.DLNA.SSDP = s.DLNA()
		streams := st.DLNA.Status.Streams
		st.DLNA.Status.Streams = nil // shown as st.DLNA.Streams, those v may see
		for i, r := range s.rates.sampleStreams(now, streams) {
			if sees[streams[i].Share] {
				st.DLNA.Streams = append(st.DLNA.Streams, StreamStatus{Stream: streams[i], Rate: r})
			}
		}
	}
	if s.Details != nil {
		st.Details = DetailsStatus{Enabled: true}
		// The figures count the files of every share: shown to those who
		// see every share.
		if seesAll {
			st.Details.DetailsProgress = s.Details.Progress()
		}
	}
	if st.DLNA.Players == nil {
		st.DLNA.Players = []dlna.Player{}
	}
	return st
}

// shareStatus returns the shares v sees, through sv, with who may see
// each (from all, a snapshot of the shares): whether it is private to
// everyone, and to whom to the admin.
func shareStatus(v viewer, sv shareView, all []library.Share) []ShareStatus {
	access := make(map[string][]string, len(all))
	for _, sh := range all {
		access[sh.Name] = sh.Access
	}
	list := sv.Status()
	out := make([]ShareStatus, len(list))
	for i, sh := range list {
		out[i] = ShareStatus{ShareStatus: sh, Private: len(access[sh.Name]) > 0}
		if v.admin {
			out[i].Access = access[sh.Name]
		}
	}
	return out
}

// sessionFor returns an FTP session as v may see it. The admin sees it
// whole. Others see a transfer only in a share they may see (sees), one
// elsewhere as Hidden, and the session's user and account names only when
// it is their own.
func sessionFor(v viewer, sees map[string]bool, si ftpd.SessionInfo, rate int64) SessionStatus {
	t := si.Transfer
	si.Transfer = nil // shown as SessionStatus.Transfer
	ss := SessionStatus{SessionInfo: si}
	if !v.admin && (v.user == "" || si.Account != v.user) {
		ss.User, ss.Account = "", ""
	}
	switch {
	case t == nil:
	case ftpShare(t.Path) == "" || sees[ftpShare(t.Path)]:
		ss.Transfer = &TransferStatus{TransferInfo: t, Rate: rate}
	default:
		ss.Transfer = &TransferStatus{TransferInfo: &ftpd.TransferInfo{}, Hidden: true}
	}
	return ss
}

// rateWindow is the span over which transfer rates are measured. Sent
// is recorded per MiB, so the window must hold several updates of a
// slow stream.
const rateWindow = 5 * time.Second

// rateTracker measures transfer rates from successive snapshots of the
// bytes sent. It is safe for concurrent use.
type rateTracker struct {
	mu   sync.Mutex
	seen map[transferKey][]rateSample // oldest first, spanning rateWindow
}

// transferKey identifies one transfer: an FTP session may run many in
// turn, and a DLNA client may stream several files at once.
type transferKey struct {
	ftp     bool
	session uint64     // FTP
	client  netip.Addr // DLNA
	path    string     // DLNA: share and path
	started int64      // Unix nanoseconds
}

type rateSample struct {
	at   time.Time
	sent int64
}

// sample records the bytes sent of every running FTP transfer and returns
// each one's rate in bytes per second, by session ID. A transfer seen for
// the first time, or over too short a span, gets its average since it
// started.
func (rt *rateTracker) sample(now time.Time, sessions []ftpd.SessionInfo) map[uint64]int64 {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rates := make(map[uint64]int64)
	live := make(map[transferKey]bool)
	for _, si := range sessions {
		if t := si.Transfer; t != nil {
			k := transferKey{ftp: true, session: si.ID, started: t.Started.UnixNano()}
			live[k] = true
			rates[si.ID] = rt.observe(now, k, t.Sent, t.Started)
		}
	}
	rt.forget(live, true)
	return rates
}

// sampleStreams is sample for DLNA streams; it returns their rates in
// their order.
func (rt *rateTracker) sampleStreams(now time.Time, streams []dlna.Stream) []int64 {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rates := make([]int64, len(streams))
	live := make(map[transferKey]bool)
	for i, st := range streams {
		k := transferKey{client: st.Client, path: st.Share + "/" + st.Path, started: st.Started.UnixNano()}
		live[k] = true
		rates[i] = rt.observe(now, k, st.Sent, st.Started)
	}
	rt.forget(live, false)
	return rates
}

// observe records that the transfer k had sent bytes at now, and returns
// its rate. rt.mu is held.
func (rt *rateTracker) observe(now time.Time, k transferKey, sent int64, started time.Time) int64 {
	if rt.seen == nil {
		rt.seen = make(map[transferKey][]rateSample)
	}
	samples := append(rt.seen[k], rateSample{now, sent})
	for len(samples) > 2 && now.Sub(samples[1].at) >= rateWindow {
		samples = samples[1:]
	}
	rt.seen[k] = slices.Clip(samples)
	first := samples[0]
	if span := now.Sub(first.at); span >= time.Second {
		return perSecond(sent-first.sent, span)
	}
	return perSecond(sent, now.Sub(started))
}

// forget drops the FTP transfers (ftp) or DLNA streams (!ftp) that are not
// live. rt.mu is held.
func (rt *rateTracker) forget(live map[transferKey]bool, ftp bool) {
	for k := range rt.seen {
		if k.ftp == ftp && !live[k] {
			delete(rt.seen, k)
		}
	}
}

func perSecond(n int64, d time.Duration) int64 {
	if d <= 0 || n <= 0 {
		return 0
	}
	return int64(float64(n) / d.Seconds())
}

// addrCacheFor is how long the machine's addresses are cached.
const addrCacheFor = 10 * time.Second

// addrCache holds the machine's addresses for a while: the page asks for
// them every second or two.
type addrCache struct {
	mu    sync.Mutex
	at    time.Time
	addrs []netip.Addr
}

// interfaceAddrs returns the machine's addresses; tests replace it.
var interfaceAddrs = func() ([]netip.Addr, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, ifi := range ifaces {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if pfx, err := netip.ParsePrefix(a.String()); err == nil {
				out = append(out, pfx.Addr().Unmap())
			}
		}
	}
	return out, nil
}

func (c *addrCache) get(now time.Time) []netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.addrs == nil || now.Sub(c.at) > addrCacheFor || now.Before(c.at) {
		addrs, _ := interfaceAddrs()
		c.addrs, c.at = append([]netip.Addr{}, addrs...), now
	}
	return c.addrs
}

// ftpURLs returns the FTP URLs to type into a player: one per
// non-loopback, non-link-local address the FTP server listens on, IPv4
// first, with the port when it is not 21.
func (s *Server) ftpURLs(now time.Time) []string {
	host, portStr, err := net.SplitHostPort(s.FTPAddr)
	if err != nil {
		return nil
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil
	}
	var addrs []netip.Addr
	ip, err := netip.ParseAddr(host)
	switch {
	case host == "" || err == nil && ip.IsUnspecified():
		v4only := err == nil && ip.Is4()
		for _, a := range s.addrs.get(now) {
			if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || v4only && !a.Is4() {
				continue
			}
			addrs = append(addrs, a)
		}
	case err == nil:
		addrs = []netip.Addr{ip.Unmap()}
	default: // a host name
		return []string{ftpURL(host, port)}
	}
	slices.SortStableFunc(addrs, func(a, b netip.Addr) int {
		switch {
		case a.Is4() == b.Is4():
			return 0
		case a.Is4():
			return -1
		}
		return 1
	})
	urls := make([]string, 0, len(addrs))
	for _, a := range slices.Compact(addrs) {
		urls = append(urls, ftpURL(a.String(), port))
	}
	return urls
}

func ftpURL(host string, port int) string {
	if port == 21 {
		if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() {
			return "ftp://[" + host + "]/"
		}
		return "ftp://" + host + "/"
	}
	return "ftp://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
}

// processStatus reads the process's own counts from the runtime.
func processStatus() ProcessStatus {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	var heap uint64
	if sample[0].Value.Kind() == metrics.KindUint64 {
		heap = sample[0].Value.Uint64()
	}
	return ProcessStatus{Goroutines: runtime.NumGoroutine(), HeapBytes: heap}
}
