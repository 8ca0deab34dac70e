// Package ftpd is a read-only FTP server for streaming media to players on
// a home network: Kodi, VLC, ffmpeg/mpv, Infuse, Nova, Windows Explorer,
// curl. Sessions are anonymous unless accounts are configured, and may be
// encrypted with explicit (AUTH TLS) or implicit FTPS.
//
// The virtual root "/" lists the shares as folders; "/<share>/<path>" is
// served through that share's os.Root, so no path, "..", or symlink can
// reach outside a share. Names starting with a dot are neither listed nor
// served, and only regular files and folders are shown.
//
// # Commands
//
// Access: USER, PASS, ACCT, QUIT.
// Navigation: CWD/XCWD, CDUP/XCUP, PWD/XPWD.
// Parameters: TYPE (A and I, both unconverted), MODE S, STRU F, PASV, EPSV
// (with EPSV ALL), PORT, EPRT.
// Transfers: RETR with REST, LIST, NLST, MLSD, ABOR.
// Information: SIZE, MDTM, MLST, STAT, SYST, FEAT, OPTS (UTF8, MLST),
// HELP, NOOP, ALLO.
// Security: AUTH TLS (AUTH SSL as an alias), PBSZ, PROT (P and C), CCC
// (refused).
//
// Written to follow RFC 959 (FTP), RFC 2389 (FEAT, OPTS), RFC 2428 (EPSV,
// EPRT), RFC 3659 (SIZE, MDTM, REST STREAM, MLST/MLSD, TVFS), RFC 2640
// (UTF-8 names), RFC 2228 and RFC 4217 (FTP over TLS), and the behaviour
// real players and FTPS clients rely on, which is what the tests check.
//
// # Accounts and access
//
// With Server.Accounts nil, any USER name and any PASS log in anonymously.
// With Accounts set and at least one account (Accounts.HasUsers), only
// "anonymous" and "ftp" (any case) are anonymous; every other name is
// checked with Accounts.Login, known or not, with the same replies: "331"
// to USER, then "230", "530 Login incorrect." or, after too many failures
// from the address, "421" and the end of the session. Accounts.Anonymous
// false refuses anonymous sessions at PASS ("530 Anonymous login is
// disabled on this server."), as vsftpd does. Server.RequireTLSForUsers
// refuses a named USER on a clear-text control connection at once ("530
// Non-anonymous sessions must use encryption (AUTH TLS)."), so the PASS
// line that follows gets 503 and is never checked. No password is ever
// logged, at any level, not even from a mistyped PASS line.
//
// What a session sees is Shares.Allows(share, account), account "" being
// anonymous, asked at every command: "/" lists only the shares it allows,
// and a path into any other share gets the very reply a share that does
// not exist gets, for every command. Server.EndSessions ends the sessions
// of accounts that were removed or changed. SessionInfo and STAT say who
// is logged in and whether the control and data connections are
// encrypted.
//
// # FTPS
//
// With Server.TLSConfig set, FEAT lists AUTH TLS, PBSZ and PROT, and:
//
//	AUTH TLS, AUTH SSL  234, then the TLS handshake within HandshakeTimeout;
//	                    a failed one ends the session. 503 once TLS is on,
//	                    504 for another mechanism, and 421 if the client sent
//	                    more before the 234 (clear text must not pass as
//	                    encrypted).
//	PBSZ n              200 PBSZ=0 under TLS; 503 before AUTH.
//	PROT P, PROT C      200: data connections TLS or clear; 503 before PBSZ;
//	                    PROT S and E 536 (RFC 2228), other levels 504.
//	CCC                 533: the control connection stays encrypted.
//
// Without TLSConfig, AUTH, PBSZ, PROT and CCC get 502, as before TLS
// existed. Server.ServeTLS serves implicit FTPS: the handshake comes first,
// and data is protected (PROT P) without PBSZ or PROT.
//
// Under PROT P the server is the TLS server of every data connection,
// passive or active, and the data connection must resume the control
// connection's TLS session (as vsftpd's require_ssl_reuse): each session
// has a session-ticket key of its own, so only its own client can resume.
// A data connection that does not resume gets the handshake and nothing
// more; the transfer's reply is "522 Data connections must resume the TLS
// session of the control connection." and the session goes on. So a stolen
// passive port gets nothing, even from the client's address. Clients need
// session tickets for this: TLS 1.3 clients have them; in TLS 1.2, curl
// (which turns tickets off and offers only session IDs, which crypto/tls
// servers do not keep) cannot resume, while Go, Python and GnuTLS clients
// can. A TLS 1.2 renegotiation request is answered with an alert, which
// ends that session.
//
// # Refused on purpose
//
// STOR, STOU, APPE, DELE, MKD/XMKD, RMD/XRMD, RNFR, RNTO, SITE, SMNT and
// REIN all get "550 Permission denied." from one handler: the server never
// changes anything on disk, for anonymous and accounts alike.
//
// # Transfers
//
// A transfer runs in its own goroutine so that the control connection is
// read meanwhile: ABOR during a transfer closes the data connection and
// gets "426" for the transfer and then "226"; ABOR with no transfer gets a
// single "225". The data connection may be made before or after the
// transfer command. Files are sent with sendfile(2); over TLS, which needs
// the bytes in user space, in 1 MiB reads. A running transfer is never
// idle; a client that takes no data for StallTimeout is dropped. A TLS
// data connection is ended with close_notify, after which the client has
// a few seconds to close its end before the final reply.
package ftpd
