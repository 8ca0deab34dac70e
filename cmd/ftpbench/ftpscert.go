package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The FTPS servers present one certificate, which the bench makes for
// each run: an ECDSA P-256 key and a self-signed certificate for
// 127.0.0.1, not a CA, written as PEM into the work folder. vsftpd reads
// it through rsa_cert_file and rsa_private_key_file (OpenSSL takes any
// key type there), mediaftpd through tls.cert and tls.key. The bench's
// client trusts it as its one root.

// certHost is the name the certificate is made for and the client checks.
const certHost = "127.0.0.1"

// benchCert is the certificate the FTPS servers present.
type benchCert struct {
	certFile, keyFile string
	roots             *x509.CertPool
	desc              string // for the report: "ECDSA P-256, self-signed"
}

// makeCert writes a new key and certificate into dir.
func makeCert(dir string) (*benchCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ftpbench " + certHost},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.ParseIP(certHost)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c := &benchCert{
		certFile: filepath.Join(dir, "tls-cert.pem"),
		keyFile:  filepath.Join(dir, "tls-key.pem"),
		roots:    x509.NewCertPool(),
		desc:     "ECDSA P-256, self-signed by the bench",
	}
	c.roots.AddCert(cert)
	err = errors.Join(
		os.WriteFile(c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644),
		os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600),
	)
	if err != nil {
		return nil, fmt.Errorf("writing the certificate: %w", err)
	}
	return c, nil
}
