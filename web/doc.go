// Package web serves mediaftpd's status page: what the box is doing, for
// anyone on the network, logins for the admin and for named users, and
// share and user management for the admin. It uses
// net/http, html/template and assets embedded with //go:embed, with no
// CDN, web font or front-end build step, so it works on a network without
// internet. The page is one HTML document, a stylesheet with light and
// dark colours (prefers-color-scheme) and a small script.
//
// # Routes
//
//	| route                             | who    | what                                                  |
//	|-----------------------------------|--------|-------------------------------------------------------|
//	| GET /                             | anyone | the status page                                       |
//	| GET /assets/{name}                | anyone | stylesheet, script, icon (embedded)                   |
//	| GET /events                       | anyone | live updates: Server-Sent Events named "status"       |
//	|                                   |        | holding the page's status section as HTML             |
//	| GET /files/{share}/{path}         | anyone | browse folders, stream files (Range requests)         |
//	| GET /play/{share}/{path}          | anyone | the player of a video or audio file (resumes)         |
//	| GET /thumbs/{share}/{path}        | anyone | ?size=160, 320 or 640: a JPEG of a picture file, of   |
//	|                                   |        | an audio file's cover, of a video's frame (below)     |
//	| GET /subtitles/{share}/{path}     | anyone | an .srt, .ass, .ssa or .vtt file as WebVTT            |
//	| GET /api/status                   | anyone | the status as JSON (below)                            |
//	| GET /api/items/{share}/{path}     | anyone | a file's or folder's details as JSON (below)          |
//	| PUT /api/positions/{share}/{path} | anyone | {"seconds"} -> 204: where playing stopped             |
//	| GET /api/session                  | anyone | {"admin", "user", "csrf_token", "management",         |
//	|                                   |        | "persistent", "users"}                                |
//	| POST /api/login                   | anyone | {"password"}: the admin; {"user", "password"}: a user |
//	|                                   |        | -> 200 {"admin", "user", "csrf_token", ...} and a     |
//	|                                   |        | cookie; 401 wrong password (or user name); 429 too    |
//	|                                   |        | many wrong ones (Retry-After)                         |
//	| POST /api/logout                  | logged | 204: ends the admin's or the user's session           |
//	| GET /api/folders?path=P           | admin  | subfolders of P under a share root, for the picker    |
//	| POST /api/shares                  | admin  | {"name", "path"} -> 201 {"name", "path", "saved"}     |
//	| PATCH /api/shares/{name}          | admin  | {"name": new} -> 200 {"name", "path", "saved"}        |
//	| DELETE /api/shares/{name}         | admin  | 204                                                   |
//	| PUT /api/shares/{name}/access     | admin  | {"access": "public" or ["alice"]} -> 200 {"name",     |
//	|                                   |        | "access", "saved"}                                    |
//	| GET /api/users                    | admin  | {"users": [{"name", "shares"}]}: shares are the       |
//	|                                   |        | private shares each user sees                         |
//	| POST /api/users                   | admin  | {"name", "password"} -> 201 {"name", "shares",        |
//	|                                   |        | "saved"}; 409 if the name is taken (ignoring case)    |
//	| PUT /api/users/{name}/password    | admin  | {"password"} -> 200 {"name", "shares", "saved"}       |
//	| PUT /api/users/{name}/shares      | admin  | {"shares": [private shares]} -> 200 {"name",          |
//	|                                   |        | "shares", "saved"}                                    |
//	| DELETE /api/users/{name}          | admin  | 204; 409 when the user is the only one a private      |
//	|                                   |        | share lists (it would become public)                  |
//
// "logged" routes need the session cookie that a login sets, the admin's
// or a user's, and admin routes the admin's (else 401 without a session,
// 403 with a user's). Those that change something also need the
// session's CSRF token in the X-CSRF-Token header (else 403). A POST,
// PUT, PATCH or DELETE from another origin (by its Sec-Fetch-Site or
// Origin header) gets 403, whoever sends it. Bad input gets 400 and
// {"error": "..."}, which says what is wrong in words meant for the
// admin, and changes nothing; so do the other errors of the API: 404 for
// a user or share named in the path that does not exist, 409 for a change
// that would leave a private share without users. JSON request bodies are
// limited to 4 KiB (413 beyond).
//
// # Who sees what
//
// Every answer is made for the one who asks. The admin (logged in with
// the admin password) sees every share. A user logged in with their name
// and password sees the public shares and the private shares that list
// them (library's one access rule, Set.Scope). Anyone else sees the
// public shares. A share someone may not see does not exist for them: a
// path into it, through any route (/files, /play, /thumbs, /subtitles,
// /api/items, /api/positions), gets the same answer as a path into a
// share that does not exist, byte for byte, and its name, counts, recent
// files, state and path appear nowhere on the page, in /api/status or in
// the live updates. FTP transfers in a share the viewer may not see are
// shown as "hidden", without path or sizes; DLNA streams from it are left
// out; FTP sessions' user and account names are shown to the admin, and
// to a user for their own sessions only; how far reading media details
// is, a figure over all shares, is shown only to those who see them all.
// Files and pictures of a private share are sent with Cache-Control:
// private.
//
// # Logins
//
// A login starts a session: a random ID in an HttpOnly, SameSite=Strict
// cookie, Secure over HTTPS, and a CSRF token. The admin password and the
// users' passwords are all checked through accounts.Users (Server.Users),
// one at a time, with bcrypt, in the same time for an unknown user name
// as for a wrong password, and under one throttle per client address
// that FTP shares: each wrong password is answered after a delay, and
// after accounts.MaxFailures in a row the address gets 429 with
// Retry-After for a while, whichever password it tries. A user's sessions
// end at once when the user is removed or gets a new password (from the
// page, `mediaftpd passwd --user`, or a reload: EndUserSessions); an open
// page's live updates then show what a visitor sees. The admin's sessions
// end when the admin password changes. Passwords are never logged.
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
//	tls_fingerprint       SHA-256 fingerprint of the FTPS and HTTPS certificate, as
//	                      "AB:CD:...", for a person to compare with what their client
//	                      shows; "" without a certificate
//	management            {"enabled": admin password set, "persistent": changes saved to a
//	                      config file, "users": users can log in (there are accounts)}
//	viewer                {"admin", "user"}: who the status was made for ("user" is ""
//	                      for the admin and for visitors)
//	shares[]              one per share the viewer sees, in order:
//	  name, path
//	  private             whether only some users see the share
//	  access              the users it is private to; for the admin only
//	  state               "scanning", "watching", "polling", "offline" or "idle" (not indexed)
//	  reason              why it is offline, polling or scanning (may be absent)
//	  progress            {"files", "dirs"} counted so far by a running scan
//	  rescan_seconds      rescan interval; 0 when the folder is watched
//	  files, dirs, bytes  totals of the last complete index
//	  video, audio, image, other   files by kind (they add up to files)
//	sessions[]            one per FTP session, oldest first:
//	  id, remote ("host:port"), since
//	  user, account       the name given to USER and the account logged in ("" for
//	                      anonymous); both "" unless the viewer is the admin or
//	                      that account
//	  tls, data_tls       whether commands, and files (PROT P), are encrypted
//	  transfer            null, or {"path", "listing", "offset", "size", "sent", "rate", "started"}
//	                      (size is 0 for a listing; sent is updated at least
//	                      every 16 MiB; rate is bytes per second over the
//	                      last few seconds); in a share the viewer may not
//	                      see, {"hidden": true} with every other field zero
//	dlna                  the DLNA server for TVs:
//	  enabled             false when DLNA is off (the rest is then empty)
//	  udn, subscriptions, system_update_id
//	  players[]           TVs and players that browsed or streamed in the last 15 minutes,
//	                      most recent first: {"name", "addr", "last_seen"}
//	  streams[]           files being streamed from shares the viewer sees: {"share",
//	                      "path", "client", "player", "started", "size", "sent", "rate"}
//	  ssdp                its announcements: {"enabled", "announcing", "udn", "boot_id",
//	                      "interfaces", "searches", "answered", "replies", "notifies",
//	                      "dropped", "last_error"}
//	recent[]              files added last to the shares the viewer sees, newest first
//	                      (at most 20):
//	  share, path, size, added, kind ("video", "audio", "image", "other")
//	details               reading the media details of the files (Server.Details):
//	                      {"enabled", "running", "checked", "total", "probed"}: while
//	                      running, checked of total media files were looked up and
//	                      probed of them read (the page shows "Reading media
//	                      details: 4,210 of 10,000"); enabled is false without a
//	                      state folder; for a viewer who does not see every
//	                      share only enabled is given, the rest being zero
//	process               {"goroutines", "heap_bytes"}: the server process's own
//	                      counts; with no session open they return to their
//	                      start-up values, and one that keeps growing is a leak
//	users[]               for the admin only: {"name", "shares"}, the users with the
//	                      private shares each sees
//
// # Media details
//
// With Server.Details, Thumbs and Positions set (the app sets them when it
// has a state folder), the folder view shows each entry with a picture
// and what is inside it: a video's running time, picture size and
// subtitle languages, a song's title, artist, album and track, a photo's
// size and when it was taken. A folder is listed from the index, which
// knows the version (size, time, inode) of each file its details belong
// to, folders first, then files, each by natural order; one the index
// cannot answer for (a share being scanned, a folder reached through a
// symlink to one indexed elsewhere) is read from the disk and shown
// without details. A video's or song's name leads to the player; the
// file itself is one link further.
//
// An item's picture is its artwork (library.Artwork over the names of its
// folder: "Film-poster.jpg", "Film.jpg", a lone film's "poster.jpg", an
// album's "cover.jpg"), else an audio file's embedded cover art, else a
// frame of a video when Thumbs grabs frames (Thumbs.Frames); a photo is its own
// picture and a folder has its own (library.FolderArtwork). GET /thumbs
// makes a JPEG of the file it names (a picture file, an audio file's
// cover, a video's frame), kept on disk by Server.Thumbs; its URL carries
// the file's version (v=...), and such a URL is cached by the browser for
// good (Cache-Control: immutable), others are revalidated by their ETag.
//
// GET /api/items/{share}/{path} returns an item as one JSON object; a
// path that the shares' one visibility rule hides (or that does not
// exist) gets 404, an offline share 503. Keys of unknown values are left
// out:
//
//	share, path, name     where it is ("." and the share's name for its folder)
//	kind                  "video", "audio", "image", "other" or "folder"
//	size, modified        bytes; RFC 3339
//	url                   /files/... where it is served (a folder's, with "/")
//	play_url              /play/... for a video or audio file
//	details_known         whether the file's details have been read; then:
//	container             "mp4", "matroska", "webm", "mp3", "flac", "jpeg", ...
//	duration_seconds      running time
//	width, height         picture size in pixels
//	video_codec, audio_codec  ffprobe's names: "h264", "vp9", "aac", "opus", ...
//	bitrate               bits per second, over the whole file
//	channels, sample_rate first audio track's; Hz
//	title, artist, album, track, year   tags
//	taken                 when a photo was taken, RFC 3339: the camera's wall
//	                      clock, in UTC ("Z") unless the file gives its offset
//	subtitles[]           a video's subtitle files, best first: {"path", "lang"
//	                      ("en", "pt-BR", "" if unknown), "format" ("srt", "ass",
//	                      "ssa", "vtt"), "forced", "sdh", "url" (/subtitles/...,
//	                      WebVTT)}; [] for others
//	artwork               /thumbs/...?size=320&v=... its picture (size=160 or 640
//	                      for other sizes)
//	position_seconds      where playing it stopped last; 0 for the start
//
// # The player and positions
//
// GET /play/{share}/{path} is the browser's own player for a video or
// audio file (anything else is redirected to /files), with its subtitles
// as <track> elements: GET /subtitles converts SRT and ASS/SSA to WebVTT
// on the fly (see subtitleToVTT) and passes WebVTT through. Its script
// resumes where playing stopped, here or on another device (a Samsung
// TV's bookmark is the same position), offers to start over, and keeps
// the position with PUT /api/positions/{share}/{path} and a JSON body
// {"seconds": N}: every 10 seconds while playing, on pause, on a seek
// while paused, and when the page is left; 0 (near the end, or start
// over) removes it. 404 for a file that is not a visible video or audio
// file, or when positions are not kept (no state folder); 400 for
// seconds out of 0 to a week; 415 for a body that is not
// application/json.
//
// Positions are not admin actions: whoever may play a file may say where
// they stopped, so they need no login and no CSRF token. Other web sites
// cannot write them through a visitor's browser: a PUT from another origin
// is refused (403) like every change, the Host check defeats DNS
// rebinding, and the JSON content type cannot be sent cross-site without a
// CORS preflight, which this server never grants.
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
//
// # User management
//
// The admin adds users (a name as config.CheckUserName allows, unique
// ignoring case, and a password of at least 8 characters), sets their
// passwords, picks the private shares each sees, makes a share public or
// private to some users, and removes users. A user who is the only one a
// private share lists cannot be removed, nor have that share taken away
// (409): the share would become public; make it public or give it to
// another user first. The page checks what it is sent before anything
// changes (the users and shares named must exist, a share given to a user
// must be private), then hands the change to its one owner,
// accounts.Manager (Server.Accounts) for users, library.Manager for a
// share's access; both save it to the config file as shares are saved,
// and apply it at once, for FTP too. The page shows the users in a card
// of the status, each with boxes of the private shares, and each share's
// card a "seen by" line of boxes: everyone, or some users.
//
// # HTTPS
//
// With Server.TLSConfig (web.tls in the config file, with the certificate
// of FTPS) the page is served over HTTPS on its one address: Listener
// looks at the first byte of each connection, within 10 s, and serves a
// TLS handshake (0x16) as HTTPS and anything else as plain HTTP, which is
// redirected to https:// on the same host, port, path and query (301 for
// GET and HEAD, 308 for other methods), after the Host check. There is no
// HSTS: the certificate is usually self-signed, and a browser that
// remembered HSTS would not let its user accept it after checking the
// fingerprint, which the page shows to everyone.
package web
