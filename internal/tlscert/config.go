package tlscert

import "crypto/tls"

// tls12CipherSuites are the TLS 1.2 cipher suites ServerConfig allows:
// ECDHE key exchange (forward secrecy) with an AEAD cipher only. Go's
// default list also has ECDHE with AES-CBC and SHA-1 or SHA-256, left out
// here. TLS 1.3's suites are all AEAD and not configurable.
var tls12CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// ServerConfig returns a new *tls.Config for a server using s:
//
//   - TLS 1.2 and 1.3 only (MinVersion and MaxVersion).
//   - GetCertificate is s.GetCertificate, so a Reload applies to the next
//     handshake.
//   - TLS 1.2 cipher suites: ECDHE_ECDSA and ECDHE_RSA, each with
//     AES_128_GCM_SHA256, AES_256_GCM_SHA384 and CHACHA20_POLY1305_SHA256.
//     The RSA ones serve an RSA certificate from tls.cert.
//   - No renegotiation: a Go server never renegotiates and refuses a
//     client's attempt.
//   - Session tickets on, for resumption (a Go server resumes only from
//     tickets, keeps no session ID cache). Ticket keys are made per
//     Config and rotated daily: a server whose data connections must
//     resume the control connection's session serves both with one
//     Config, not one from each ServerConfig call.
func (s *Source) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS12,
		MaxVersion:             tls.VersionTLS13,
		GetCertificate:         s.GetCertificate,
		CipherSuites:           append([]uint16(nil), tls12CipherSuites...),
		SessionTicketsDisabled: false,
	}
}
