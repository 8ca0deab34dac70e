package tlscert

import "errors"

// The errors New and Reload return match these with errors.Is; their text
// names the setting or file concerned and says what to do.
var (
	// ErrHalfPair: only one of Options.CertFile and Options.KeyFile is set.
	ErrHalfPair = errors.New("tls.cert and tls.key must be set together")
	// ErrNoStateDir: neither the files nor a state folder to keep a
	// self-signed certificate in.
	ErrNoStateDir = errors.New("no TLS certificate: set state_dir (where a self-signed certificate is kept) or tls.cert and tls.key")
	// ErrNoCertificate: a certificate file holds no PEM CERTIFICATE block.
	ErrNoCertificate = errors.New("no PEM certificate found")
	// ErrNoKey: a key file holds no PEM private key.
	ErrNoKey = errors.New("no PEM private key found")
	// ErrEncryptedKey: the private key is protected by a passphrase,
	// which a server starting unattended cannot type.
	ErrEncryptedKey = errors.New("the private key is encrypted with a passphrase")
	// ErrKeyMismatch: the private key is not the certificate's.
	ErrKeyMismatch = errors.New("the private key does not match the certificate")
)
