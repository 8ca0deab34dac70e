package main

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mediaftpd/mediaftpd/accounts"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/internal/tlscert"
)

// certReloadEvery is how often the certificate is looked at again: a
// self-signed one is renewed a month before it expires, and files renewed
// by another program (certbot) are picked up without a SIGHUP.
const certReloadEvery = 24 * time.Hour

// newAccounts makes the app's users, their manager and the certificate of
// FTPS and HTTPS. Without a certificate (no tls.cert/tls.key and no state
// folder, or a file that cannot be read) the server runs without TLS, and
// says what that means for users.
func (a *app) newAccounts(configPath string) error {
	cfg := a.cfg
	a.users = accounts.New(accountUsers(cfg), cfg.AnonymousOn())
	a.users.Logger = a.log.With("component", "accounts")
	a.userMgr = &accounts.Manager{Users: a.users, Shares: a.shares, ConfigPath: configPath, Logger: a.log,
		OnEnded: a.endSessions}
	certs, err := tlscert.New(tlscert.Options{
		CertFile: cfg.TLS.Cert,
		KeyFile:  cfg.TLS.Key,
		StateDir: cfg.StateDir,
		Names:    certNames(),
		Addrs:    certAddrs(),
		Logger:   a.log.With("component", "tls"),
	})
	switch {
	case err != nil && cfg.TLS.Cert != "":
		return err // the user asked for these files: a mistake to fix
	case err != nil:
		a.log.Warn("no certificate, so FTPS and HTTPS are off", "err", err)
		if len(cfg.Users) > 0 && cfg.TLS.RequireOn() {
			a.log.Warn("users cannot log in: tls.require_for_users needs TLS; set state_dir, or tls.cert and tls.key")
		}
	default:
		a.certs = certs
	}
	if !cfg.AnonymousOn() && len(cfg.Users) == 0 {
		a.log.Warn("anonymous is false and there are no users: nobody can log in to FTP")
	}
	return nil
}

// accountUsers returns the users of cfg for the accounts package.
func accountUsers(cfg config.Config) []accounts.User {
	out := make([]accounts.User, len(cfg.Users))
	for i, u := range cfg.Users {
		out[i] = accounts.User{Name: u.Name, PasswordHash: u.PasswordHash}
	}
	return out
}

// endSessions ends the FTP and status page sessions of users who were
// removed or given a new password.
func (a *app) endSessions(names []string) {
	n := a.ftp.EndSessions(func(user string) bool { return !slices.Contains(names, user) })
	a.page.endUserSessions(names)
	a.log.Info("sessions of changed users ended", "users", strings.Join(names, ", "), "ftp_sessions", n)
}

// reloadCerts re-reads the certificate every certReloadEvery until ctx
// ends.
func (a *app) reloadCerts(ctx context.Context) {
	t := time.NewTicker(certReloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.certs.Reload(); err != nil {
				a.log.Error("the certificate could not be read again; the one in use stays", "err", err)
			}
		}
	}
}

// ftpAccounts is the users as the FTP server asks them.
type ftpAccounts struct{ *accounts.Users }

func (f ftpAccounts) Login(ctx context.Context, name, password string, from netip.Addr) ftpd.LoginResult {
	switch f.Users.Login(ctx, name, password, from) {
	case accounts.OK:
		return ftpd.LoginOK
	case accounts.LockedOut:
		return ftpd.LoginLockedOut
	}
	return ftpd.LoginFailed
}

// LockedOut reports whether the throttle refuses the address now.
func (f ftpAccounts) LockedOut(from netip.Addr) bool {
	_, locked := f.Users.Throttle.LockedOut(from)
	return locked
}

// certNames are the DNS names of a self-signed certificate: the host's
// name, its mDNS name and localhost.
func certNames() []string {
	var names []string
	if h, err := os.Hostname(); err == nil && h != "" {
		short, _, _ := strings.Cut(h, ".")
		names = append(names, h)
		if short != h {
			names = append(names, short)
		}
		names = append(names, short+".local")
	}
	return append(names, "localhost")
}

// certAddrs are the IP addresses of a self-signed certificate: those of
// the host's interfaces now, and loopback.
func certAddrs() []netip.Addr {
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	ifaddrs, _ := net.InterfaceAddrs()
	for _, ia := range ifaddrs {
		if p, ok := ia.(*net.IPNet); ok {
			if a, ok := netip.AddrFromSlice(p.IP); ok && !a.IsLoopback() && !a.IsLinkLocalUnicast() {
				addrs = append(addrs, a.Unmap())
			}
		}
	}
	return addrs
}
