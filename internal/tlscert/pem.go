package tlscert

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
)

// parsePair returns the certificate chain in certPEM with the private key
// in keyPEM, as tls.X509KeyPair does, with errors a user can act on.
// certName and keyName label the two inputs in errors, like
// "tls.cert /etc/ssl/box.pem".
func parsePair(certPEM, keyPEM []byte, certName, keyName string) (*tls.Certificate, error) {
	ders, sawKey := certBlocks(certPEM)
	if len(ders) == 0 {
		if sawKey {
			return nil, fmt.Errorf("%s: %w: it holds a private key (are tls.cert and tls.key swapped?)", certName, ErrNoCertificate)
		}
		return nil, fmt.Errorf("%s: %w (expected a \"-----BEGIN CERTIFICATE-----\" block, the server's certificate first)", certName, ErrNoCertificate)
	}
	leaf, err := x509.ParseCertificate(ders[0])
	if err != nil {
		return nil, fmt.Errorf("%s: the first certificate: %w", certName, err)
	}
	for i, der := range ders[1:] {
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", certName, i+2, err)
		}
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyName, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return nil, fmt.Errorf("%s: %w in %s", keyName, ErrKeyMismatch, certName)
	}
	return &tls.Certificate{Certificate: ders, PrivateKey: key, Leaf: leaf}, nil
}

// certBlocks returns the DER of every CERTIFICATE block in data, in order,
// and whether data holds a private key block.
func certBlocks(data []byte) (ders [][]byte, sawKey bool) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return ders, sawKey
		}
		switch {
		case b.Type == "CERTIFICATE":
			ders = append(ders, b.Bytes)
		case isKeyBlock(b.Type):
			sawKey = true
		}
	}
}

// isKeyBlock reports whether a PEM block type is a private key's, as
// tls.X509KeyPair decides it.
func isKeyBlock(typ string) bool {
	return typ == "PRIVATE KEY" || strings.HasSuffix(typ, " PRIVATE KEY")
}

// parseKey returns the first private key in data: PKCS #8, PKCS #1 (RSA)
// or SEC 1 (EC), RSA, ECDSA or Ed25519, the kinds crypto/tls can sign with.
// Other blocks, like the EC PARAMETERS that `openssl ecparam -genkey`
// writes first, are skipped.
func parseKey(data []byte) (crypto.Signer, error) {
	sawCert := false
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			sawCert = true
			continue
		}
		if !isKeyBlock(b.Type) {
			continue
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("%w; write it out without one (openssl pkey -in KEY -out NEWKEY) and keep that file readable only by mediaftpd's user", ErrEncryptedKey)
		}
		return parseKeyDER(b.Type, b.Bytes)
	}
	if sawCert {
		return nil, fmt.Errorf("%w: it holds a certificate (are tls.cert and tls.key swapped?)", ErrNoKey)
	}
	return nil, fmt.Errorf("%w (expected a \"-----BEGIN PRIVATE KEY-----\" block, or an RSA or EC one)", ErrNoKey)
}

// parseKeyDER parses a private key whatever its encoding, trying first
// the one its PEM type names.
func parseKeyDER(typ string, der []byte) (crypto.Signer, error) {
	var errs []error
	try := func(k any, err error) crypto.Signer {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if s, ok := k.(crypto.Signer); ok {
			return s
		}
		errs = append(errs, fmt.Errorf("a %T key cannot sign a TLS handshake", k))
		return nil
	}
	parsers := []func() crypto.Signer{
		func() crypto.Signer { return try(x509.ParsePKCS8PrivateKey(der)) },
		func() crypto.Signer { return try(x509.ParsePKCS1PrivateKey(der)) },
		func() crypto.Signer { return try(x509.ParseECPrivateKey(der)) },
	}
	switch typ {
	case "RSA PRIVATE KEY":
		parsers[0], parsers[1] = parsers[1], parsers[0]
	case "EC PRIVATE KEY":
		parsers[0], parsers[2] = parsers[2], parsers[0]
	}
	for _, p := range parsers {
		if k := p(); k != nil {
			return k, nil
		}
	}
	// The first parser tried is the one the type names: its error is
	// the one that explains.
	return nil, fmt.Errorf("cannot parse the %s: %w", strings.ToLower(typ), errs[0])
}

// fingerprint returns the SHA-256 of der as uppercase hex pairs joined by
// colons, as browsers and `openssl x509 -fingerprint -sha256` show it.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
