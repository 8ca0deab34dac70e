package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	// certFileName and keyFileName are the self-signed pair's files in
	// the state folder.
	certFileName = "tls-cert.pem"
	keyFileName  = "tls-key.pem"
	// badSuffix is added to the name of a stored file that cannot be
	// used, when it is set aside.
	badSuffix = ".bad"

	// selfSignedValidity is how long a self-signed certificate is valid:
	// 825 days, the longest Apple's clients accept for a server.
	selfSignedValidity = 825 * 24 * time.Hour
	// backdate is how long before its making a certificate becomes
	// valid, for clients whose clock is a little behind.
	backdate = time.Minute
	// renewBefore: a self-signed certificate with less than this left is
	// replaced by New and Reload.
	renewBefore = 30 * 24 * time.Hour
)

// selfSigned is a new self-signed certificate with its PEM encodings.
type selfSigned struct {
	cert    *tls.Certificate
	certPEM []byte
	keyPEM  []byte
}

// newSelfSigned makes a self-signed ECDSA P-256 server certificate for
// the names and addresses, valid from a minute before now for
// selfSignedValidity. It is not a CA; clients can be given the certificate
// itself as their CA file all the same. Names that cannot be a DNS name in
// a certificate are left out and returned.
func newSelfSigned(now time.Time, names []string, addrs []netip.Addr) (*selfSigned, []string, error) {
	dnsNames, skipped := sanNames(names)
	cn := "mediaftpd"
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("making a key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	start := now.Add(-backdate)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"mediaftpd"}},
		NotBefore:    start,
		NotAfter:     start.Add(selfSignedValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// Not a CA (CA:FALSE): Go, OpenSSL, GnuTLS, curl and Chromium
		// take the file itself as their CA file all the same, Firefox
		// refuses a CA certificate used by a server, and a user who
		// trusts this one trusts nothing else the box's key might sign.
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           sanAddrs(addrs),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("making the certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("reading back the certificate made: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the key: %w", err)
	}
	return &selfSigned{
		cert:    &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, skipped, nil
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	b := make([]byte, 16)
	for {
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("making a serial number: %w", err)
		}
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
}

// sanNames returns names as DNS names for a certificate, lowercased,
// without duplicates, in order, and the names that cannot be one
// (empty, or with characters other than letters, digits, '-', '_' and
// '.'), which would make x509.CreateCertificate fail or clients choke.
func sanNames(names []string) (ok, skipped []string) {
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if !dnsName(n) {
			skipped = append(skipped, n)
			continue
		}
		if !slices.Contains(ok, n) {
			ok = append(ok, n)
		}
	}
	return ok, skipped
}

func dnsName(n string) bool {
	if n == "" || len(n) > 253 {
		return false
	}
	for _, c := range []byte(n) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// sanAddrs returns addrs as IP addresses for a certificate: unmapped,
// without zones (a certificate cannot carry one), without duplicates.
func sanAddrs(addrs []netip.Addr) []net.IP {
	var seen []netip.Addr
	var out []net.IP
	for _, a := range addrs {
		if !a.IsValid() {
			continue
		}
		a = a.Unmap().WithZone("")
		if slices.Contains(seen, a) {
			continue
		}
		seen = append(seen, a)
		out = append(out, net.IP(a.AsSlice()))
	}
	return out
}

// missingSANs returns the names and addresses that leaf does not list, as
// strings, for a log line.
func missingSANs(leaf *x509.Certificate, names []string, addrs []netip.Addr) []string {
	var out []string
	dnsNames, _ := sanNames(names)
	for _, n := range dnsNames {
		if !slices.Contains(leaf.DNSNames, n) {
			out = append(out, n)
		}
	}
	for _, ip := range sanAddrs(addrs) {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			out = append(out, ip.String())
		}
	}
	return out
}

// loadStored returns the self-signed pair kept in root, or nil and no
// error when there is none. A pair with one file missing, or that cannot
// be read or parsed, is an error.
func loadStored(root *os.Root) (*tls.Certificate, error) {
	certPEM, certErr := root.ReadFile(certFileName)
	keyPEM, keyErr := root.ReadFile(keyFileName)
	if errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist) {
		return nil, nil
	}
	certPath := filepath.Join(root.Name(), certFileName)
	keyPath := filepath.Join(root.Name(), keyFileName)
	if certErr != nil {
		return nil, fmt.Errorf("%s: %w", certPath, certErr)
	}
	if keyErr != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, keyErr)
	}
	return parsePair(certPEM, keyPEM, certPath, keyPath)
}

// setAside renames the stored pair's files that exist to their names with
// badSuffix, replacing files set aside earlier, and returns the new names.
func setAside(root *os.Root) ([]string, error) {
	var moved []string
	for _, name := range []string{certFileName, keyFileName} {
		if _, err := root.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := root.Rename(name, name+badSuffix); err != nil {
			return moved, fmt.Errorf("setting aside %s: %w", filepath.Join(root.Name(), name), err)
		}
		moved = append(moved, filepath.Join(root.Name(), name+badSuffix))
	}
	return moved, nil
}

// save writes the pair into root, each file atomically, the key first.
// A crash between the two leaves a key that does not match the
// certificate, which the next start sets aside.
func (ss *selfSigned) save(root *os.Root) error {
	if err := writeAtomic(root, keyFileName, ss.keyPEM, 0o600); err != nil {
		return err
	}
	return writeAtomic(root, certFileName, ss.certPEM, 0o644)
}

// writeAtomic replaces the file name in root with data and mode perm
// (whatever the umask): it is written to a temporary file in the same
// folder, synced, and renamed over name.
func writeAtomic(root *os.Root, name string, data []byte, perm fs.FileMode) (err error) {
	path := filepath.Join(root.Name(), name)
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := "." + name + ".tmp-" + hex.EncodeToString(suffix)
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			root.Remove(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := root.Rename(tmp, name); err != nil {
		return err
	}
	// The file is in place; syncing the folder makes the rename survive
	// a power cut.
	dir, err := root.Open(".")
	if err != nil {
		return fmt.Errorf("syncing the folder: %w", err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("syncing the folder: %w", err)
	}
	return nil
}
