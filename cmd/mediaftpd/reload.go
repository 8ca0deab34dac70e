package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/mediaftpd/mediaftpd/accounts"
	"github.com/mediaftpd/mediaftpd/dlna/access"
	"github.com/mediaftpd/mediaftpd/ftpd"
	"github.com/mediaftpd/mediaftpd/internal/config"
	"github.com/mediaftpd/mediaftpd/internal/tlscert"
	"github.com/mediaftpd/mediaftpd/library"
)

// reloader applies the config file again on SIGHUP, as `systemctl reload`
// asks: the shares and the FTP limits change while sessions go on; keys
// that the running server cannot change are reported as needing a
// restart. A file with any problem changes nothing.
type reloader struct {
	opts *options // the command line, applied over the file as at start
	// running is the config in force. Keys that need a restart keep their
	// start-up values, so each reload warns about them until a restart.
	running config.Config
	shares  *library.Manager
	users   *accounts.Manager
	certs   *tlscert.Source // nil without TLS
	ftp     *ftpd.Server
	// setPasswordHash gives the status page the admin password's hash;
	// see web.Server.SetPasswordHash.
	setPasswordHash func(string) error
	// setDLNAAllow gives the DLNA server a new dlna.allow.
	setDLNAAllow func(access.List)
	log          *slog.Logger
}

// run reloads the config file on each value of hup until ctx is done.
func (r *reloader) run(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload()
		}
	}
}

// reload reads, checks and applies the config file, and logs what changed.
func (r *reloader) reload() {
	path := r.opts.configPath
	if path == "" {
		r.log.Warn("SIGHUP: there is no config file to reload; start with -config FILE to use one")
		return
	}
	r.log.Info("SIGHUP: reloading the config file", "file", path)
	// The file is read while no share change from the status page is
	// under way (see library.Manager.Reload), with the same checks as at
	// start: the file, the command line over it, every problem with its
	// file:line and key.
	var cfg config.Config
	changes, err := r.shares.Reload(func() ([]library.Share, error) {
		var err error
		if cfg, err = r.opts.config(); err != nil {
			return nil, err
		}
		return libraryShares(cfg), nil
	})
	if err != nil {
		r.log.Error("config reload failed; nothing was changed, the running config stays in force",
			"file", path, "err", err)
		return
	}
	for _, sh := range cfg.Shares {
		if slices.Contains(changes.Added, sh.Name) || slices.Contains(changes.Changed, sh.Name) {
			warnMissing(r.log, sh)
		}
	}
	r.running.Shares = cfg.Shares
	var attrs []any
	for _, a := range []struct {
		key   string
		names []string
	}{{"shares_added", changes.Added}, {"shares_removed", changes.Removed}, {"shares_changed", changes.Changed}} {
		if len(a.names) > 0 {
			attrs = append(attrs, a.key, strings.Join(a.names, ", "))
		}
	}
	attrs = append(attrs, r.applyUsers(cfg)...)
	attrs = append(attrs, r.applyCert(cfg)...)
	attrs = append(attrs, r.applyLimits(cfg)...)
	attrs = append(attrs, r.applyPassword(cfg, path)...)
	attrs = append(attrs, r.applyAllow(cfg, path)...)
	if restart := restartKeys(r.running, cfg); len(restart) > 0 {
		r.log.Warn("config keys changed that take effect only after a restart (systemctl restart mediaftpd); they were not applied",
			"file", path, "keys", strings.Join(restart, ", "))
	}
	if len(attrs) == 0 {
		r.log.Info("config reloaded: nothing changed", "file", path)
		return
	}
	r.log.Info("config reloaded", append([]any{"file", path}, attrs...)...)
}

// applyUsers makes the users and the anonymous setting those of cfg; the
// sessions of users removed or with a new password end. Shares' access
// came with the shares. It compares with the running users, which the
// status page may have changed since the start, not with the start's, and
// returns what changed as log attributes.
func (r *reloader) applyUsers(cfg config.Config) []any {
	if !r.users.Reload(accountUsers(cfg), cfg.AnonymousOn()) {
		return nil
	}
	names := make([]string, len(cfg.Users))
	for i, u := range cfg.Users {
		names[i] = u.Name
	}
	return []any{"users", strings.Join(names, ", "), "anonymous", cfg.AnonymousOn()}
}

// applyCert reads the certificate files again (tls.cert and tls.key, which
// may have been renewed in place) and returns its fingerprint as a log
// attribute if it changed. A file that cannot be read keeps the
// certificate in use.
func (r *reloader) applyCert(cfg config.Config) []any {
	if r.certs == nil {
		return nil
	}
	if cfg.TLS.Cert != r.running.TLS.Cert || cfg.TLS.Key != r.running.TLS.Key {
		return nil // other files: restartKeys says so
	}
	before := r.certs.Fingerprint()
	if err := r.certs.Reload(); err != nil {
		r.log.Error("the certificate could not be read again; the one in use stays", "err", err)
		return nil
	}
	if after := r.certs.Fingerprint(); after != before {
		return []any{"certificate_sha256", after}
	}
	return nil
}

// applyLimits gives the FTP server the limits of cfg, and returns what
// changed as log attributes.
func (r *reloader) applyLimits(cfg config.Config) []any {
	oldLimits, newLimits := r.ftp.Limits(), ftpLimits(cfg)
	r.ftp.SetLimits(newLimits)
	r.running.FTP.PassivePorts = cfg.FTP.PassivePorts
	r.running.FTP.MaxClients = cfg.FTP.MaxClients
	r.running.FTP.MaxPerIP = cfg.FTP.MaxPerIP
	r.running.FTP.IdleTimeout = cfg.FTP.IdleTimeout
	if limits := limitChanges(oldLimits, newLimits); len(limits) > 0 {
		return []any{"limits", strings.Join(limits, ", ")}
	}
	return nil
}

// applyPassword gives the status page the admin password hash of cfg, if
// it changed, and says so as log attributes.
func (r *reloader) applyPassword(cfg config.Config, path string) []any {
	if r.running.Web.PasswordHash == cfg.Web.PasswordHash {
		return nil
	}
	// Checked by cfg.Validate; an error here would be a bug, and leaves
	// the old password in force.
	if err := r.setPasswordHash(cfg.Web.PasswordHash); err != nil {
		r.log.Error("the admin password was not changed", "file", path, "err", err)
		return nil
	}
	r.running.Web.PasswordHash = cfg.Web.PasswordHash
	return []any{"admin_password", "changed; admins were logged out"}
}

// applyAllow gives the DLNA server the dlna.allow of cfg, if it changed,
// and says so as log attributes.
func (r *reloader) applyAllow(cfg config.Config, path string) []any {
	if slices.Equal(r.running.DLNA.Allow, cfg.DLNA.Allow) {
		return nil
	}
	allow, err := access.Parse(cfg.DLNA.Allow) // checked by cfg.Validate
	if err != nil {
		r.log.Error("dlna.allow was not changed", "file", path, "err", err)
		return nil
	}
	r.setDLNAAllow(allow)
	r.running.DLNA.Allow = cfg.DLNA.Allow
	return []any{"dlna_allow", strings.Join(cfg.DLNA.Allow, ", ")}
}

// ftpLimits returns the FTP server's limits that cfg sets.
func ftpLimits(cfg config.Config) ftpd.Limits {
	return ftpd.Limits{
		MaxClients:  cfg.FTP.MaxClients,
		MaxPerIP:    cfg.FTP.MaxPerIP,
		IdleTimeout: cfg.FTP.IdleTimeout,
		PasvMin:     cfg.FTP.PassivePorts.Lo,
		PasvMax:     cfg.FTP.PassivePorts.Hi,
	}
}

// limitChanges describes the limits that differ, as "key: old -> new"
// with the config file's key names.
func limitChanges(old, new ftpd.Limits) []string {
	var out []string
	if old.MaxClients != new.MaxClients {
		out = append(out, fmt.Sprintf("ftp.max_clients: %d -> %d", old.MaxClients, new.MaxClients))
	}
	if old.MaxPerIP != new.MaxPerIP {
		out = append(out, fmt.Sprintf("ftp.max_per_ip: %d -> %d", old.MaxPerIP, new.MaxPerIP))
	}
	if old.IdleTimeout != new.IdleTimeout {
		out = append(out, fmt.Sprintf("ftp.idle_timeout: %v -> %v", old.IdleTimeout, new.IdleTimeout))
	}
	if old.PasvMin != new.PasvMin || old.PasvMax != new.PasvMax {
		pr := func(l ftpd.Limits) string {
			if r := (config.PortRange{Lo: l.PasvMin, Hi: l.PasvMax}); !r.IsZero() {
				return r.String()
			}
			return "any"
		}
		out = append(out, fmt.Sprintf("ftp.passive_ports: %s -> %s", pr(old), pr(new)))
	}
	return out
}

// restartKeys returns the keys whose values differ between the running
// config and the new one and that the running server cannot change: the
// addresses it listens on, the name (in the FTP greeting, on the status
// page and in mDNS, which announced it), mDNS, and the status page's
// share roots, which it reads once at start.
func restartKeys(running, cfg config.Config) []string {
	var out []string
	add := func(key string, changed bool) {
		if changed {
			out = append(out, key)
		}
	}
	add("name", running.Name != cfg.Name)
	add("ftp.listen", running.FTP.Listen != cfg.FTP.Listen)
	add("web.listen", running.Web.Listen != cfg.Web.Listen)
	add("web.share_roots", !slices.Equal(running.Web.ShareRoots, cfg.Web.ShareRoots))
	add("mdns.enabled", running.MDNS.On() != cfg.MDNS.On())
	add("mdns.interfaces", !slices.Equal(running.MDNS.Interfaces, cfg.MDNS.Interfaces))
	add("dlna.enabled", running.DLNA.On() != cfg.DLNA.On())
	add("dlna.listen", running.DLNA.On() && cfg.DLNA.On() && running.DLNA.Listen != cfg.DLNA.Listen)
	add("dlna.notify_interval", running.DLNA.NotifyInterval != cfg.DLNA.NotifyInterval)
	add("dlna.interfaces", !slices.Equal(running.DLNA.Interfaces, cfg.DLNA.Interfaces))
	add("state_dir", running.StateDir != cfg.StateDir)
	add("tls.cert", running.TLS.Cert != cfg.TLS.Cert)
	add("tls.key", running.TLS.Key != cfg.TLS.Key)
	add("tls.require_for_users", running.TLS.RequireOn() != cfg.TLS.RequireOn())
	add("tls.implicit_listen", running.TLS.ImplicitListen != cfg.TLS.ImplicitListen)
	add("web.tls", running.Web.TLS != cfg.Web.TLS)
	add("thumbnails", running.Thumbnails != cfg.Thumbnails)
	return out
}
