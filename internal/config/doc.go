// Package config reads and checks mediaftpd's YAML config file.
//
// Every key is optional; a missing key, an empty value and an empty file
// all mean the defaults. Command line flags override the file. Unknown
// keys are an error, so that a typo is reported instead of ignored, and
// every problem in the file is reported at once, each with its line.
// The file example.yaml next to this package is a commented example.
//
// # Reference
//
// name: the friendly name that TVs and players show, and the status page's
// title. Default: "Media on <hostname>". At most 63 bytes, the limit of an
// mDNS service name.
//
// ftp: the FTP server.
//
//   - listen: the address of the control connection, as host:port. Default
//     ":21", every address. Port 21 needs root or CAP_NET_BIND_SERVICE.
//   - passive_ports: the ports offered for data connections, as
//     "50000-50100" or a single port. Default: any free port. Set it when a
//     firewall sits between clients and the server, and open those ports.
//   - max_clients: the most sessions at once. Default 200.
//   - max_per_ip: the most sessions at once from one address. Default 16, or
//     max_clients if smaller. Must not exceed max_clients.
//   - idle_timeout: a session that sends no command for this long, while no
//     transfer runs, is closed. A duration like 30s, 5m or 1h; a bare
//     number is an error, as it has no unit. Default 5m.
//
// shares: the folders served, a list. Each appears to clients as a folder
// /<name> at the top level. Everything is read-only. Default: none (the
// command line decides what to serve then). Each share has:
//
//   - name: the folder name clients see. Required. One folder name: no "/"
//     or "\", not "." or "..", no leading "." (clients hide those), no
//     leading or trailing space, no control characters. Names must differ
//     from each other ignoring case, because Windows clients ignore case.
//   - path: the folder on this machine, as an absolute path. Required. It
//     need not exist yet: a USB disk may be plugged in later.
//   - rescan_interval: how changes are noticed. 0 (the default) watches the
//     folder with inotify. A duration like 10m rescans it that often
//     instead, for network mounts (NFS, SMB) where inotify sees nothing.
//   - access: who sees the share. "public" (the default) is everyone:
//     anonymous FTP, every user, TVs over DLNA, the status page. A list of
//     user names, like [alice, bob], makes the share private: only those
//     users see it, after logging in to FTP or to the status page's file
//     browser. DLNA and mDNS have no login, so they never show a private
//     share; nor does the status page to anyone not allowed to see it. A
//     private share's folder is not even reported as missing to others: a
//     path into it gets the same answer as a path that does not exist.
//
// users: the named accounts, a list. Each has:
//
//   - name: the login name: 1 to 64 letters, digits and the marks . _ - @,
//     starting with a letter or digit. Not "anonymous" or "ftp", which log
//     in anonymously. Names must differ from each other ignoring case.
//   - password_hash: the bcrypt hash of the password. Write it with
//     `mediaftpd passwd --user NAME -config FILE` or from the status page,
//     never by hand; the password itself is stored nowhere.
//
// Everything stays read-only for users too: an account only sees more.
// When users exist, every FTP login name but "anonymous" and "ftp" is
// checked as an account (without users, any name logs in anonymously, as
// some players send the computer's login name). Wrong passwords are
// throttled per address: each failure is answered after a delay, and after
// 5 failures in a row the address is refused for a while (421), doubling
// up to 15 minutes.
//
// anonymous: true or false. Default true. false refuses anonymous FTP logins
// (530) and so leaves FTP to users; DLNA and the status page still show
// the public shares.
//
// tls: the certificate and rules of FTPS (FTP over TLS, RFC 4217: AUTH TLS
// on the FTP port), and of HTTPS for the status page with web.tls.
//
//   - cert, key: PEM files of the certificate (with its chain) and its
//     private key, as absolute paths, read again on SIGHUP. Without them a
//     self-signed certificate is made at the first start and kept in
//     state_dir; its SHA-256 fingerprint is written to the log, shown on the
//     status page and in /api/status. Compare it with the one your client
//     shows the first time it connects.
//   - require_for_users: true or false. Default true: a user (not anonymous)
//     must switch the connection to TLS (AUTH TLS) before logging in; on a
//     plain connection USER is answered 530, before the password is sent.
//   - implicit_listen: the address of implicit FTPS, where connections are
//     encrypted from the first byte, as host:port (port 990 by custom).
//     Default: none.
//
// Only TLS 1.2 and 1.3 are spoken. The data connections of an encrypted
// session are encrypted too once the client asks (PROT P), and must resume
// the TLS session of their control connection, so a stolen data port gets
// nothing.
//
// web: the status page.
//
//   - listen: its address, as host:port, or "off" to disable it. Default
//     ":8021". Anyone who can reach it sees what is shared.
//   - password_hash: the admin password's hash, for managing shares from
//     the page. Write it with `mediaftpd passwd -config FILE` rather than by
//     hand; keep the file readable only by the server's user.
//   - share_roots: the absolute folders under which the page may create
//     shares; it cannot share anything outside them. Default
//     [/media, /mnt, /srv].
//   - tls: true serves the page over HTTPS with the certificate of the tls
//     section, on the same address; plain HTTP requests there are
//     redirected to HTTPS. Default false.
//
// mdns: the mDNS/DNS-SD advertisement (_ftp._tcp and _http._tcp) that lets
// players find the server.
//
//   - enabled: true or false. Default true.
//   - interfaces: the network interfaces to advertise on, like [eth0].
//     Default: every interface that is up, multicast-capable and not
//     loopback.
//
// dlna: the DLNA/UPnP media server, which a TV's own media player browses
// (Samsung, LG, Sony and others list it under their sources, by name).
//
//   - enabled: true or false. Default true.
//   - listen: the address of its HTTP side (device description, browsing,
//     events and the media itself), as host:port, or "off" to turn DLNA
//     off. Default ":8200".
//   - notify_interval: how often the server announces itself on the
//     network (SSDP, UDP port 1900). Default 60s; from 10s to 15m. Some
//     TVs list only servers they heard from lately.
//   - allow: who may use it, a list of addresses and prefixes like
//     [192.168.1.0/24, fd00::/8]. Default: private (10/8, 172.16/12,
//     192.168/16, fc00::/7), link-local and loopback addresses, that is the
//     home network. Others get no answer to a search and 403 over HTTP.
//   - interfaces: the network interfaces to announce on, like [eth0].
//     Default: every interface that is up, multicast-capable and not
//     loopback.
//
// state_dir: the folder where mediaftpd keeps what it must remember across
// restarts: the media details of every file (durations, picture sizes,
// tags: a restart reads no file again), the thumbnails, the DLNA device's
// identity (TVs know a server by it) and the positions people and TVs
// resume playing from. An absolute path. Default:
// $STATE_DIRECTORY when systemd sets it (the package's unit does, to
// /var/lib/mediaftpd), else $XDG_STATE_HOME/mediaftpd, else
// ~/.local/state/mediaftpd. Deleting it is safe: details and thumbnails
// are made again, and only resume positions are lost. Two servers cannot
// share one: the second says so and exits.
//
// thumbnails: "ffmpeg" makes a picture of each video that has no artwork
// (no poster beside it) by grabbing a frame with ffmpeg, if it is
// installed (a missing ffmpeg is a warning in the log). Default: none;
// posters, folder pictures and embedded cover art are used either way.
//
// # Reloading
//
// On SIGHUP (`systemctl reload mediaftpd`) the server reads the file again
// and, if it has no problem at all, applies shares and the ftp keys
// passive_ports, max_clients, max_per_ip and idle_timeout, and
// web.password_hash (logging every admin out), and dlna.allow, at once,
// without ending sessions. users, anonymous, shares' access,
// tls.require_for_users, tls.cert and tls.key apply at once too: the next
// command of every session sees the new access, new connections get the
// new certificate, and the sessions of a user who was removed or whose
// password changed end. name, ftp.listen, tls.implicit_listen, the other
// web and dlna keys, every mdns key and state_dir take effect only after a
// restart. A file
// with a problem changes nothing. thumbnails takes effect after a restart
// too.
//
// Durations are written as Go writes them: 90s, 5m, 1h30m. A duration of 0
// may be written without a unit.
package config
