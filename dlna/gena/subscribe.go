package gena

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Header names as UDA spells them; net/http would write Sid and Timeout.
const (
	hdrSID      = "SID"
	hdrTimeout  = "TIMEOUT"
	hdrServer   = "SERVER"
	hdrNT       = "NT"
	hdrCallback = "CALLBACK"
)

// Reasons a CALLBACK is refused.
var (
	errCallbackSyntax    = errors.New("not a list of <URL>")
	errCallbackScheme    = errors.New("not an http:// URL")
	errCallbackHost      = errors.New("the host is not an IP address")
	errCallbackElsewhere = errors.New("the host is not the subscriber's own address (CallStranger)")
	errCallbackMany      = errors.New("too many URLs")
	errCallbackLong      = errors.New("too long")
)

// ServeHTTP answers SUBSCRIBE and UNSUBSCRIBE requests on the service's
// eventSubURL, as the package documentation describes.
func (p *Publisher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case "SUBSCRIBE":
		p.subscribe(w, r)
	case "UNSUBSCRIBE":
		p.unsubscribe(w, r)
	default:
		w.Header().Set("Allow", "SUBSCRIBE, UNSUBSCRIBE")
		http.Error(w, "only SUBSCRIBE and UNSUBSCRIBE", http.StatusMethodNotAllowed)
	}
}

// refuse answers with status and logs why at debug level.
func (p *Publisher) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	p.log().Debug("GENA: refused", "method", r.Method, "remote", r.RemoteAddr, "status", status, "why", why)
	p.setServer(w)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

func (p *Publisher) setServer(w http.ResponseWriter) {
	if p.ServerHeader != "" {
		w.Header()[hdrServer] = []string{p.ServerHeader}
	}
}

func (p *Publisher) subscribe(w http.ResponseWriter, r *http.Request) {
	sid, nt, callback := r.Header.Get(hdrSID), r.Header.Get(hdrNT), r.Header.Get(hdrCallback)
	timeout := parseTimeout(r.Header.Get(hdrTimeout), p.maxTimeout())
	if sid != "" {
		if nt != "" || callback != "" {
			p.refuse(w, r, http.StatusBadRequest, "SID with NT or CALLBACK")
			return
		}
		p.renew(w, r, sid, timeout)
		return
	}
	if strings.TrimSpace(nt) != "upnp:event" {
		p.refuse(w, r, http.StatusPreconditionFailed, "NT is not upnp:event")
		return
	}
	from, ok := sourceAddr(r)
	if !ok {
		p.refuse(w, r, http.StatusPreconditionFailed, "no usable source address")
		return
	}
	urls, err := parseCallback(callback, from)
	if err != nil {
		p.refuse(w, r, http.StatusPreconditionFailed, "CALLBACK: "+err.Error())
		return
	}
	key := from.Unmap().WithZone("")

	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		p.refuse(w, r, http.StatusServiceUnavailable, "not running")
		return
	}
	p.expire(p.clock())
	perAddr := 0
	for _, s := range p.subs {
		if s.addr == key {
			perAddr++
		}
	}
	switch {
	case perAddr >= limit(p.MaxPerAddr, DefaultMaxPerAddr):
		p.mu.Unlock()
		p.refuse(w, r, http.StatusServiceUnavailable, "too many subscriptions from this address")
		return
	case len(p.subs) >= limit(p.MaxTotal, DefaultMaxTotal):
		p.mu.Unlock()
		p.refuse(w, r, http.StatusServiceUnavailable, "too many subscriptions")
		return
	}
	s := &subscription{sid: newSID(), addr: key, callbacks: urls, expires: p.clock().Add(timeout)}
	if p.subs == nil {
		p.subs = map[string]*subscription{}
	}
	p.subs[s.sid] = s
	p.mu.Unlock()

	p.answer(w, s.sid, timeout)
	// The initial event goes out after the answer: flush it first, and
	// give the subscriber initialEventDelay to read it. Events published
	// meanwhile are queued behind the initial one; the state read now
	// includes their changes.
	_ = http.NewResponseController(w).Flush()
	answered := time.Now()
	body := p.propertySet(p.stateNow())
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.gone {
		return
	}
	s.queue = append([][]byte{body}, s.queue...)
	s.ready = true
	s.answered = answered
	p.kick(s)
}

func (p *Publisher) stateNow() []Property {
	if p.State == nil {
		return nil
	}
	return p.State()
}

func (p *Publisher) renew(w http.ResponseWriter, r *http.Request, sid string, timeout time.Duration) {
	p.mu.Lock()
	now := p.clock()
	p.expire(now)
	s := p.subs[sid]
	if s != nil {
		s.expires = now.Add(timeout)
	}
	p.mu.Unlock()
	if s == nil {
		p.refuse(w, r, http.StatusPreconditionFailed, "unknown or expired SID")
		return
	}
	p.answer(w, sid, timeout)
}

// answer writes the 200 answer to SUBSCRIBE.
func (p *Publisher) answer(w http.ResponseWriter, sid string, timeout time.Duration) {
	h := w.Header()
	p.setServer(w)
	h[hdrSID] = []string{sid}
	h[hdrTimeout] = []string{formatTimeout(timeout)}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func (p *Publisher) unsubscribe(w http.ResponseWriter, r *http.Request) {
	sid := r.Header.Get(hdrSID)
	if r.Header.Get(hdrNT) != "" || r.Header.Get(hdrCallback) != "" {
		p.refuse(w, r, http.StatusBadRequest, "UNSUBSCRIBE with NT or CALLBACK")
		return
	}
	p.mu.Lock()
	p.expire(p.clock())
	s := p.subs[sid]
	if s != nil {
		p.remove(s, "")
	}
	p.mu.Unlock()
	if s == nil {
		p.refuse(w, r, http.StatusPreconditionFailed, "unknown or expired SID")
		return
	}
	p.setServer(w)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func limit(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// sourceAddr returns the request's source address, unmapped, with its
// zone.
func sourceAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// parseTimeout reads a TIMEOUT header: Second-N (N > 0) or infinite,
// capped at max; anything else, missing included, gives max.
func parseTimeout(v string, max time.Duration) time.Duration {
	v = strings.TrimSpace(v)
	if len(v) > len("Second-") && strings.EqualFold(v[:len("Second-")], "Second-") {
		n, err := strconv.ParseUint(v[len("Second-"):], 10, 32)
		if err == nil && n > 0 {
			return min(time.Duration(n)*time.Second, max)
		}
	}
	return max
}

// parseCallback reads a CALLBACK header ("<http://10.0.0.5:49152/evt>",
// possibly several URLs) from the subscriber at from. Each URL must be
// http:// with from's address as its host; the URLs returned have from
// itself (with its zone) as host, and the URL's port (80 if none).
func parseCallback(v string, from netip.Addr) ([]*url.URL, error) {
	v = strings.TrimSpace(v)
	if len(v) > maxHeader {
		return nil, errCallbackLong
	}
	var urls []*url.URL
	for v != "" {
		if v[0] != '<' {
			return nil, errCallbackSyntax
		}
		end := strings.IndexByte(v, '>')
		if end < 0 {
			return nil, errCallbackSyntax
		}
		raw := v[1:end]
		v = strings.TrimLeft(v[end+1:], " \t")
		if len(urls) == maxCallbacks {
			return nil, errCallbackMany
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.Opaque != "" {
			return nil, errCallbackSyntax
		}
		if !strings.EqualFold(u.Scheme, "http") || u.User != nil {
			return nil, errCallbackScheme
		}
		host, err := netip.ParseAddr(u.Hostname())
		if err != nil {
			return nil, errCallbackHost
		}
		if host.Unmap().WithZone("") != from.WithZone("") {
			return nil, errCallbackElsewhere
		}
		port := uint64(80)
		if ps := u.Port(); ps != "" {
			if port, err = strconv.ParseUint(ps, 10, 16); err != nil || port == 0 {
				return nil, errCallbackSyntax
			}
		}
		u.Scheme = "http"
		u.Host = netip.AddrPortFrom(from, uint16(port)).String()
		u.Fragment, u.RawFragment = "", ""
		if u.Path == "" {
			u.Path = "/"
		}
		urls = append(urls, u)
	}
	if len(urls) == 0 {
		return nil, errCallbackSyntax
	}
	return urls, nil
}
