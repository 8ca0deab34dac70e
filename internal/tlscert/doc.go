// Package tlscert gives mediaftpd's TLS front ends (explicit and implicit
// FTPS, the HTTPS status page) their server certificate.
//
// A Source holds one certificate and hands it out through
// tls.Config.GetCertificate, so that Reload can replace it while
// connections are being accepted. It comes from one of two places:
//
//   - The PEM files of the tls.cert and tls.key settings, read at New and
//     again at each Reload (SIGHUP). A reload that fails keeps the
//     certificate in use. An expired certificate is served, as Caddy and
//     nginx do, with a warning in the log: refusing to start would not
//     help the user replace it.
//   - Without them, a self-signed ECDSA P-256 certificate kept in the
//     state folder as tls-cert.pem and tls-key.pem, made at the first start
//     for the box's names and addresses, and reused afterwards so that its
//     fingerprint stays the same across restarts. It is valid for 825 days
//     (Apple's limit for server certificates) and renewed by New or Reload
//     when fewer than 30 days are left. It is not a CA (basic constraints
//     CA:FALSE), and yet the file itself can be given to a client as its CA
//     file: OpenSSL, GnuTLS, curl, Go and Chromium all accept a self-signed
//     server certificate that way (tested), while Firefox refuses a CA
//     certificate used by a server. A browser that does not
//     know it shows its usual warning, which a user can click through
//     after comparing the fingerprint.
//
// Either way the log says which certificate is used, when it expires and
// its SHA-256 fingerprint, in the form browsers and
// `openssl x509 -noout -fingerprint -sha256` show, so that a person can
// compare it with what their client asks them to accept.
package tlscert
