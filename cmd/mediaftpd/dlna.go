package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"

	"github.com/mediaftpd/mediaftpd/dlna"
	"github.com/mediaftpd/mediaftpd/dlna/access"
	"github.com/mediaftpd/mediaftpd/dlna/ssdp"
	"github.com/mediaftpd/mediaftpd/library"
)

// dlnaServer is the DLNA media server with its SSDP announcer, or a nil
// *dlnaServer when DLNA is off.
type dlnaServer struct {
	srv   *dlna.Server
	ssdp  *ssdp.Server
	l     net.Listener
	allow atomic.Pointer[access.List] // dlna.allow, replaced by a reload
}

// newDLNA makes the DLNA server of a, listening, unless DLNA is off. The
// device description points TVs at the status page, which a.page holds
// once the app is made. The store, the prober and the thumbnail cache
// (a.openStore) keep its state and give it media details and artwork.
func newDLNA(a *app) (*dlnaServer, error) {
	cfg := a.cfg
	if !cfg.DLNA.On() {
		return nil, nil
	}
	allow, err := access.Parse(cfg.DLNA.Allow)
	if err != nil { // checked by config.Validate
		return nil, fmt.Errorf("dlna.allow: %w", err)
	}
	l, err := net.Listen("tcp", cfg.DLNA.Listen)
	if err != nil {
		return nil, fmt.Errorf("DLNA listen: %w", err)
	}
	d := &dlnaServer{l: l}
	d.allow.Store(&allow)
	log := a.log.With("component", "dlna")
	d.srv = &dlna.Server{
		Content:  a.set.Scope(library.Anonymous), // DLNA has no login: public shares only
		Name:     cfg.Name,
		Version:  versionString(),
		StateDir: cfg.StateDir, // the files of versions before the store, taken over once
		Allow:    d.allows,
		Logger:   log,
	}
	// Each is nil when the state folder could not be used: the server
	// then keeps its UDN and bookmarks in memory, and shows no details
	// and no artwork.
	if a.store != nil {
		d.srv.State = a.store
	}
	if a.prober != nil {
		d.srv.Details = a.prober
	}
	if a.thumbs != nil {
		d.srv.Thumbs = a.thumbs
	}
	d.srv.PresentationURL = func(host string) string {
		port := a.page.port()
		if port == 0 {
			return ""
		}
		h, _, err := net.SplitHostPort(host)
		if err != nil {
			h = host
		}
		return "http://" + net.JoinHostPort(h, strconv.Itoa(port)) + "/"
	}
	port := l.Addr().(*net.TCPAddr).Port
	fixed, _ := netip.ParseAddr(hostOf(cfg.DLNA.Listen))
	d.ssdp = &ssdp.Server{
		UDN:          d.srv.UDN(),
		DeviceType:   dlna.DeviceType,
		ServiceTypes: dlna.ServiceTypes(),
		Location: func(local netip.Addr) string {
			// Where TVs on local's network reach the description: the
			// interface's address, unless the server listens on one
			// address only.
			if fixed.IsValid() && !fixed.IsUnspecified() {
				local = fixed
			}
			return "http://" + netip.AddrPortFrom(local, uint16(port)).String() + dlna.DescriptionPath
		},
		ServerHeader:   d.srv.ServerHeader(),
		NotifyInterval: cfg.DLNA.NotifyInterval,
		Interfaces:     cfg.DLNA.Interfaces,
		Allow:          d.allows,
		Logger:         log.With("part", "ssdp"),
	}
	a.log.Info("DLNA media server", "addr", l.Addr().String(), "udn", d.srv.UDN(), "state_dir", cfg.StateDir)
	return d, nil
}

// hostOf returns the host part of a listen address.
func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return h
}

// allows reports whether dlna.allow lets a in.
func (d *dlnaServer) allows(a netip.Addr) bool { return d.allow.Load().Allows(a) }

// setAllow replaces dlna.allow, as a reload does. Without DLNA there is
// nothing to do.
func (d *dlnaServer) setAllow(l access.List) {
	if d != nil {
		d.allow.Store(&l)
	}
}

// shutdown stops the DLNA HTTP side: streams get the grace that ctx
// gives, as FTP transfers do.
func (d *dlnaServer) shutdown(ctx context.Context) {
	if d == nil {
		return
	}
	if err := d.srv.Shutdown(ctx); err != nil {
		d.srv.Close()
	}
}

// streaming reports whether a file is being streamed to a TV now.
func (d *dlnaServer) streaming() bool {
	return d != nil && len(d.srv.Status().Streams) > 0
}

// close closes the listener of a DLNA server that will not be run.
func (d *dlnaServer) close() {
	if d != nil {
		d.l.Close()
	}
}

// statusFunc returns what the status page calls for the DLNA part of its
// status, nil when DLNA is off.
func (d *dlnaServer) statusFunc() func() (dlna.Status, ssdp.Status) {
	if d == nil {
		return nil
	}
	return func() (dlna.Status, ssdp.Status) { return d.srv.Status(), d.ssdp.Status() }
}
