// Package web serves mediaftpd's status page: what the box is doing, for
// anyone on the network, and share management for the admin. It uses
// net/http, html/template and assets embedded with //go:embed, with no
// CDN, web font or front-end build step, so it works on a network without
// internet. The page is one HTML document, a stylesheet with light and
// dark colours (prefers-color-scheme) and a small script.
//
// # Routes
//
//	| route                       | who    | what                                                  |
//	|-----------------------------|--------|-------------------------------------------------------|
//	| GET /                       | anyone | the status page                                       |
//	| GET /assets/{name}          | anyone | stylesheet, script, icon (embedded)                   |
//	| GET /events                 | anyone | live updates: Server-Sent Events named "status"       |
//	|                             |        | holding the page's status section as HTML             |
//	| GET /files/{share}/{path}   | anyone | browse folders, stream files (Range requests)         |
//	| GET /api/status             | anyone | the status as JSON (below)                            |
//	| GET /api/session            | anyone | {"admin", "csrf_token", "management", "persistent"}   |
//	| POST /api/login             | anyone | {"password"} -> 200 {"csrf_token", ...} and a cookie; |
//	|                             |        | 401 wrong password; 429 too many (Retry-After)        |
//	| POST /api/logout            | admin  | 204                                                   |
//	| GET /api/folders?path=P     | admin  | subfolders of P under a share root, for the picker    |
//	| POST /api/shares            | admin  | {"name", "path"} -> 201 {"name", "path", "saved"}     |
//	| PATCH /api/shares/{name}    | admin  | {"name": new} -> 200 {"name", "path", "saved"}        |
//	| DELETE /api/shares/{name}   | admin  | 204                                                   |
//
// Admin routes need the session cookie that a login sets (else 401), and
// those that change something also the session's CSRF token in the
// X-CSRF-Token header (else 403). A POST, PATCH or DELETE from another
// origin (by its Sec-Fetch-Site or Origin header) gets 403, whoever sends
// it. Bad input gets 400 and {"error": "..."}, which says what is wrong
// in words meant for the admin; so do the other errors of the API. JSON
// request bodies are limited to 4 KiB (413 beyond).
//
// Every response carries X-Content-Type-Options: nosniff, X-Frame-Options:
// DENY and a Content-Security-Policy that allows only the server's own
// scripts and styles and no framing; files from shares are served
// sandboxed, so an HTML file in a share cannot act as the page. A request
// whose Host header is not one of the server's names or addresses gets
// 403 (see Server.Handler), which defeats DNS rebinding.
//
// # Status JSON
//
// GET /api/status returns one object. Times are RFC 3339; sizes and
// rates are in bytes.
//
//	name                  friendly name
//	version               mediaftpd's version
//	started               when the server started (by the clock now)
//	uptime_seconds        how long it has run
//	ftp_urls              ["ftp://192.168.1.20/", ...]: one per address, port shown when not 21
//	mdns                  {"enabled", "advertising", "name", "host", "services", "interfaces",
//	                      "error"}: discovery.Status (error absent when all is well)
//	management            {"enabled": admin password set, "persistent": changes saved to a config file}
//	shares[]              one per share, in order:
//	  name, path
//	  state               "scanning", "watching", "polling", "offline" or "idle" (not indexed)
//	  reason              why it is offline, polling or scanning (may be absent)
//	  progress            {"files", "dirs"} counted so far by a running scan
//	  rescan_seconds      rescan interval; 0 when the folder is watched
//	  files, dirs, bytes  totals of the last complete index
//	  video, audio, image, other   files by kind (they add up to files)
//	sessions[]            one per FTP session, oldest first:
//	  id, remote ("host:port"), user, since
//	  transfer            null, or {"path", "listing", "offset", "size", "sent", "rate", "started"}
//	                      (size is 0 for a listing; sent is updated at least
//	                      every 16 MiB; rate is bytes per second over the
//	                      last few seconds)
//	dlna                  the DLNA server for TVs:
//	  enabled             false when DLNA is off (the rest is then empty)
//	  udn, subscriptions, system_update_id
//	  players[]           TVs and players that browsed or streamed in the last 15 minutes,
//	                      most recent first: {"name", "addr", "last_seen"}
//	  streams[]           files being streamed: {"share", "path", "client", "player",
//	                      "started", "size", "sent", "rate"}
//	  ssdp                its announcements: {"enabled", "announcing", "udn", "boot_id",
//	                      "interfaces", "searches", "answered", "replies", "notifies",
//	                      "dropped", "last_error"}
//	recent[]              files added last, newest first (at most 20):
//	  share, path, size, added, kind ("video", "audio", "image", "other")
//	process               {"goroutines", "heap_bytes"}: the server process's own
//	                      counts; with no session open they return to their
//	                      start-up values, and one that keeps growing is a leak
//
// # Share management
//
// Management is on when the admin password's bcrypt hash is set
// (Server.PasswordHash, written by `mediaftpd passwd`, see Passwd).
// A new share's folder must exist, be a folder mediaftpd can read, and
// lie under one of the share roots once ".." and symlinks are resolved;
// its name must be a valid share name, unique ignoring case. The change
// is made by the shares' one owner, library.Manager (Server.Manager): it
// is saved to the config file with internal/config's atomic writer, which
// keeps the file's comments and order, and then takes effect at once for
// FTP and the index.
package web
