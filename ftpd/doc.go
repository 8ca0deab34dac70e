// Package ftpd is a read-only, anonymous FTP server for streaming media to
// players on a home network: Kodi, VLC, ffmpeg/mpv, Infuse, Nova, Windows
// Explorer, curl.
//
// The virtual root "/" lists the shares as folders; "/<share>/<path>" is
// served through that share's os.Root, so no path, "..", or symlink can
// reach outside a share. Names starting with a dot are neither listed nor
// served, and only regular files and folders are shown.
//
// # Commands
//
// Access: USER, PASS (any user name, any password), ACCT, QUIT.
// Navigation: CWD/XCWD, CDUP/XCUP, PWD/XPWD.
// Parameters: TYPE (A and I, both unconverted), MODE S, STRU F, PASV, EPSV
// (with EPSV ALL), PORT, EPRT.
// Transfers: RETR with REST, LIST, NLST, MLSD, ABOR.
// Information: SIZE, MDTM, MLST, STAT, SYST, FEAT, OPTS (UTF8, MLST),
// HELP, NOOP, ALLO.
//
// Written to follow RFC 959 (FTP), RFC 2389 (FEAT, OPTS), RFC 2428 (EPSV,
// EPRT), RFC 3659 (SIZE, MDTM, REST STREAM, MLST/MLSD, TVFS) and RFC 2640
// (UTF-8 names), and the behaviour real players rely on, which is what the
// tests check.
//
// # Refused on purpose
//
// STOR, STOU, APPE, DELE, MKD/XMKD, RMD/XRMD, RNFR, RNTO, SITE, SMNT and
// REIN all get "550 Permission denied." from one handler: the server never
// changes anything on disk. AUTH, PBSZ and PROT get 502 until TLS exists.
//
// # Transfers
//
// A transfer runs in its own goroutine so that the control connection is
// read meanwhile: ABOR during a transfer closes the data connection and
// gets "426" for the transfer and then "226"; ABOR with no transfer gets a
// single "225". The data connection may be made before or after the
// transfer command. Files are sent with sendfile(2). A running transfer is
// never idle; a client that takes no data for StallTimeout is dropped.
package ftpd
